"""The national evaluation report (or a province's, a regency's): coverage, the pillar matrix,
the indicators and data quality for the job's area, period and cohort.

It reads the summary tables (dashboards.models.Fact, PillarActivity) and the designations (a few
hundred rows), never the register row by row: a fixed number of queries builds it in seconds
whatever the number of people (issue 6, item 6). The figures are as fresh as the summaries,
and the report says when they were refreshed.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import Sum
from django.http import Http404
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from dashboards.indicators import LEVEL_NAMES, TOP, Dashboard, dashboard
from dashboards.models import NATIONAL, Fact, PillarActivity
from pillars.models import Pillar, Referral
from pillars.services import active_since
from reports.builders.base import ReportError, month_label
from reports.builders.figures import (
    Period,
    area_q,
    period_of,
    reader_of,
)
from reports.builders.tables import (
    DATE,
    INT,
    MONEY,
    PERCENT,
    TEXT,
    YEAR,
    Chart,
    Document,
    Progress,
    Section,
    Table,
    printed,
    write_pdf,
    write_xlsx,
)
from reports.charts import bar_chart, line_chart
from reports.models import ReportFormat, ReportJob
from reports.pdf import png_data_uri
from villages.models import Designation, Region

CODE_LENGTH = {1: 2, 2: 5, 3: 8, 4: 13}
QUALITY = ("total", "missing_nik", "nik_warnings", "unverified")


@dataclass
class Breakdown:
    """A row of a table broken down by region: `inner` regions (regencies, nationally) under
    their `outer` region (provinces); a subtotal row has no inner region."""

    outer: str
    outer_label: str
    code: str
    label: str
    values: list[int]
    subtotal: bool = False


@dataclass
class InactiveVillage:
    code: str
    village: str
    regency: str
    cohort: int
    inactive: list[str]
    last_activity: datetime.date | None


@dataclass
class Evaluation:
    job: ReportJob
    period: Period
    cohort: int | None
    levels: tuple[str, str]  # the names of the outer and inner levels ("province", "regency")
    board: Dashboard
    cohorts: list[int] = field(default_factory=list)
    coverage: list[Breakdown] = field(default_factory=list)  # per cohort, then total and active
    pillars: list[str] = field(default_factory=list)
    matrix: list[Breakdown] = field(default_factory=list)  # villages, per pillar, all pillars
    inactive: list[InactiveVillage] = field(default_factory=list)
    quality: list[Breakdown] = field(default_factory=list)  # QUALITY, in that order
    designated: int = 0  # every designation of the area (and cohort)
    villages: int = 0  # the active ones
    villages_all_pillars: int = 0

    @property
    def month_labels(self) -> list[str]:
        return [month_label(month) for month in self.board.months]

    @property
    def refreshed_at(self) -> str:
        refreshed = self.board.refreshed_at
        if refreshed is None:
            return _("never: the summaries have not been built yet")
        from django.utils import timezone

        return timezone.localtime(refreshed).strftime("%Y-%m-%d %H:%M")


def _levels(job: ReportJob) -> tuple[int, int]:
    """The levels the tables break the area down by: the two below the area's own."""
    level = job.scope.level if job.scope else 0
    return min(level + 1, 4), min(level + 2, 4)


def _breakdown(
    values: dict[str, list[int]], outer: int, inner: int, labels: dict[str, str], width: int
) -> list[Breakdown]:
    """Rows per inner region, with a subtotal row before each outer region's rows (when the two
    levels differ)."""
    rows: list[Breakdown] = []
    by_outer: dict[str, list[str]] = defaultdict(list)
    for code in values:
        by_outer[code[: CODE_LENGTH[outer]]].append(code)
    for outer_code in sorted(by_outer, key=lambda c: (labels.get(c, c), c)):
        inner_codes = sorted(by_outer[outer_code], key=lambda c: (labels.get(c, c), c))
        outer_label = labels.get(outer_code, outer_code)
        if outer != inner:
            totals = [sum(values[c][i] for c in inner_codes) for i in range(width)]
            rows.append(Breakdown(outer_code, outer_label, "", "", totals, subtotal=True))
        rows += [
            Breakdown(outer_code, outer_label, c, labels.get(c, c), values[c]) for c in inner_codes
        ]
    return rows


