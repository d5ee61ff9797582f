"""The register export as a report: every person of the area (masked NIK and No. KK, no
children), one row each with their latest migration, as the register's own export writes it.

The xlsx holds everyone, streamed; the PDF is for reading, not for data: a summary by village
and status, then the first PDF_ROWS people, with a note saying so.
"""

import datetime
from pathlib import Path

from django.db.models import Count, Q, QuerySet
from django.utils import formats
from django.utils.translation import gettext as _

from migrants.columns import COLUMNS
from migrants.models import Person, Sex, Status, child_cutoff
from migrants.spreadsheets import export_header, iter_export_rows
from reports.builders.base import (
    DATE,
    IDENTIFIER,
    TEXT,
    Column,
    Progress,
    ProgressSteps,
    XlsxReport,
    scope_q,
)
from reports.models import ReportFormat, ReportJob
from reports.pdf import render_pdf
from villages.models import Region

PDF_ROWS = 200
CHUNK = 2000


def people(job: ReportJob) -> QuerySet[Person]:
    """The people of the job's area and cohort: alive, adults only (children's records are
    not handed out in files), in a stable order."""
    queryset = Person.objects.alive().filter(
        scope_q(job.scope_id, "village"), birth_date__lte=child_cutoff()
    )
    if job.cohort_year:
        queryset = queryset.filter(village__designation__cohort_year=job.cohort_year)
    return queryset.order_by("village_id", "name_key", "id")


def notes(count: int) -> list[str]:
    return [
        _("%(count)s people, each with their latest migration.")
        % {"count": formats.number_format(count, force_grouping=True)},
        _("NIK and No. KK are masked. Children under 18 are not included."),
        _("Personal data (UU 27/2022): keep this file safe and do not share it further."),
    ]


def build(job: ReportJob, path: Path, progress: Progress) -> None:
    if job.format == ReportFormat.PDF:
        _pdf(job, path, progress)
    else:
        _xlsx(job, path, progress)


def _xlsx(job: ReportJob, path: Path, progress: Progress) -> None:
    queryset = people(job)
    count = queryset.count()
    steps = ProgressSteps(progress, count, start=5, end=95)
    columns = [
        Column(
            header,
            width=column.width,
            kind=IDENTIFIER if column.is_identifier else DATE if column.is_date else TEXT,
        )
        for header, column in zip(export_header(), COLUMNS, strict=True)
    ]
    with XlsxReport(path, job=job) as report:
        report.about_sheet(job, notes=notes(count))
        sheet = report.sheet(_("Register"), columns)
        for n, row in enumerate(iter_export_rows(queryset, full_nik=False, chunk_size=CHUNK), 1):
            sheet.append(row)
            if n % CHUNK == 0:
                steps.advance(CHUNK)
    progress(100)


def _pdf(job: ReportJob, path: Path, progress: Progress) -> None:
    queryset = people(job)
    by_village = list(
        queryset.order_by()
        .values("village_id", "village__name")
        .annotate(
            total=Count("*"),
            **{status: Count("id", filter=Q(status=status)) for status in Status.values},
            women=Count("id", filter=Q(sex=Sex.FEMALE)),
        )
        .order_by("village_id")
    )
    progress(30)
    statuses = Status.values
    villages = [
        {
            "code": row["village_id"],
            "label": Region(code=row["village_id"], name=row["village__name"] or "").label,
            "counts": [row["total"], row["women"], *(row[status] for status in statuses)],
        }
        for row in by_village
    ]
    totals = [sum(column) for column in zip(*(v["counts"] for v in villages), strict=True)]
    shown = [index for index, column in enumerate(COLUMNS) if column.key in PDF_COLUMNS]
    header = export_header()
    rows = [
        [_pdf_text(row[index]) for index in shown]
        for row in iter_export_rows(queryset[:PDF_ROWS], full_nik=False)
    ]
    progress(60)
    count = totals[0] if totals else 0
    render_pdf(
        template_name="reports/pdf/register.html",
        job=job,
        path=path,
        context={
            "villages": villages,
            "totals": totals,
            "count_headers": [
                _("People"),
                _("Women"),
                *(_capfirst(label) for label in Status.labels),
            ],
            "header": [header[index] for index in shown],
            "rows": rows,
            "count": count,
            "pdf_rows": PDF_ROWS,
            "notes": notes(count),
        },
    )
    progress(100)


PDF_COLUMNS = {
    "nik",
    "full_name",
    "sex",
    "village",
    "status",
    "destination_country",
    "departure_date",
    "return_date",
}


def _capfirst(text) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


def _pdf_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)
