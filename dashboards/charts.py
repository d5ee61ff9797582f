"""The charts and tables of a dashboard, built once from its figures.

The page draws each chart from `Chart.config()` and prints `Chart.cells()` beside it; the
downloads (dashboards.exports) write the same `rows`, so a file always says what the page says.
"""

import datetime
from dataclasses import dataclass, field

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dashboards.indicators import Dashboard

TEXT, INT, PERCENT, MONTH, DATE, MONEY = "text", "int", "percent", "month", "date", "money"

# The heading of a child region's column, by the child's level.
CHILD_HEADINGS = {
    1: gettext_lazy("Province"),
    2: gettext_lazy("Regency/city"),
    3: gettext_lazy("District"),
    4: gettext_lazy("Village"),
}
CHILD_TITLES = {
    1: gettext_lazy("Provinces"),
    2: gettext_lazy("Regencies and cities"),
    3: gettext_lazy("Districts"),
    4: gettext_lazy("Villages"),
}


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = INT


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool
    label: str  # the column's heading (phones show it beside the value)


@dataclass
class Chart:
    """A table of figures, and how to draw it (kind "table": not drawn)."""

    slug: str
    title: str
    kind: str  # bar | hbar | stacked | hstacked | line | table
    columns: list[Column]
    rows: list[list]
    drawn: tuple[int, ...] = (1,)  # the columns drawn as series
    by_row: bool = False  # each row is a series (one stacked bar split by the rows)
    colors: list[str] | None = None  # named colours (static/js/dashboard.js) for the series
    note: str = ""
    tall: bool = False  # many categories: a taller drawing

    @property
    def empty(self) -> bool:
        return not any(row[i] for row in self.rows for i in self.drawn) if self.drawn else False

    @property
    def script_id(self) -> str:
        return f"chart-{self.slug}-data"

    @property
    def aria_label(self) -> str:
        kinds = {
            "bar": _("Bar chart"),
            "hbar": _("Bar chart"),
            "stacked": _("Stacked bar chart"),
            "hstacked": _("Stacked bar chart"),
            "line": _("Line chart"),
        }
        return _("%(kind)s: %(title)s. The table with the same figures follows.") % {
            "kind": kinds.get(self.kind, _("Chart")),
            "title": self.title,
        }

    def config(self) -> dict:
        """What static/js/dashboard.js needs to draw the chart (through json_script)."""
        labels = [_display(row[0], self.columns[0].kind) for row in self.rows]
        if self.by_row:
            datasets = [
                {"label": label, "data": [row[i] for i in self.drawn]}
                for label, row in zip(labels, self.rows, strict=True)
            ]
            labels = [str(self.columns[i].label) for i in self.drawn]
        else:
            datasets = [
                {"label": str(self.columns[i].label), "data": [row[i] for row in self.rows]}
                for i in self.drawn
            ]
        return {
            "type": "line" if self.kind == "line" else "bar",
            "horizontal": self.kind in ("hbar", "hstacked"),
            "stacked": self.kind in ("stacked", "hstacked"),
            "labels": labels,
            "datasets": datasets,
            "colors": self.colors or [],
            "legend": len(datasets) > 1,
            "single": self.by_row,  # one bar: its category axis says nothing
        }

    def header(self) -> list[str]:
        return [str(column.label) for column in self.columns]

    def cells(self) -> list[list[Cell]]:
        """The rows as the page prints them (numbers in the reader's language)."""
        return [
            [
                Cell(_display(value, column.kind), column.kind != TEXT, str(column.label))
                for value, column in zip(row, self.columns, strict=True)
            ]
            for row in self.rows
        ]