def evaluation(job: ReportJob) -> Evaluation:
    """The report's figures, in a fixed number of queries."""
    reader = reader_of(job)
    period = period_of(job)
    outer, inner = _levels(job)
    inner_width = CODE_LENGTH[inner]
    try:
        board = dashboard(
            reader,
            job.scope_id,
            cohort=job.cohort_year,
            start=period.first,
            end=period.last.replace(day=1),
        )
    except Http404:
        raise ReportError(_("This area is not in your scope.")) from None
    level_names = {
        1: _("province"),
        2: _("regency/city"),
        3: _("district"),
        4: _("village"),
    }
    result = Evaluation(
        job=job,
        period=period,
        cohort=job.cohort_year,
        levels=(level_names[outer], level_names[inner]),
        board=board,
    )

    # Coverage: every designation of the area (a few hundred rows), by cohort.
    designations = Designation.objects.filter(area_q(job, "village")).select_related("village")
    if job.cohort_year:
        designations = designations.filter(cohort_year=job.cohort_year)
    designations = list(designations)
    if not designations:
        raise ReportError(_("There is no designated village in this area."))
    result.designated = len(designations)
    result.cohorts = sorted({d.cohort_year for d in designations})
    cohort_index = {year: i for i, year in enumerate(result.cohorts)}
    width = len(result.cohorts) + 2
    coverage: dict[str, list[int]] = defaultdict(lambda: [0] * width)
    for d in designations:
        row = coverage[d.village_id[:inner_width]]
        row[cohort_index[d.cohort_year]] += 1
        row[-2] += 1
        if d.status == Designation.Status.ACTIVE:
            row[-1] += 1

    # The pillar matrix of the active designations, from the summary table of last activities.
    active = [d for d in designations if d.status == Designation.Status.ACTIVE]
    variants = sorted({d.variant_id for d in active})
    pillars = list(
        Pillar.objects.filter(variant_id__in=variants, active=True).select_related("variant")
    )
    several = len(variants) > 1
    result.pillars = [f"{p.variant.name}: {p.name}" if several else p.name for p in pillars]
    index = {p.pk: i for i, p in enumerate(pillars)}
    latest = {
        (a.village, a.pillar_id): a.last_activity
        for a in PillarActivity.objects.filter(village__in=[d.village_id for d in active])
    }
    since = active_since()
    matrix: dict[str, list[int]] = defaultdict(lambda: [0] * (len(pillars) + 2))
    inactive: list[tuple[Designation, list[str], datetime.date | None]] = []
    for d in active:
        row = matrix[d.village_id[:inner_width]]
        row[0] += 1
        own = [p for p in pillars if p.variant_id == d.variant_id]
        missing = []
        for pillar in own:
            last = latest.get((d.village_id, pillar.pk))
            if last is not None and last >= since:
                row[1 + index[pillar.pk]] += 1
            else:
                missing.append(pillar.name)
        if own and not missing:
            row[-1] += 1
            result.villages_all_pillars += 1
        if missing:
            lasts = [latest[(d.village_id, p.pk)] for p in own if (d.village_id, p.pk) in latest]
            inactive.append((d, missing, max(lasts, default=None)))
    result.villages = len(active)

    # Data quality, from the summaries' snapshot of the inner level, reached through the
    # parent index (the outer regions first), never by scanning the whole summary table.
    metrics = [f"quality.{name}" for name in QUALITY]
    snapshot = Fact.objects.filter(month__isnull=True, metric__in=metrics)
    level = job.scope.level if job.scope else 0
    if level == 4:
        facts = snapshot.filter(region=job.scope_id)
    elif level == 3:
        facts = snapshot.filter(parent=job.scope_id)
    else:
        outer_codes = (
            Fact.objects.filter(
                parent=job.scope_id or NATIONAL, metric="quality.total", month__isnull=True
            )
            .values_list("region", flat=True)
            .distinct()
        )
        facts = snapshot.filter(parent__in=list(outer_codes))
    if job.cohort_year:
        facts = facts.filter(cohort_year=job.cohort_year)
    quality: dict[str, list[int]] = defaultdict(lambda: [0] * len(QUALITY))
    for region, metric, total in (
        facts.values_list("region", "metric").annotate(total=Sum("value")).order_by()
    ):
        quality[region][QUALITY.index(metric.removeprefix("quality."))] += total

    codes = set(coverage) | set(quality) | set(matrix)
    codes |= {code[: CODE_LENGTH[outer]] for code in codes}
    codes |= {d.village_id[:5] for d, _m, _l in inactive}
    labels = {r.code: r.label for r in Region.objects.filter(code__in=codes).only("name")}
    result.coverage = _breakdown(coverage, outer, inner, labels, width)
    result.matrix = _breakdown(matrix, outer, inner, labels, len(pillars) + 2)
    result.quality = _breakdown(quality, outer, inner, labels, len(QUALITY))
    result.inactive = sorted(
        (
            InactiveVillage(
                code=d.village_id,
                village=d.village.label,
                regency=labels.get(d.village_id[:5], d.village_id[:5]),
                cohort=d.cohort_year,
                inactive=missing,
                last_activity=last,
            )
            for d, missing, last in inactive
        ),
        key=lambda v: (v.regency, v.village),
    )
    return result


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _breakdown_rows(rows: list[Breakdown], computed=None) -> tuple[list[list[object]], set[int]]:
    """Table rows of a breakdown (the outer region's name on every row, so a spreadsheet filter
    keeps a province's rows together); `computed(values)` appends computed cells."""
    cells, subtotals = [], set()
    for index, row in enumerate(rows):
        if row.subtotal:
            subtotals.add(index)
            label = [row.outer_label, _("all")]
        else:
            label = [row.outer_label, row.label]
        cells.append(label + list(row.values) + (computed(row.values) if computed else []))
    return cells, subtotals


