"""The village monthly report (laporan bulanan desa) for each month of the period: the
officer's account (narrative, obstacles, plans, the coordinator's comment) and the month's
figures, as submitted, or counted from the registers when no report was submitted."""

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from pillars.models import MonthlyReport, ServiceType
from pillars.services import month_figures
from reports.builders.base import (
    INTEGER,
    TEXT,
    WRAP,
    Column,
    Progress,
    ProgressSteps,
    ReportError,
    XlsxReport,
    month_label,
    months,
)
from reports.models import ReportFormat, ReportJob
from reports.pdf import render_pdf


@dataclass
class Month:
    month: datetime.date
    report: MonthlyReport | None
    figures: dict
    snapshot: bool  # the figures as submitted, not counted now
    sections: list[tuple[str, list[tuple[str, object]]]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return month_label(self.month)

    @property
    def state_label(self) -> str:
        return str(self.report.get_state_display()) if self.report else _("not written")


def figure_sections(figures: dict) -> list[tuple[str, list[tuple[str, object]]]]:
    """The figures as titled lists of (label, number). Keys this code does not know (a
    snapshot taken by another version) keep their name rather than being dropped."""
    from pillars.views.reports import FIGURES

    sections, known = [], set()
    for section, title, rows in FIGURES:
        known.add(section)
        values = figures.get(section)
        if not isinstance(values, dict):
            continue
        shown, labelled = [], set()
        for key, label, _money in rows:
            labelled.add(key)
            if key in values:
                shown.append((str(label), values[key]))
        if section == "services":
            labelled.add("by_type")
            for code, count in sorted((values.get("by_type") or {}).items()):
                name = ServiceType(code).label if code in ServiceType.values else code
                shown.append((_("of which: %(service)s") % {"service": name}, count))
        shown += [
            (key, value)
            for key, value in values.items()
            if key not in labelled and not isinstance(value, dict)
        ]
        sections.append((str(title), shown))
    for section, values in figures.items():
        if section not in known and isinstance(values, dict):
            sections.append(
                (section, [(k, v) for k, v in values.items() if not isinstance(v, dict)])
            )
    return sections


def collect(job: ReportJob, progress: Progress) -> list[Month]:
    if job.scope is None or job.scope.level != job.scope.Level.VILLAGE:
        raise ReportError(_("The village monthly report is made for one village."))
    wanted = months(job.period_start, job.period_end)
    reports = {
        report.month: report
        for report in MonthlyReport.objects.filter(
            village_id=job.scope_id, month__in=wanted
        ).select_related("submitted_by", "verified_by")
    }
    steps = ProgressSteps(progress, len(wanted), start=5, end=70)
    result = []
    for month in wanted:
        report = reports.get(month)
        snapshot = bool(report and report.state != MonthlyReport.State.DRAFT and report.figures)
        figures = report.figures if snapshot else month_figures(job.scope_id, month)
        result.append(Month(month, report, figures, snapshot, sections=figure_sections(figures)))
        steps.advance()
    return result


NOTE = gettext_noop(
    "Figures of a submitted report are as counted when it was submitted; the others are "
    "counted from the registers as they were when this file was made."
)


def build(job: ReportJob, path: Path, progress: Progress) -> None:
    data = collect(job, progress)
    if job.format == ReportFormat.PDF:
        render_pdf(
            template_name="reports/pdf/village_monthly.html",
            job=job,
            path=path,
            context={"months": data, "note": _(NOTE)},
        )
    else:
        _xlsx(job, path, data)
    progress(100)


def _when(at, who) -> str:
    if at is None:
        return ""
    text = formats.date_format(at, "Y-m-d H:i") if isinstance(at, datetime.datetime) else str(at)
    return f"{text} · {who.display_name}" if who else text


def _xlsx(job: ReportJob, path: Path, data: list[Month]) -> None:
    with XlsxReport(path, job=job) as report:
        report.about_sheet(job, notes=[_(NOTE)])
        account = report.sheet(
            _("Report"),
            [
                Column(_("Month"), 16),
                Column(_("State"), 14),
                Column(_("Submitted"), 26),
                Column(_("Verified"), 26),
                Column(_("What happened this month"), 60, WRAP),
                Column(_("Obstacles"), 40, WRAP),
                Column(_("Plans for next month"), 40, WRAP),
                Column(_("Coordinator's comment"), 40, WRAP),
            ],
        )
        for month in data:
            r = month.report
            account.append(
                [
                    month.label,
                    month.state_label,
                    _when(r.submitted_at, r.submitted_by) if r else "",
                    _when(r.verified_at, r.verified_by) if r else "",
                    r.narrative if r else "",
                    r.obstacles if r else "",
                    r.plans if r else "",
                    r.review_comment if r else "",
                ]
            )
        # One sheet per section: a row per figure, a column per month.
        titles: list[str] = []
        for month in data:
            titles += [title for title, _rows in month.sections if title not in titles]
        for title in titles:
            labels: list[str] = []
            values: dict[tuple[str, datetime.date], object] = {}
            for month in data:
                for section, rows in month.sections:
                    if section != title:
                        continue
                    for label, value in rows:
                        if label not in labels:
                            labels.append(label)
                        values[(label, month.month)] = value
            sheet = report.sheet(
                title,
                [Column(_("Figure"), 42, TEXT)]
                + [Column(month.label, 16, INTEGER) for month in data],
            )
            for label in labels:
                sheet.append([label, *(values.get((label, m.month)) for m in data)])
