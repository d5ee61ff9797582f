"""The figures of a dashboard, read from the summary tables (a fixed number of queries).

`dashboard(user, region_code, cohort=, start=, end=)` answers for the country (region_code None)
or any province, regency, district or village inside the user's scope.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Max, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts.permissions import Action, can
from accounts.scope import scope_prefix
from dashboards.models import NATIONAL, Fact, PillarActivity, SummaryRun
from migrants.countries import country_name
from migrants.models import PlacementScheme, Procedural, ReturnReason, Sector, Status
from pillars.models import Case, PartnerProgramme, Pillar, Referral, ServiceType
from villages.models import Designation, Region

LEVEL_NAMES = {
    0: gettext_lazy("national"),
    1: gettext_lazy("province"),
    2: gettext_lazy("regency/city"),
    3: gettext_lazy("district"),
    4: gettext_lazy("village"),
}
TOP = 12  # the longest lists (countries, job titles) show this many, then "other"


@dataclass
class Row:
    key: str
    label: str
    value: int


@dataclass
class Child:
    """A region one level down, for the drill-down table."""

    code: str
    label: str
    people: int
    pmi: int
    departures: int
    returns: int
    villages: int


@dataclass
class MatrixRow:
    code: str
    label: str
    cohort: int
    states: list[tuple[Pillar, datetime.date | None, bool]]  # pillar, last activity, active

    @property
    def active(self) -> int:
        return sum(1 for _pillar, _last, active in self.states if active)


@dataclass
class PillarCoverage:
    """Above the regency level: per child region, how many villages run each pillar."""

    code: str
    label: str
    villages: int
    active: list[int]  # per pillar, in the order of Dashboard.pillars


@dataclass
class Silent:
    code: str
    label: str
    last_report: datetime.date | None
    last_activity: datetime.date | None


@dataclass
class Dashboard:
    region: Region | None
    level: int
    trail: list[tuple[str, str]]  # (code, label) from the country down to the region
    cohort: int | None
    start: datetime.date
    end: datetime.date
    refreshed_at: datetime.datetime | None
    people_by_status: list[Row] = field(default_factory=list)
    people_by_sex: list[Row] = field(default_factory=list)
    people_by_country: list[Row] = field(default_factory=list)
    people_by_job: list[Row] = field(default_factory=list)
    people_by_scheme: list[Row] = field(default_factory=list)
    people_by_sector: list[Row] = field(default_factory=list)
    departures_by_procedure: list[Row] = field(default_factory=list)  # in the period
    procedural_share: float | None = None  # procedural departures / departures, in the period
    months: list[datetime.date] = field(default_factory=list)  # the 24 months to `end`
    departures_by_month: list[int] = field(default_factory=list)
    returns_by_month: list[int] = field(default_factory=list)
    returns_by_reason: list[Row] = field(default_factory=list)  # in the period
    pillar_activity: list[Row] = field(default_factory=list)  # in the period, and now
    referrals: list[dict] = field(default_factory=list)  # programme, stage counts, amount
    cases_by_type: list[Row] = field(default_factory=list)
    cases_by_status: list[Row] = field(default_factory=list)
    quality: dict[str, int] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)
    child_level: int | None = None
    pillars: list[Pillar] = field(default_factory=list)
    matrix: list[MatrixRow] = field(default_factory=list)  # regency level and below
    coverage: list[PillarCoverage] = field(default_factory=list)  # above the regency level
    silent: list[Silent] = field(default_factory=list)
    villages: int = 0

    @property
    def people_total(self) -> int:
        return sum(row.value for row in self.people_by_status)


def months_between(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The last twelve months, this one included."""
    today = today or timezone.localdate()
    end = today.replace(day=1)
    start = months_between(end.replace(year=end.year - 1), end)[1]
    return start, end


def region_in_scope(user, code: str | None) -> bool:
    if not can(user, Action.VIEW_PILLARS):
        return False
    prefix = scope_prefix(user)
    if prefix is None:
        return bool(user.is_national)
    if code is None:
        return False
    return code == prefix or code.startswith(prefix + ".")