def _display(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == PERCENT:
        return number_format(value, 1, force_grouping=True)
    if kind in (INT, MONEY):
        return number_format(value, 0, force_grouping=True)
    if kind == MONTH:
        return date_format(value, "M Y")
    if kind == DATE:
        return date_format(value, "j M Y")
    return str(value)


def share(part: int, whole: int) -> float | None:
    """Percent with one decimal, None when there is nothing to share."""
    return round(100 * part / whole, 1) if whole else None


def _distribution(slug: str, title: str, heading: str, rows, **extra) -> Chart:
    total = sum(row.value for row in rows)
    return Chart(
        slug=slug,
        title=title,
        kind=extra.pop("kind", "bar"),
        columns=[Column(heading, TEXT), Column(_("Number")), Column(_("Share (%)"), PERCENT)],
        rows=[[str(row.label), row.value, share(row.value, total)] for row in rows],
        **extra,
    )


@dataclass
class Charts:
    """Every chart and table of one dashboard, by slug, in the order of the page."""

    items: dict[str, Chart] = field(default_factory=dict)

    def add(self, chart: Chart) -> None:
        self.items[chart.slug] = chart

    def __getitem__(self, slug: str) -> Chart:
        return self.items[slug]

    def get(self, slug: str) -> Chart | None:
        return self.items.get(slug)


def build(board: Dashboard) -> Charts:
    charts = Charts()
    # The register now.
    charts.add(_distribution("status", _("People by status"), _("Status"), board.people_by_status))
    charts.add(_distribution("sex", _("People by sex"), _("Sex"), board.people_by_sex))
    charts.add(
        _distribution(
            "country",
            _("Workers abroad by destination country"),
            _("Country"),
            board.people_by_country,
            kind="hbar",
            tall=True,
            note=_("The 12 largest countries; the rest are added up as “other”."),
        )
    )
    charts.add(
        _distribution(
            "job",
            _("Job title of the latest migration"),
            _("Job title"),
            board.people_by_job,
            kind="hbar",
            tall=True,
            note=_("The 12 most frequent job titles; the rest are added up as “other”."),
        )
    )
    charts.add(
        _distribution(
            "scheme",
            _("Placement scheme of the latest migration"),
            _("Placement scheme"),
            board.people_by_scheme,
        )
    )
    charts.add(
        _distribution("sector", _("Formal and informal work"), _("Sector"), board.people_by_sector)
    )

    # Departures and returns.
    charts.add(
        _distribution(
            "procedure",
            _("Departures in the period: procedural or not"),
            _("Procedure"),
            board.departures_by_procedure,
            kind="hstacked",
            by_row=True,
            colors=["good", "bad", "none"],
        )
    )
    charts.add(
        Chart(
            slug="months",
            title=_("Departures and returns per month"),
            kind="line",
            columns=[Column(_("Month"), MONTH), Column(_("Departures")), Column(_("Returns"))],
            rows=[
                [month, departed, returned]
                for month, departed, returned in zip(
                    board.months, board.departures_by_month, board.returns_by_month, strict=True
                )
            ],
            drawn=(1, 2),
            note=_("The 24 months up to the end of the period."),
        )
    )
    charts.add(
        _distribution(
            "returns", _("Returns in the period by reason"), _("Reason"), board.returns_by_reason
        )
    )

    # Pillars.
    charts.add(
        Chart(
            slug="pillars",
            title=_("Pillar activity"),
            kind="hbar",
            columns=[Column(_("Activity"), TEXT), Column(_("Number"))],
            rows=[[str(row.label), row.value] for row in board.pillar_activity],
            tall=True,
            note=_("Counted in the period, except the figures marked “now”, which are today's."),
        )
    )
    stages = board.referrals[0]["stages"] if board.referrals else []
    stage_labels = [str(row.label) for row in stages] or [
        _("referred"),
        _("accepted"),
        _("disbursed"),
        _("rejected"),
    ]
    charts.add(
        Chart(
            slug="referrals",
            title=_("Partner referrals by programme and stage"),
            kind="stacked",
            columns=[
                Column(_("Programme"), TEXT),
                *(Column(label) for label in stage_labels),
                Column(_("Amount disbursed (Rp)"), MONEY),
            ],
            rows=[
                [
                    str(entry["programme"]),
                    *(row.value for row in entry["stages"]),
                    entry["amount"],
                ]
                for entry in board.referrals
            ],
            drawn=tuple(range(1, len(stage_labels) + 1)),
            colors=["neutral", "info", "good", "bad"],
            note=_("Referrals made in the period, by their stage today; amounts disbursed in it."),
        )
    )
    charts.add(
        _distribution(
            "case-types",
            _("Cases reported in the period by type"),
            _("Type"),
            board.cases_by_type,
            kind="hbar",
            tall=True,
        )
    )
    charts.add(
        _distribution(
            "case-status",
            _("Cases reported in the period by status"),
            _("Status"),
            board.cases_by_status,
        )
    )

    # Data quality.
    people = board.quality.get("total", 0)
    charts.add(
        Chart(
            slug="quality",
            title=_("Data quality of the register"),
            kind="hbar",
            columns=[
                Column(_("Problem"), TEXT),
                Column(_("People")),
                Column(_("Share (%)"), PERCENT),
            ],
            rows=[
                [str(label), board.quality.get(name, 0), share(board.quality.get(name, 0), people)]
                for name, label in (
                    ("missing_nik", _("No NIK")),
                    ("nik_warnings", _("NIK with a warning")),
                    ("unverified", _("Not verified")),
                )
            ],
            note=_("Shares of the %(people)s people in the register.")
            % {"people": number_format(people, 0, force_grouping=True)},
        )
    )

    # Tables only.
    if board.child_level:
        charts.add(
            Chart(
                slug="children",
                title=str(CHILD_TITLES[board.child_level]),
                kind="table",
                columns=[
                    Column(CHILD_HEADINGS[board.child_level], TEXT),
                    Column(_("Code"), TEXT),
                    Column(_("Desmigratif villages")),
                    Column(_("People")),
                    Column(_("Working abroad (PMI)")),
                    Column(_("Departures in the period")),
                    Column(_("Returns in the period")),
                ],
                rows=[
                    [c.label, c.code, c.villages, c.people, c.pmi, c.departures, c.returns]
                    for c in board.children
                ],
                drawn=(),
            )
        )
    if board.matrix:
        pillars = matrix_pillars(board)
        columns = [Column(_("Village"), TEXT), Column(_("Code"), TEXT), Column(_("Cohort"), TEXT)]
        columns.append(Column(_("Active pillars")))
        for pillar in pillars:
            columns.append(Column(f"{pillar.name}: {_('state')}", TEXT))
            label = _("%(pillar)s: last activity") % {"pillar": pillar.name}
            columns.append(Column(label, DATE))
        rows = []
        for row in board.matrix:
            states = {pillar.pk: (last, active) for pillar, last, active in row.states}
            cells = [row.label, row.code, str(row.cohort), row.active]
            for pillar in pillars:
                last, active = states.get(pillar.pk, (None, None))
                if active is None:
                    cells += [_("not in its programme"), None]
                else:
                    cells += [_("active") if active else _("inactive"), last]
            rows.append(cells)
        charts.add(
            Chart(
                slug="matrix",
                title=_("Pillar matrix"),
                kind="table",
                columns=columns,
                rows=rows,
                drawn=(),
            )
        )
    if board.coverage:
        heading = CHILD_HEADINGS[1 if board.level == 0 else 2]
        charts.add(
            Chart(
                slug="coverage",
                title=_("Villages running each pillar"),
                kind="table",
                columns=[
                    Column(heading, TEXT),
                    Column(_("Code"), TEXT),
                    Column(_("Desmigratif villages")),
                    *(Column(pillar.name) for pillar in board.pillars),
                ],
                rows=[
                    [entry.label, entry.code, entry.villages, *entry.active]
                    for entry in board.coverage
                ],
                drawn=(),
            )
        )
    charts.add(
        Chart(
            slug="silent",
            title=_("Silent villages"),
            kind="table",
            columns=[
                Column(_("Village"), TEXT),
                Column(_("Code"), TEXT),
                Column(_("Last monthly report"), MONTH),
                Column(_("Last pillar activity"), DATE),
            ],
            rows=[[s.label, s.code, s.last_report, s.last_activity] for s in board.silent],
            drawn=(),
        )
    )
    return charts


def matrix_pillars(board: Dashboard) -> list:
    """The pillar columns of the matrix: the dashboard's, then any other variant's pillars."""
    pillars = list(board.pillars)
    seen = {pillar.pk for pillar in pillars}
    for row in board.matrix:
        for pillar, _last, _active in row.states:
            if pillar.pk not in seen:
                seen.add(pillar.pk)
                pillars.append(pillar)
    return pillars


def period_label(start: datetime.date, end: datetime.date) -> str:
    return _("%(start)s to %(end)s") % {
        "start": date_format(start, "M Y"),
        "end": date_format(end, "M Y"),
    }
