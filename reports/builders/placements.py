"""Placement statistics in the national agency's dimensions: the departures of the period by
destination country x job title x sex x placement scheme, by province and regency of origin, and
by month with the same month a year earlier.

Departures are migration episodes with a departure date in the period, of people still in the
register, of the job's area. Live grouped queries over the episodes (a handful, whatever their
number): a background job can afford them, and they answer for any period.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import Count, Q
from django.db.models.functions import Substr, Trim, TruncMonth
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from migrants.models import EmployerType, Episode, PlacementScheme, Procedural, Sector, Sex
from reports.builders.base import month_label
from reports.builders.figures import (
    Period,
    area_q,
    country,
    period_of,
)
from reports.builders.tables import (
    INT,
    PERCENT,
    TEXT,
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
from villages.models import Region

# The figures of every row: departures by sex and in total.
COUNTS = {
    "men": Count("pk", filter=Q(person__sex=Sex.MALE)),
    "women": Count("pk", filter=Q(person__sex=Sex.FEMALE)),
    "total": Count("pk"),
}
# ... and the national agency's other dimensions, for the country and origin tables.
DETAIL = {
    **COUNTS,
    "formal": Count("pk", filter=Q(sector=Sector.FORMAL)),
    "informal": Count("pk", filter=Q(sector=Sector.INFORMAL)),
    "individual": Count("pk", filter=Q(employer_type=EmployerType.INDIVIDUAL)),
    "legal_entity": Count("pk", filter=Q(employer_type=EmployerType.LEGAL_ENTITY)),
    "procedural": Count("pk", filter=Q(procedural_status=Procedural.PROCEDURAL)),
}


def detail_headers() -> list[str]:
    return [
        _("Men"),
        _("Women"),
        _("Total"),
        _("Formal"),
        _("Informal"),
        _("Individual employer"),
        _("Legal entity"),
        _("Procedural"),
    ]


@dataclass
class Line:
    """A row of a table: its labels, then its figures."""

    labels: list[str]
    values: list[int]
    subtotal: bool = False


@dataclass
class MonthLine:
    month: datetime.date
    departures: int
    year_earlier: int

    @property
    def change(self) -> float | None:
        """The change on the same month a year earlier, as a fraction (None: nothing then)."""
        if not self.year_earlier:
            return None
        return (self.departures - self.year_earlier) / self.year_earlier

    @property
    def label(self) -> str:
        return month_label(self.month)


@dataclass
class Placements:
    job: ReportJob
    period: Period
    cohort: int | None
    total: int = 0
    men: int = 0
    women: int = 0
    by_country: list[Line] = field(default_factory=list)  # country; DETAIL
    by_scheme: list[Line] = field(default_factory=list)  # scheme; DETAIL
    cross: list[Line] = field(default_factory=list)  # country, job, scheme; COUNTS
    by_origin: list[Line] = field(default_factory=list)  # province, regency; DETAIL
    by_month: list[MonthLine] = field(default_factory=list)

    @property
    def year_earlier_total(self) -> int:
        return sum(line.year_earlier for line in self.by_month)


def departures(job: ReportJob, first: datetime.date, last: datetime.date):
    episodes = Episode.objects.filter(
        area_q(job, "person__village"),
        person__deleted_at__isnull=True,
        departure_date__gte=first,
        departure_date__lte=last,
    )
    if job.cohort_year:
        episodes = episodes.filter(person__village__designation__cohort_year=job.cohort_year)
    return episodes


def _values(row: dict, keys) -> list[int]:
    return [int(row[key] or 0) for key in keys]


def _job_title(text: str) -> str:
    return " ".join(text.split()) if text else ""


def placements(job: ReportJob) -> Placements:
    period = period_of(job)
    result = Placements(
        job=job,
        period=period,
        cohort=job.cohort_year,
    )
    episodes = departures(job, period.first, period.last)
    schemes = dict(PlacementScheme.choices)
    not_given = capfirst(_("not given"))

    rows = episodes.values("destination_country").annotate(**DETAIL).order_by()
    result.by_country = sorted(
        (Line([country(r["destination_country"])], _values(r, DETAIL)) for r in rows),
        key=lambda line: (-line.values[2], line.labels[0]),
    )
    result.total = sum(line.values[2] for line in result.by_country)
    result.men = sum(line.values[0] for line in result.by_country)
    result.women = sum(line.values[1] for line in result.by_country)

    rows = episodes.values("placement_scheme").annotate(**DETAIL).order_by()
    order = {value: i for i, value in enumerate([*PlacementScheme.values, ""])}
    result.by_scheme = [
        Line([str(schemes.get(r["placement_scheme"], not_given))], _values(r, DETAIL))
        for r in sorted(rows, key=lambda r: order.get(r["placement_scheme"], len(order)))
    ]

    # Job titles are typed by people: the same title in other cases or spacing is one title.
    cross: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    spelling: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        episodes.values("destination_country", "placement_scheme", title=Trim("job_title"))
        .annotate(**COUNTS)
        .order_by()
    )
    for r in rows:
        title = _job_title(r["title"])
        key = (r["destination_country"], title.casefold(), r["placement_scheme"])
        figures = _values(r, COUNTS)
        cross[key] = [a + b for a, b in zip(cross[key], figures, strict=True)]
        spelling[title.casefold()][title] += figures[2]
    country_totals: dict[str, int] = defaultdict(int)
    for (code, _title, _scheme), figures in cross.items():
        country_totals[code] += figures[2]

    def title_label(folded: str) -> str:
        if not folded:
            return not_given
        names = spelling[folded]
        return min(names, key=lambda name: (-names[name], name))  # the commonest spelling

    result.cross = [
        Line([country(code), title_label(folded), str(schemes.get(scheme, not_given))], figures)
        for (code, folded, scheme), figures in sorted(
            cross.items(),
            key=lambda item: (
                -country_totals[item[0][0]],
                country(item[0][0]),
                -item[1][2],
                item[0][1],
                order.get(item[0][2], len(order)),
            ),
        )
    ]

    # Origin: the province and regency are the first characters of the village code.
    rows = (
        episodes.values(
            province=Substr("person__village_id", 1, 2),
            regency=Substr("person__village_id", 1, 5),
        )
        .annotate(**DETAIL)
        .order_by()
    )
    rows = list(rows)
    codes = {r["province"] for r in rows} | {r["regency"] for r in rows}
    labels = {region.code: region.label for region in Region.objects.filter(code__in=codes)}
    by_province: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_province[r["province"]].append(r)
    for province in sorted(by_province, key=lambda c: labels.get(c, c)):
        members = sorted(by_province[province], key=lambda r: labels.get(r["regency"], ""))
        totals = [
            sum(values) for values in zip(*(_values(r, DETAIL) for r in members), strict=True)
        ]
        province_label = labels.get(province, province)
        result.by_origin.append(Line([province_label, ""], totals, subtotal=True))
        result.by_origin += [
            Line([province_label, labels.get(r["regency"], r["regency"])], _values(r, DETAIL))
            for r in members
        ]

    # By month, with the same month a year earlier: one query over both years.
    earlier = period.year_earlier()
    monthly = {
        row["month"]: row["n"]
        for row in departures(job, earlier.first, period.last)
        .values(month=TruncMonth("departure_date"))
        .annotate(n=Count("pk"))
        .order_by()
    }
    monthly = {_first_day(month): n for month, n in monthly.items()}
    result.by_month = [
        MonthLine(
            month,
            monthly.get(month, 0),
            monthly.get(month.replace(year=month.year - 1), 0),
        )
        for month in period.months
    ]
    return result


def _first_day(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value[:10])
    return value.replace(day=1)


PDF_CROSS_ROWS = 80  # the PDF shows the largest combinations; the workbook has them all


def _with_share(line: Line, total: int) -> list[object]:
    return [*line.labels, *line.values, line.values[2] / total if total else None]


def layout(data: Placements, *, charts: bool = True) -> Document:
    detail = detail_headers()
    kinds = [INT] * len(detail)
    total_values = [sum(line.values[i] for line in data.by_country) for i in range(len(detail))]
    sections = []

    def detail_table(first: str, lines: list[Line]) -> Table:
        return Table(
            headers=[first, *detail, _("Share")],
            kinds=[TEXT, *kinds, PERCENT],
            rows=[_with_share(line, data.total) for line in lines],
            groups=[
                ("", 1),
                (_("Sex"), 3),
                (_("Sector"), 2),
                (_("Employer"), 2),
                (_("Procedure"), 1),
                ("", 1),
            ],
            total=[_("Total"), *total_values, 1 if data.total else None] if lines else None,
        )

    section = Section(
        sheet=_("By country"),
        title=_("Departures by destination country"),
        tables=[detail_table(_("Destination country"), data.by_country)],
    )
    top = data.by_country[:15]
    if charts and top:
        section.charts.append(
            _chart(
                bar_chart(
                    [line.labels[0] for line in top],
                    {
                        _("Men"): [line.values[0] for line in top],
                        _("Women"): [line.values[1] for line in top],
                    },
                    title=_("Departures by destination country and sex"),
                    horizontal=True,
                    stacked=True,
                ),
                _("Departures by destination country and sex"),
            )
        )
    sections.append(section)
    sections.append(
        Section(
            sheet=_("By scheme"),
            title=_("Departures by placement scheme"),
            tables=[detail_table(_("Placement scheme"), data.by_scheme)],
        )
    )

    cross_headers = [
        _("Destination country"),
        _("Job title"),
        _("Placement scheme"),
        _("Men"),
        _("Women"),
        _("Total"),
    ]
    cross_kinds = [TEXT, TEXT, TEXT, INT, INT, INT]
    cross_total = [_("Total"), "", "", data.men, data.women, data.total]
    rows = [[*line.labels, *line.values] for line in data.cross]
    cross = Table(
        headers=cross_headers,
        kinds=cross_kinds,
        rows=rows,
        total=cross_total if rows else None,
        frozen_columns=1,
    )
    printed_cross = cross
    if len(rows) > PDF_CROSS_ROWS:
        shown = sorted(data.cross, key=lambda line: -line.values[2])[:PDF_CROSS_ROWS]
        order = {id(line): i for i, line in enumerate(data.cross)}
        shown.sort(key=lambda line: order[id(line)])
        printed_cross = Table(
            headers=cross_headers,
            kinds=cross_kinds,
            rows=[[*line.labels, *line.values] for line in shown],
            total=cross_total,
            note=_("The %(shown)s largest of %(all)s combinations; the workbook has them all.")
            % {"shown": PDF_CROSS_ROWS, "all": len(rows)},
        )
    sections.append(
        Section(
            sheet=_("Country, job, scheme"),
            title=_("Departures by country, job title, sex and scheme"),
            intro=_("Job titles are grouped whatever their case and spacing."),
            tables=[cross],
            pdf_tables=[printed_cross],
        )
    )

    origin = Table(
        headers=[_("Province"), _("Regency/city"), *detail, _("Share")],
        kinds=[TEXT, TEXT, *kinds, PERCENT],
        rows=[
            [
                line.labels[0],
                line.labels[1] or _("all"),
                *line.values,
                line.values[2] / data.total if data.total else None,
            ]
            for line in data.by_origin
        ],
        subtotals={i for i, line in enumerate(data.by_origin) if line.subtotal},
        groups=[
            ("", 2),
            (_("Sex"), 3),
            (_("Sector"), 2),
            (_("Employer"), 2),
            (_("Procedure"), 1),
            ("", 1),
        ],
        total=[_("Total"), "", *total_values, 1 if data.total else None]
        if data.by_origin
        else None,
        frozen_columns=2,
    )
    sections.append(
        Section(
            sheet=_("By origin"),
            title=_("Departures by province and regency of origin"),
            tables=[origin],
        )
    )

    months = Table(
        headers=[
            _("Month"),
            _("Departures"),
            _("Same month a year earlier"),
            pgettext("year on year", "Change"),
        ],
        kinds=[TEXT, INT, INT, PERCENT],
        rows=[[m.label, m.departures, m.year_earlier, m.change] for m in data.by_month],
        total=[
            _("Total"),
            data.total,
            data.year_earlier_total,
            (data.total - data.year_earlier_total) / data.year_earlier_total
            if data.year_earlier_total
            else None,
        ],
    )
    section = Section(
        sheet=_("By month"),
        title=_("Departures by month, year on year"),
        tables=[months],
    )
    if charts and data.by_month:
        section.charts.append(
            _chart(
                line_chart(
                    [formats.date_format(m.month, "M Y") for m in data.by_month],
                    {
                        _("Departures"): [m.departures for m in data.by_month],
                        _("Same month a year earlier"): [m.year_earlier for m in data.by_month],
                    },
                    title=_("Departures by month, year on year"),
                ),
                _("Departures by month, year on year"),
            )
        )
    sections.append(section)

    return Document(
        job=data.job,
        details=[
            (_("Departures"), printed(data.total, INT)),
            (_("Men / women"), f"{printed(data.men, INT)} / {printed(data.women, INT)}"),
            (_("A year earlier"), printed(data.year_earlier_total, INT)),
        ],
        notes=[
            _(
                "Departures are the migrations that left in the period, of people in the "
                "register of the area (deleted records left out), by the village they come from."
            )
        ],
        sections=sections,
    )


def _chart(png: bytes, description: str) -> Chart:
    return Chart(title=description, uri=png_data_uri(png), description=description)


def build(job: ReportJob, path: Path, progress: Progress) -> None:
    data = placements(job)
    progress(40)
    if job.format == ReportFormat.PDF:
        write_pdf(layout(data), path, progress)
    else:
        write_xlsx(layout(data, charts=False), path, progress)