def _labels(metric: str):
    def choices(enum):
        return dict(enum.choices)

    table = {
        "people.status": choices(Status),
        "people.sex": {"L": _("men"), "P": _("women")},
        "people.scheme": choices(PlacementScheme),
        "people.sector": choices(Sector),
        "departures": choices(Procedural),
        "returns": {**choices(ReturnReason), "": _("not given")},
        "services": choices(ServiceType),
        "cases.type": choices(Case.Type),
        "cases.status": choices(Case.Resolution),
    }.get(metric)
    if metric == "people.country":
        language = "en" if (get_language() or "id").startswith("en") else "id"
        return lambda key: country_name(key, language)
    if table is None:
        return lambda key: key or _("not given")
    return lambda key: str(table.get(key, key or _("not given")))


def _rows(values: dict[str, int], metric: str, *, top: int | None = None, order=None) -> list[Row]:
    label = _labels(metric)
    if order is not None:
        rows = [Row(key, label(key), values.get(key, 0)) for key in order]
        rows += [Row(k, label(k), v) for k, v in values.items() if k not in set(order)]
        return [row for row in rows if row.value or row.key in order]
    rows = sorted(
        (Row(k, label(k), v) for k, v in values.items() if v), key=lambda r: (-r.value, r.label)
    )
    if top is not None and len(rows) > top:
        rest = sum(row.value for row in rows[top:])
        rows = [*rows[:top], Row("", _("other"), rest)]
    return rows


