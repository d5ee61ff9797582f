"""Shared by the report-job tests (test_jobs, test_views, test_register_report,
test_village_monthly_report, test_worker): a short way to ask for a report and to look at
its files."""

import datetime
from pathlib import Path

from django.utils import timezone

from reports import services
from reports.models import ReportFormat, ReportJob, ReportKind


def last_month() -> datetime.date:
    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def ask(
    user,
    *,
    kind: str = ReportKind.REGISTER,
    format: str = ReportFormat.XLSX,
    scope: str | None = "",
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    cohort: int | None = None,
) -> ReportJob:
    """request_report with the user's own scope and last month unless told otherwise
    (scope=None: the country)."""
    month = last_month()
    return services.request_report(
        user=user,
        kind=kind,
        format=format,
        scope_code=user.scope_id if scope == "" else scope,
        period_start=start or month,
        period_end=end or start or month,
        cohort_year=cohort,
    )


def fresh(job: ReportJob) -> ReportJob:
    return ReportJob.objects.get(pk=job.pk)


def files_of(job: ReportJob, media: Path) -> list[Path]:
    """Every file of the job under the reports directory, temporary ones included."""
    root = Path(media) / "reports"
    return sorted(p for p in root.rglob("*") if p.is_file() and str(job.pk) in p.name)
