"""The dashboards: the country, a province, regency, district or village, drilled down by a click.

Figures come from dashboards.indicators.dashboard (summary tables, a fixed number of queries);
this module reads the filters, lays the figures out as charts and tables (dashboards.charts)
and links each region to its children and its ancestors, keeping the filters.
"""

import datetime
import re
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import Action, require
from accounts.scope import scope_prefix
from dashboards import charts as chart_layout
from dashboards.indicators import Dashboard, dashboard, default_period, region_in_scope
from migrants.models import Status
from villages.models import Designation

MONTHS_BACK = 36  # the summary tables keep this many months (dashboards.summaries.MONTHS_KEPT)
REGION_CODE = re.compile(r"\d{2}(?:\.\d{2}(?:\.\d{2}(?:\.\d{4})?)?)?")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?")


def add_months(month: datetime.date, n: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


class MonthField(forms.Field):
    """A month typed as YYYY-MM (browsers with a month picker send exactly that)."""

    widget = forms.TextInput(
        attrs={"type": "month", "placeholder": "YYYY-MM", "inputmode": "numeric"}
    )
    default_error_messages = {
        "invalid": gettext_lazy("Enter a month as YYYY-MM, for example 2025-03."),
    }

    def to_python(self, value) -> datetime.date | None:
        if isinstance(value, datetime.date):
            return value.replace(day=1)
        value = (value or "").strip()
        if not value:
            return None
        match = _MONTH.fullmatch(value)
        if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return datetime.date(int(match[1]), int(match[2]), 1)

    def prepare_value(self, value) -> str:
        if isinstance(value, datetime.date):
            return value.strftime("%Y-%m")
        return value or ""


class DashboardFilter(forms.Form):
    """Cohort and period (months, both ends included); the last 12 months by default."""

    cohort = forms.TypedChoiceField(
        label=gettext_lazy("Cohort"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, data, *, cohorts: list[int], today: datetime.date | None = None) -> None:
        self.this_month = (today or timezone.localdate()).replace(day=1)
        self.default_start, self.default_end = default_period(today)
        data = data.copy()
        if not data.get("from") and not data.get("to"):
            data["from"] = self.default_start.strftime("%Y-%m")
            data["to"] = self.default_end.strftime("%Y-%m")
        super().__init__(data)
        self.fields["cohort"].choices = [("", _("All cohorts")), *((y, str(y)) for y in cohorts)]
        self.fields["from"] = MonthField(
            label=_("From (month)"), required=False, help_text=_("YYYY-MM")
        )
        self.fields["to"] = MonthField(
            label=_("To (month)"), required=False, help_text=_("YYYY-MM")
        )

    @property
    def earliest(self) -> datetime.date:
        return add_months(self.this_month, 1 - MONTHS_BACK)

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if "from" in self.errors or "to" in self.errors:
            return data
        # One end alone: a year from or up to it.
        if start is None and end is not None:
            start = max(add_months(end, -11), self.earliest)
        if end is None and start is not None:
            end = min(add_months(start, 11), self.this_month)
        if start < self.earliest:
            self.add_error(
                "from",
                _("The period can start at most %(months)s months back, in %(month)s.")
                % {"months": MONTHS_BACK, "month": self.earliest.strftime("%Y-%m")},
            )
        if end > self.this_month:
            self.add_error("to", _("The period cannot end after this month."))
        if start > end:
            self.add_error("to", _("The end of the period cannot come before its start."))
        data["from"], data["to"] = start, end
        return data

    def figures_filter(self) -> tuple[int | None, datetime.date, datetime.date]:
        """(cohort, start, end) to count: the defaults when the filters are not valid."""
        if not self.is_valid():
            return None, self.default_start, self.default_end
        return self.cleaned_data["cohort"], self.cleaned_data["from"], self.cleaned_data["to"]

    def query(self) -> dict[str, str]:
        """The filters in effect that differ from the defaults, for links to other regions."""
        cohort, start, end = self.figures_filter()
        query = {}
        if cohort:
            query["cohort"] = str(cohort)
        if (start, end) != (self.default_start, self.default_end):
            query["from"], query["to"] = start.strftime("%Y-%m"), end.strftime("%Y-%m")
        return query


def cohort_choices(user) -> list[int]:
    return list(
        Designation.objects.for_user(user)
        .values_list("cohort_year", flat=True)
        .distinct()
        .order_by("cohort_year")
    )


def dashboard_url(code: str | None, query: dict[str, str] | None = None) -> str:
    url = reverse("dashboards:region", args=[code]) if code else reverse("dashboards:national")
    return f"{url}?{urlencode(query)}" if query else url


@never_cache
@login_required
def national(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.VIEW_PILLARS)
    prefix = scope_prefix(request.user)
    if prefix is not None:
        # Everyone below the country starts at their own region.
        url = reverse("dashboards:region", args=[prefix])
        if request.GET:
            url += "?" + request.GET.urlencode()
        return redirect(url)
    return _page(request, None)


@never_cache
@login_required
def region(request: HttpRequest, code: str) -> HttpResponse:
    require(request.user, Action.VIEW_PILLARS)
    return _page(request, code)


def _page(request: HttpRequest, code: str | None) -> HttpResponse:
    user = request.user
    form = DashboardFilter(request.GET, cohorts=cohort_choices(user))
    cohort, start, end = form.figures_filter()
    board = dashboard(user, code, cohort=cohort, start=start, end=end)
    charts = chart_layout.build(board)
    departures = sum(row.value for row in board.departures_by_procedure)
    matrix_pillars = chart_layout.matrix_pillars(board)
    query = form.query()
    data_query = urlencode({"region": code or "", **query})
    trail = []
    for index, (trail_code, label) in enumerate(board.trail):
        current = index == len(board.trail) - 1
        linked = not current and region_in_scope(user, trail_code or None)
        trail.append(
            {
                "label": label,
                "url": dashboard_url(trail_code or None, query) if linked else None,
                "current": current,
            }
        )
    title = (
        _("National dashboard")
        if board.level == 0
        else _("Dashboard: %(region)s") % {"region": board.trail[-1][1]}
    )

    def group(*slugs: str) -> list[chart_layout.Chart]:
        return [charts[slug] for slug in slugs if charts.get(slug)]

    context = {
        "board": board,
        "title": title,
        "level_name": board.region.kind_label if board.region else _("country"),
        "form": form,
        "filters_valid": form.is_valid(),
        "period": chart_layout.period_label(board.start, board.end),
        "trail": trail,
        "key_figures": key_figures(board),
        "children": [(child, dashboard_url(child.code, query)) for child in board.children],
        "children_table": charts.get("children"),
        "register_charts": group("status", "sex", "country", "job", "scheme", "sector"),
        "procedural_share": (
            number_format(100 * board.procedural_share, 1)
            if board.procedural_share is not None
            else None
        ),
        "departures": departures,
        "departures_display": number_format(departures, 0, force_grouping=True),
        "migration_charts": group("months", "procedure", "returns"),
        "pillar_charts": group("pillars", "referrals", "case-types", "case-status"),
        "matrix_pillars": matrix_pillars,
        "matrix": [(row, _matrix_cells(row, matrix_pillars)) for row in board.matrix],
        "coverage": [
            (
                entry,
                dashboard_url(entry.code, query),
                [(p.name, n) for p, n in zip(board.pillars, entry.active, strict=True)],
            )
            for entry in board.coverage
        ],
        "silent": [(s, dashboard_url(s.code, query)) for s in board.silent],
        "quality": charts["quality"],
        "quality_figures": [
            (label, count, "–" if percent is None else number_format(percent, 1))
            for label, count, percent in charts["quality"].rows
        ],
        "silent_days": settings.SILENT_VILLAGE_DAYS,
        "active_days": settings.PILLAR_ACTIVE_DAYS,
        "data_query": data_query,
        "query": urlencode(query),
        "village_page": _village_page(board),
        "report_url": _url_or_none("reports:request"),
    }
    return render(request, "dashboards/dashboard.html", context)


def key_figures(board: Dashboard) -> list[tuple[str, str, int]]:
    """(key, label, value) of the figures at the top of the page."""
    by_status = {row.key: row.value for row in board.people_by_status}
    departures = sum(row.value for row in board.departures_by_procedure)
    returns = sum(row.value for row in board.returns_by_reason)
    return [
        ("people", _("People in the register"), board.people_total),
        ("pmi", _("Working abroad (PMI)"), by_status.get(Status.PMI, 0)),
        ("cpmi", _("Prospective workers (CPMI)"), by_status.get(Status.CPMI, 0)),
        ("purna", _("Returned workers (purna)"), by_status.get(Status.PURNA, 0)),
        ("villages", _("Desmigratif villages"), board.villages),
        ("departures", _("Departures in the period"), departures),
        ("returns", _("Returns in the period"), returns),
    ]


def _matrix_cells(row, pillars) -> list[tuple[object, datetime.date | None, bool | None]]:
    """One cell per pillar column: (pillar, last activity, active); active None when the
    pillar is not part of the village's programme."""
    states = {pillar.pk: (last, active) for pillar, last, active in row.states}
    return [(pillar, *states.get(pillar.pk, (None, None))) for pillar in pillars]


def _village_page(board: Dashboard) -> str | None:
    if board.level != 4 or not board.matrix:  # only designated villages have a page
        return None
    return _url_or_none("villages:detail", board.region.code)


def _url_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # a page not mounted (yet): no dead link
        return None


@never_cache
@login_required
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    """Ask for fresh figures now (beat also refreshes them every SUMMARY_REFRESH_MINUTES).
    The refresh runs in the background; a second click while it runs does nothing."""
    require(request.user, Action.VIEW_PILLARS)
    from dashboards.tasks import refresh_summaries

    refresh_summaries.delay_on_commit()
    messages.info(
        request, _("The figures are being refreshed; reload the page in a minute to see them.")
    )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("dashboards:national")
    return redirect(target)