def dashboard(
    user,
    region_code: str | None,
    *,
    cohort: int | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> Dashboard:
    """The dashboard of a region (None: the country) for the user; 404 outside the scope."""
    if not region_in_scope(user, region_code):
        raise Http404
    if start is None or end is None:
        start, end = default_period()
    start, end = start.replace(day=1), end.replace(day=1)
    region = None
    trail: list[tuple[str, str]] = [("", _("Indonesia"))]
    level = 0
    if region_code:
        ancestors = [region_code[:2], region_code[:5], region_code[:8], region_code]
        wanted = ancestors[: len(region_code.split("."))]
        regions = {r.code: r for r in Region.objects.filter(code__in=wanted)}
        region = regions.get(region_code)
        if region is None or region.level == 0:
            raise Http404
        level = region.level
        trail += [(code, regions[code].label) for code in wanted if code in regions]
    code = region_code or NATIONAL
    run = SummaryRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()
    result = Dashboard(
        region=region,
        level=level,
        trail=trail,
        cohort=cohort,
        start=start,
        end=end,
        refreshed_at=run.finished_at if run else None,
    )

    # 1. The region's own figures: the snapshot and the months of the charts and the period.
    chart_months = months_between(
        (end - datetime.timedelta(days=365 * 2 - 31)).replace(day=1), end
    )[-24:]
    first = min(chart_months[0], start)
    facts = Fact.objects.filter(region=code).filter(month__isnull=True) | Fact.objects.filter(
        region=code, month__gte=first, month__lte=end
    )
    if cohort:
        facts = facts.filter(cohort_year=cohort)
    snapshot: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    period: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    series: dict[str, dict[datetime.date, int]] = defaultdict(lambda: defaultdict(int))
    rows = facts.values_list("metric", "key", "month").annotate(total=Sum("value")).order_by()
    for metric, key, month, total in rows:
        if month is None:
            snapshot[metric][key] += total
            continue
        series[metric][month] += total
        if start <= month <= end:
            period[metric][key] += total

    result.people_by_status = _rows(
        snapshot["people.status"], "people.status", order=[s.value for s in Status]
    )
    result.people_by_sex = _rows(snapshot["people.sex"], "people.sex", order=["L", "P"])
    result.people_by_country = _rows(snapshot["people.country"], "people.country", top=TOP)
    result.people_by_job = _rows(snapshot["people.job"], "people.job", top=TOP)
    result.people_by_scheme = _rows(snapshot["people.scheme"], "people.scheme")
    result.people_by_sector = _rows(snapshot["people.sector"], "people.sector")
    result.departures_by_procedure = _rows(
        period["departures"], "departures", order=[p.value for p in Procedural]
    )
    departed = sum(period["departures"].values())
    if departed:
        result.procedural_share = period["departures"].get(Procedural.PROCEDURAL, 0) / departed
    result.months = chart_months
    result.departures_by_month = [series["departures"].get(m, 0) for m in chart_months]
    result.returns_by_month = [series["returns"].get(m, 0) for m in chart_months]
    result.returns_by_reason = _rows(period["returns"], "returns")
    result.cases_by_type = _rows(period["cases.type"], "cases.type")
    result.cases_by_status = _rows(
        period["cases.status"], "cases.status", order=[r.value for r in Case.Resolution]
    )
    result.quality = {
        name: snapshot[f"quality.{name}"].get("", 0)
        for name in ("total", "missing_nik", "nik_warnings", "unverified")
    }

    def total(metric: str, source=period) -> int:
        return sum(source[metric].values())

    result.pillar_activity = [
        Row("services", _("Services given"), total("services")),
        Row("outreach.events", _("Outreach events"), total("outreach.events")),
        Row("outreach.men", _("Men at outreach events"), total("outreach.men")),
        Row("outreach.women", _("Women at outreach events"), total("outreach.women")),
        Row(
            "enterprises.running",
            _("Enterprises running now"),
            total("enterprises.running", snapshot),
        ),
        Row("trainings", _("Trainings finished"), total("trainings")),
        Row("trainings.participants", _("Training participants"), total("trainings.participants")),
        Row("sessions", _("Parenting sessions"), total("sessions")),
        Row("sessions.children", _("Children at sessions"), total("sessions.children")),
        Row("children.enrolled", _("Children enrolled now"), total("children.enrolled", snapshot)),
        Row(
            "cooperatives.members",
            _("Cooperative members now"),
            total("cooperatives.members", snapshot),
        ),
    ]

    # 2. Partner referrals: counts by programme and present stage, amounts disbursed.
    programmes = {p.code: p.name for p in PartnerProgramme.objects.all()}
    by_programme: dict[str, dict] = {}
    for key, count in period["referrals"].items():
        programme, _sep, stage = key.partition(":")
        entry = by_programme.setdefault(
            programme,
            {"programme": programmes.get(programme, programme), "stages": defaultdict(int)},
        )
        entry["stages"][stage] += count
    for programme, amount in period["referrals.amount"].items():
        by_programme.setdefault(
            programme,
            {"programme": programmes.get(programme, programme), "stages": defaultdict(int)},
        )["amount"] = amount
    result.referrals = [
        {
            "programme": entry["programme"],
            "stages": [
                Row(stage.value, str(stage.label), entry["stages"].get(stage.value, 0))
                for stage in Referral.Stage
            ],
            "amount": entry.get("amount", 0),
        }
        for entry in sorted(by_programme.values(), key=lambda e: str(e["programme"]))
    ]

    # 3. One level down: the drill-down table.
    if level < 4:
        child_facts = Fact.objects.filter(
            parent=code,
            metric__in=["people.status", "departures", "returns", "quality.total"],
        )
        child_facts = child_facts.filter(month__isnull=True) | child_facts.filter(
            month__gte=start, month__lte=end
        )
        if cohort:
            child_facts = child_facts.filter(cohort_year=cohort)
        figures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for child, metric, key, total_value in (
            child_facts.values_list("region", "metric", "key")
            .annotate(total=Sum("value"))
            .order_by()
        ):
            if metric == "people.status":
                figures[child]["people"] += total_value
                if key == Status.PMI:
                    figures[child]["pmi"] += total_value
            else:
                figures[child][metric] += total_value
        designations = Designation.objects.all()
        if region_code:
            designations = designations.filter(village__code__startswith=region_code + ".")
        if cohort:
            designations = designations.filter(cohort_year=cohort)
        width = {0: 2, 1: 5, 2: 8, 3: 13}[level]
        villages_per_child: dict[str, int] = defaultdict(int)
        for village in designations.values_list("village_id", flat=True):
            villages_per_child[village[:width]] += 1
        codes = set(figures) | set(villages_per_child)
        labels = {r.code: r.label for r in Region.objects.filter(code__in=codes).only("name")}
        result.child_level = level + 1
        result.children = sorted(
            (
                Child(
                    code=child,
                    label=labels.get(child, child),
                    people=figures[child]["people"],
                    pmi=figures[child]["pmi"],
                    departures=figures[child]["departures"],
                    returns=figures[child]["returns"],
                    villages=villages_per_child.get(child, 0),
                )
                for child in codes
            ),
            key=lambda c: c.label,
        )

    # 4. The pillar matrix (regency and below) or the pillar coverage (above).
    designations = Designation.objects.filter(status=Designation.Status.ACTIVE).select_related(
        "village"
    )
    if region_code:
        designations = designations.filter(village__code__startswith=region_code + ".")
        if level == 4:
            designations = Designation.objects.filter(village_id=region_code).select_related(
                "village"
            )
    if cohort:
        designations = designations.filter(cohort_year=cohort)
    designations = list(designations)
    result.villages = len(designations)
    variants = {d.variant_id for d in designations}
    pillars = list(Pillar.objects.filter(variant_id__in=variants, active=True))
    result.pillars = [p for p in pillars if p.variant_id == min(variants, default=None)] or pillars
    by_variant: dict[int, list[Pillar]] = defaultdict(list)
    for pillar in pillars:
        by_variant[pillar.variant_id].append(pillar)
    village_codes = [d.village_id for d in designations]
    activity_query = PillarActivity.objects.all()
    if region_code:
        activity_query = activity_query.filter(
            village__startswith=region_code if level == 4 else region_code + "."
        )
    latest = {(a.village, a.pillar_id): a.last_activity for a in activity_query}
    since = timezone.localdate() - datetime.timedelta(days=settings.PILLAR_ACTIVE_DAYS)
    matrix = []
    for designation in designations:
        states = []
        for pillar in by_variant[designation.variant_id]:
            last = latest.get((designation.village_id, pillar.pk))
            states.append((pillar, last, last is not None and last >= since))
        matrix.append(
            MatrixRow(
                designation.village_id, designation.village.name, designation.cohort_year, states
            )
        )
    if level >= 2:
        result.matrix = sorted(matrix, key=lambda r: (r.active, r.label))
    else:
        width = 2 if level == 0 else 5
        coverage: dict[str, PillarCoverage] = {}
        order = {p.pk: i for i, p in enumerate(result.pillars)}
        for row in matrix:
            child = row.code[:width]
            entry = coverage.setdefault(
                child, PillarCoverage(child, child, 0, [0] * len(result.pillars))
            )
            entry.villages += 1
            for pillar, _last, active in row.states:
                if active and pillar.pk in order:
                    entry.active[order[pillar.pk]] += 1
        labels = {r.code: r.label for r in Region.objects.filter(code__in=coverage).only("name")}
        for entry in coverage.values():
            entry.label = labels.get(entry.code, entry.code)
        result.coverage = sorted(coverage.values(), key=lambda c: c.label)

    # 5. Silent villages: no report, or no pillar activity, for SILENT_VILLAGE_DAYS (a report
    # counts from the end of its month).
    from pillars.models import MonthlyReport

    quiet_since = timezone.localdate() - datetime.timedelta(days=settings.SILENT_VILLAGE_DAYS)
    reports = dict(
        MonthlyReport.objects.filter(
            village_id__in=village_codes,
            state__in=[MonthlyReport.State.SUBMITTED, MonthlyReport.State.VERIFIED],
        )
        .values_list("village_id")
        .annotate(last=Max("month"))
        .order_by()
    )
    for row in matrix:
        last_activity = max((last for _p, last, _a in row.states if last), default=None)
        last_report = reports.get(row.code)
        report_day = (
            (last_report + datetime.timedelta(days=32)).replace(day=1) if last_report else None
        )
        if (report_day is None or report_day < quiet_since) or (
            last_activity is None or last_activity < quiet_since
        ):
            result.silent.append(Silent(row.code, row.label, last_report, last_activity))
    result.silent.sort(key=lambda s: s.label)
    return result