def _grand_total(rows: list[Breakdown], width: int) -> list[int]:
    inner = [row for row in rows if not row.subtotal]
    return [sum(row.values[i] for row in inner) for i in range(width)]


def _outer_totals(rows: list[Breakdown]) -> list[Breakdown]:
    subtotals = [row for row in rows if row.subtotal]
    return subtotals or rows


def _dimension_rows(title: str, rows, total: int) -> list[list[object]]:
    return [[title, row.label, row.value, _share(row.value, total)] for row in rows]


def layout(data: Evaluation, *, charts: bool = True) -> Document:
    board = data.board
    outer_name, inner_name = (capfirst(str(name)) for name in data.levels)
    region_headers = [outer_name, inner_name]
    sections: list[Section] = []

    # 1. Coverage.
    width = len(data.cohorts) + 2
    rows, subtotals = _breakdown_rows(data.coverage)
    coverage = Table(
        headers=[*region_headers, *(str(year) for year in data.cohorts), _("Total"), _("Active")],
        kinds=[TEXT, TEXT, *[INT] * width],
        rows=rows,
        subtotals=subtotals,
        groups=[
            (_("Region"), 2),
            (_("Designated villages by cohort"), len(data.cohorts)),
            (_("Villages"), 2),
        ],
        total=[_("Total"), "", *_grand_total(data.coverage, width)] if rows else None,
        frozen_columns=2,
    )
    section = Section(
        sheet=_("Coverage"),
        title=_("Coverage"),
        intro=_("Designated Desmigratif villages by region and cohort (the year designated)."),
        tables=[coverage],
    )
    outer_rows = _outer_totals(data.coverage)
    if charts and outer_rows and data.cohorts:
        section.charts.append(
            _chart(
                bar_chart(
                    [row.outer_label for row in outer_rows],
                    {
                        str(year): [row.values[i] for row in outer_rows]
                        for i, year in enumerate(data.cohorts)
                    },
                    title=_("Designated villages by %(level)s and cohort")
                    % {"level": data.levels[0]},
                    horizontal=True,
                    stacked=True,
                ),
                _("Designated villages by region and cohort"),
            )
        )
    sections.append(section)

    # 2. The pillar matrix.
    pillars = len(data.pillars)
    rows, subtotals = _breakdown_rows(data.matrix)
    matrix = Table(
        headers=[*region_headers, _("Active villages"), *data.pillars, _("All pillars")],
        kinds=[TEXT, TEXT, *[INT] * (pillars + 2)],
        rows=rows,
        subtotals=subtotals,
        groups=[
            (_("Region"), 2),
            (_("Villages"), 1),
            (_("Villages running the pillar"), pillars + 1),
        ],
        total=[_("Total"), "", *_grand_total(data.matrix, pillars + 2)] if rows else None,
        frozen_columns=2,
    )
    active_days = settings.PILLAR_ACTIVE_DAYS
    section = Section(
        sheet=_("Pillar matrix"),
        title=_("Pillar matrix"),
        intro=_(
            "A pillar runs in a village when it recorded any activity in the last %(days)s days "
            "(since %(since)s). %(all)s of %(villages)s active villages run all their pillars."
        )
        % {
            "days": active_days,
            "since": active_since().isoformat(),
            "all": data.villages_all_pillars,
            "villages": data.villages,
        },
        tables=[matrix],
    )
    if charts and data.pillars and data.villages:
        running = _grand_total(data.matrix, pillars + 2)[1 : pillars + 1]
        section.charts.append(
            _chart(
                bar_chart(
                    data.pillars,
                    {_("Villages running the pillar"): running},
                    title=_("Villages running each pillar, of %(villages)s active villages")
                    % {"villages": data.villages},
                    horizontal=True,
                ),
                _("Villages running each pillar"),
            )
        )
    sections.append(section)

    # 3. Villages with inactive pillars, silent villages.
    inactive = Table(
        headers=[
            _("Village"),
            _("Regency/city"),
            _("Code"),
            _("Cohort"),
            _("Inactive pillars"),
            _("Last activity"),
        ],
        kinds=[TEXT, TEXT, TEXT, YEAR, TEXT, DATE],
        rows=[
            [v.village, v.regency, v.code, v.cohort, "; ".join(v.inactive), v.last_activity]
            for v in data.inactive
        ],
        caption=_("Villages with inactive pillars"),
    )
    silent = Table(
        headers=[_("Village"), _("Code"), _("Last monthly report"), _("Last activity")],
        kinds=[TEXT, TEXT, DATE, DATE],
        rows=[[s.label, s.code, s.last_report, s.last_activity] for s in board.silent],
        caption=_("Villages without a report or any activity for %(days)s days")
        % {"days": settings.SILENT_VILLAGE_DAYS},
    )
    sections.append(
        Section(
            sheet=_("Inactive pillars"),
            title=_("Villages with inactive pillars"),
            intro=_("%(count)s of %(villages)s active villages have at least one inactive pillar.")
            % {"count": len(data.inactive), "villages": data.villages},
            tables=[inactive, silent],
        )
    )

    # 4. People.
    total = board.people_total
    people_rows = _dimension_rows(_("Status"), board.people_by_status, total) + _dimension_rows(
        _("Sex"), board.people_by_sex, total
    )
    abroad = sum(row.value for row in board.people_by_country)
    people_rows += _dimension_rows(
        _("Destination country (PMI abroad)"), board.people_by_country, abroad
    )
    migrated = sum(row.value for row in board.people_by_job)
    people_rows += _dimension_rows(_("Job title (latest migration)"), board.people_by_job, migrated)
    schemes = sum(row.value for row in board.people_by_scheme)
    people_rows += _dimension_rows(
        _("Placement scheme (latest migration)"), board.people_by_scheme, schemes
    )
    sectors = sum(row.value for row in board.people_by_sector)
    people_rows += _dimension_rows(
        _("Formal / informal (latest migration)"), board.people_by_sector, sectors
    )
    people = Table(
        headers=[_("Dimension"), _("Category"), _("People"), _("Share")],
        kinds=[TEXT, TEXT, INT, PERCENT],
        rows=people_rows,
        total=[_("People in the register"), "", total, None],
        frozen_columns=2,
    )
    child_name = capfirst(str(LEVEL_NAMES.get(board.child_level, "")))
    children = Table(
        headers=[
            child_name or _("Region"),
            _("Designated villages"),
            _("People"),
            _("PMI abroad"),
            _("Departures in the period"),
            _("Returns in the period"),
        ],
        kinds=[TEXT, INT, INT, INT, INT, INT],
        rows=[
            [c.label, c.villages, c.people, c.pmi, c.departures, c.returns] for c in board.children
        ],
        caption=_("By %(level)s") % {"level": LEVEL_NAMES.get(board.child_level, "")},
    )
    section = Section(
        sheet=_("People"),
        title=_("People in the register"),
        intro=_(
            "The register as it stands; the shares are of the people the dimension applies "
            "to. The longest lists show the first %(top)s and the rest as “other”."
        )
        % {"top": TOP},
        tables=[people] + ([children] if board.children else []),
    )
    if charts and total:
        section.charts.append(
            _chart(
                bar_chart(
                    [row.label for row in board.people_by_status],
                    {_("People"): [row.value for row in board.people_by_status]},
                    title=_("People by status"),
                ),
                _("People by status"),
            )
        )
    if charts and board.people_by_country:
        section.charts.append(
            _chart(
                bar_chart(
                    [row.label for row in board.people_by_country],
                    {_("PMI abroad"): [row.value for row in board.people_by_country]},
                    title=_("PMI abroad by destination country"),
                    horizontal=True,
                ),
                _("PMI abroad by destination country"),
            )
        )
    sections.append(section)

    # 5. Departures and returns.
    months = Table(
        headers=[_("Month"), _("Departures"), _("Returns")],
        kinds=[TEXT, INT, INT],
        rows=[
            [label, departures, returns]
            for label, departures, returns in zip(
                data.month_labels, board.departures_by_month, board.returns_by_month, strict=True
            )
        ],
        caption=_("Departures and returns per month (24 months)"),
        total=[_("Total"), sum(board.departures_by_month), sum(board.returns_by_month)],
    )
    departed = sum(row.value for row in board.departures_by_procedure)
    procedure = Table(
        headers=[_("Procedure"), _("Departures in the period"), _("Share")],
        kinds=[TEXT, INT, PERCENT],
        rows=[[r.label, r.value, _share(r.value, departed)] for r in board.departures_by_procedure],
        caption=_("Departures in the period by procedure"),
        total=[_("Total"), departed, None],
    )
    returned = sum(row.value for row in board.returns_by_reason)
    reasons = Table(
        headers=[_("Reason"), _("Returns in the period"), _("Share")],
        kinds=[TEXT, INT, PERCENT],
        rows=[[r.label, r.value, _share(r.value, returned)] for r in board.returns_by_reason],
        caption=_("Returns in the period by reason"),
        total=[_("Total"), returned, None],
    )
    share = board.procedural_share
    section = Section(
        sheet=_("Departures and returns"),
        title=_("Departures and returns"),
        intro=_("Procedural share of the departures in the period: %(share)s.")
        % {"share": printed(share, PERCENT) if share is not None else "–"},
        tables=[months, procedure, reasons],
    )
    if charts:
        section.charts.append(
            _chart(
                line_chart(
                    [formats.date_format(m, "M Y") for m in board.months],
                    {
                        _("Departures"): board.departures_by_month,
                        _("Returns"): board.returns_by_month,
                    },
                    title=_("Departures and returns per month"),
                ),
                _("Departures and returns per month"),
            )
        )
        if board.returns_by_reason:
            section.charts.append(
                _chart(
                    bar_chart(
                        [r.label for r in board.returns_by_reason],
                        {_("Returns"): [r.value for r in board.returns_by_reason]},
                        title=_("Returns in the period by reason"),
                        horizontal=True,
                    ),
                    _("Returns in the period by reason"),
                )
            )
    sections.append(section)

    # 6. Pillar activity, referrals, cases.
    activity = Table(
        headers=[_("Indicator"), _("Value")],
        kinds=[TEXT, INT],
        rows=[[row.label, row.value] for row in board.pillar_activity],
        caption=_("Pillar activity in the period (and now, where it says so)"),
    )
    stages = [capfirst(str(stage.label)) for stage in Referral.Stage]
    referrals = Table(
        headers=[_("Programme"), *stages, _("Amount disbursed (Rp)")],
        kinds=[TEXT, *[INT] * len(stages), MONEY],
        rows=[
            [str(entry["programme"]), *[row.value for row in entry["stages"]], entry["amount"]]
            for entry in board.referrals
        ],
        caption=_("Partner referrals made in the period, by present stage"),
        groups=[("", 1), (_("Referrals by stage"), len(stages)), ("", 1)],
    )
    cases = Table(
        headers=[_("Dimension"), _("Category"), _("Cases")],
        kinds=[TEXT, TEXT, INT],
        rows=[[_("Type"), r.label, r.value] for r in board.cases_by_type]
        + [[_("Resolution"), r.label, r.value] for r in board.cases_by_status],
        caption=_("Cases and complaints reported in the period"),
    )
    section = Section(
        sheet=_("Pillar activity"),
        title=_("Pillar activity, referrals and cases"),
        tables=[activity, referrals, cases],
    )
    if charts and any(row.value for row in board.pillar_activity):
        section.charts.append(
            _chart(
                bar_chart(
                    [row.label for row in board.pillar_activity],
                    {_("Value"): [row.value for row in board.pillar_activity]},
                    title=_("Pillar activity"),
                    horizontal=True,
                ),
                _("Pillar activity"),
            )
        )
    sections.append(section)

    # 7. Data quality.
    rows, subtotals = _breakdown_rows(
        data.quality, computed=lambda v: [_share(v[1], v[0]), _share(v[3], v[0])]
    )
    scope_quality = [board.quality.get(name, 0) for name in QUALITY]
    quality = Table(
        headers=[
            *region_headers,
            _("People"),
            _("Missing NIK"),
            _("NIK warnings"),
            _("Unverified"),
            _("Share missing NIK"),
            _("Share unverified"),
        ],
        kinds=[TEXT, TEXT, INT, INT, INT, INT, PERCENT, PERCENT],
        rows=rows,
        subtotals=subtotals,
        total=[
            _("Total"),
            "",
            *scope_quality,
            _share(scope_quality[1], scope_quality[0]),
            _share(scope_quality[3], scope_quality[0]),
        ],
        frozen_columns=2,
    )
    section = Section(
        sheet=_("Data quality"),
        title=_("Data quality"),
        intro=_(
            "People without a NIK, with a NIK that disagrees with their data or that is not in "
            "today's code list (warnings), and records not verified by the regency."
        ),
        tables=[quality],
    )
    outer_rows = _outer_totals(data.quality)
    if charts and outer_rows:
        section.charts.append(
            _chart(
                bar_chart(
                    [row.outer_label if row.subtotal else row.label for row in outer_rows],
                    {
                        _("Missing NIK"): [row.values[1] for row in outer_rows],
                        _("NIK warnings"): [row.values[2] for row in outer_rows],
                        _("Unverified"): [row.values[3] for row in outer_rows],
                    },
                    title=_("Data quality by %(level)s") % {"level": data.levels[0]},
                    horizontal=True,
                ),
                _("Data quality by region"),
            )
        )
    sections.append(section)

    return Document(
        job=data.job,
        details=[
            (_("Designated villages"), str(data.designated)),
            (_("Figures refreshed"), data.refreshed_at),
        ],
        notes=[
            _(
                "The figures come from the summary tables the dashboards read, as refreshed at "
                "the time given above; the register as it stands then, the activities of the "
                "period."
            )
        ],
        sections=sections,
    )


def _chart(png: bytes, description: str) -> Chart:
    return Chart(title=description, uri=png_data_uri(png), description=description)


def build(job: ReportJob, path: Path, progress: Progress) -> None:
    data = evaluation(job)
    progress(30)
    if job.format == ReportFormat.PDF:
        write_pdf(layout(data), path, progress)
    else:
        write_xlsx(layout(data, charts=False), path, progress)
