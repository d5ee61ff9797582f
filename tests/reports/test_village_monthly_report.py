"""The village monthly report for the months of the period: the officer's account and the
month's figures (as submitted, or counted now when nothing was submitted)."""

import datetime
import io

from django.utils import timezone
from openpyxl import load_workbook

from pillars import services as pillar_services
from pillars.models import MonthlyReport, Outreach, PillarKind
from reports.builders.village_monthly import collect
from reports.models import ReportFormat, ReportJob, ReportKind
from tests.migrants.factories import ARJOWILANGUN
from tests.reports.helpers import ask, fresh


def this_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def previous(month: datetime.date) -> datetime.date:
    return (month - datetime.timedelta(days=1)).replace(day=1)


def outreach(actor, *, on: datetime.date, women: int) -> None:
    record = Outreach(
        village_id=ARJOWILANGUN, date=on, topic="Migrasi aman", attendees_female=women
    )
    pillar_services.record_create(actor=actor, instance=record, kind=PillarKind.SERVICE_CENTRE)


def submitted_report(world, *, narrative: str) -> MonthlyReport:
    officer = world["officer_arjowilangun"]
    report = pillar_services.report_save(
        actor=officer,
        village_code=ARJOWILANGUN,
        month=this_month(),
        narrative=narrative,
        obstacles="Hujan deras",
        plans="Sosialisasi lagi",
    )
    return pillar_services.report_submit(actor=officer, report=report)


def built(user, django_capture_on_commit_callbacks, **kwargs) -> ReportJob:
    with django_capture_on_commit_callbacks(execute=True):
        job = ask(user, kind=ReportKind.VILLAGE_MONTHLY, scope=ARJOWILANGUN, **kwargs)
    job = fresh(job)
    assert job.state == ReportJob.State.DONE, job.error
    return job


def test_the_xlsx_has_the_account_and_a_sheet_per_section_with_a_column_per_month(
    world, media, django_capture_on_commit_callbacks
):
    officer = world["officer_arjowilangun"]
    month, before = this_month(), previous(this_month())
    outreach(officer, on=timezone.localdate(), women=12)
    submitted_report(world, narrative="=Bulan yang ramai")
    outreach(officer, on=timezone.localdate(), women=5)  # after submitting: not in the snapshot

    job = built(officer, django_capture_on_commit_callbacks, start=before, end=month)
    workbook = load_workbook(io.BytesIO((media / job.file).read_bytes()))
    assert workbook.sheetnames[:3] == ["About", "Report", "Register"]
    assert "Outreach events" in workbook.sheetnames
    account = list(workbook["Report"].iter_rows(values_only=True))
    assert account[0][:2] == ("Month", "State")
    assert [row[1] for row in account[1:]] == ["not written", "submitted"]
    assert account[2][4] == "'=Bulan yang ramai"  # typed by a person: never a formula
    assert account[2][5:7] == ("Hujan deras", "Sosialisasi lagi")

    outreach_rows = list(workbook["Outreach events"].iter_rows(values_only=True))
    assert len(outreach_rows[0]) == 3  # the figure, then one column per month
    women = next(row for row in outreach_rows if row[0] == "Women attending")
    assert women[2] == 12  # as submitted
    assert workbook["Outreach events"].freeze_panes == "A2"


def test_a_month_without_a_submitted_report_is_counted_from_the_registers(
    world, media, django_capture_on_commit_callbacks
):
    officer = world["officer_arjowilangun"]
    outreach(officer, on=timezone.localdate(), women=7)
    job = built(officer, django_capture_on_commit_callbacks, start=this_month())
    months = collect(ReportJob.objects.select_related("scope").get(pk=job.pk), lambda v: None)
    assert len(months) == 1
    assert months[0].report is None
    assert months[0].snapshot is False
    outreach_section = dict(months[0].sections)["Outreach events"]
    assert ("Women attending", 7) in outreach_section


def test_the_pdf_has_the_account_and_the_figures(
    world, media, monkeypatch, django_capture_on_commit_callbacks
):
    from reports.builders import village_monthly

    seen = {}
    original = village_monthly.render_pdf

    def capture(**kwargs):
        seen.update(kwargs["context"])
        original(**kwargs)

    monkeypatch.setattr(village_monthly, "render_pdf", capture)
    submitted_report(world, narrative="Bulan yang ramai.")
    job = built(
        world["coordinator_malang"],
        django_capture_on_commit_callbacks,
        start=this_month(),
        format=ReportFormat.PDF,
    )
    assert (media / job.file).read_bytes().startswith(b"%PDF")
    assert job.size > 1000
    (month,) = seen["months"]
    assert month.report.narrative == "Bulan yang ramai."
    assert month.snapshot


def test_a_report_for_an_area_that_is_not_a_village_fails_with_a_reason(
    world, media, django_capture_on_commit_callbacks
):
    # request_report refuses it; a job made some other way fails with a reason, not a crash.
    job = ReportJob.objects.create(
        kind=ReportKind.VILLAGE_MONTHLY,
        format=ReportFormat.XLSX,
        scope_id="35.07",
        period_start=this_month(),
        period_end=this_month(),
        idempotency_key="not-a-village",
    )
    from reports.tasks import build_report

    build_report(str(job.pk))
    job = fresh(job)
    assert job.state == ReportJob.State.FAILED
    assert job.error == "The village monthly report is made for one village."
