"""Rebuilding the summary tables (dashboards.models.Fact, PillarActivity) from the data.

Every figure is first counted per village (grouped queries over the register and the pillar
tables; the register's latest migrations are streamed once), then added up the region tree
(district, regency, province, the country) keeping the cohort apart, and the whole table is
replaced in one transaction: readers see the old figures until the new ones are complete.
"""

import datetime
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from dashboards.models import NATIONAL, Fact, PillarActivity, SummaryRun
from desmigratif.bulk import insert_rows
from migrants.models import Episode, Person, Verification
from pillars.models import Case as PillarCase
from pillars.models import (
    ChildEnrolment,
    Cooperative,
    CooperativeMember,
    Enterprise,
    Outreach,
    ParentingSession,
    Referral,
    ServiceLog,
    Training,
)
from pillars.services import last_activity
from villages.models import Designation

MONTHS_KEPT = 36  # the time series reach back this far (24 months shown, a year to compare)

# (village, month or None, metric, key) -> value
Counts = dict[tuple[str, datetime.date | None, str, str], int]


def _month(value) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value[:10])
    return value.replace(day=1)


def _add(counts: Counts, rows: Iterable, metric: str, *, key=None, month: bool = False) -> None:
    """Add grouped rows (dicts with village, optional month and key, and n) to the counts."""
    for row in rows:
        value = row["n"] or 0
        if not value:
            continue
        key_value = row.get("key") if key is None else key
        month_value = _month(row["month"]) if month else None
        counts[(row["v"], month_value, metric, str(key_value or ""))] += int(value)


def village_counts(*, today: datetime.date | None = None) -> Counts:
    """Every figure of the dashboards, per village, in one dictionary."""
    merged: Counts = defaultdict(int)
    for group in village_count_groups(today=today):
        for key, value in group.items():
            merged[key] += value
    return merged


def village_count_groups(*, today: datetime.date | None = None) -> Iterator[Counts]:
    """Every figure of the dashboards, per village, a group of metrics at a time (so a
    million-person register never holds all its figures in memory at once)."""
    today = today or timezone.localdate()
    since = (today.replace(day=1) - datetime.timedelta(days=31 * (MONTHS_KEPT - 1))).replace(day=1)
    counts: Counts = defaultdict(int)
    people = Person.objects.alive()

    # The register now.
    for metric, column in (("people.status", "status"), ("people.sex", "sex")):
        rows = people.values(v=F("village_id"), key=F(column)).annotate(n=Count("pk"))
        _add(counts, rows.order_by(), metric)
    rows = (
        people.filter(status="pmi")
        .exclude(current_country="")
        .values(v=F("village_id"), key=F("current_country"))
        .annotate(n=Count("pk"))
    )
    _add(counts, rows.order_by(), "people.country")
    quality = people.values(v=F("village_id")).annotate(
        total=Count("pk"),
        missing_nik=Count("pk", filter=Q(nik__isnull=True)),
        nik_warnings=Count("pk", filter=~Q(nik_warnings=[])),
        unverified=Count("pk", filter=~Q(verification=Verification.VERIFIED)),
    )
    for row in quality.order_by():
        for name in ("total", "missing_nik", "nik_warnings", "unverified"):
            if row[name]:
                counts[(row["v"], None, f"quality.{name}", "")] += row[name]

    yield counts
    counts = defaultdict(int)

    # The latest migration of each person (job, scheme, sector): one ordered stream.
    latest = (
        Episode.objects.filter(person__deleted_at__isnull=True)
        .order_by("person_id", F("departure_date").desc(nulls_first=True), "-created_at")
        .values_list("person_id", "person__village_id", "job_title", "placement_scheme", "sector")
    )
    previous = None
    for person_id, village, job, scheme, sector in latest.iterator(chunk_size=20_000):
        if person_id == previous:
            continue
        previous = person_id
        if job:
            # "domestic WORKER" and "Domestic worker" are one job title.
            counts[(village, None, "people.job", " ".join(job.split()).title()[:120])] += 1
        if scheme:
            counts[(village, None, "people.scheme", scheme)] += 1
        if sector:
            counts[(village, None, "people.sector", sector)] += 1

    yield counts
    counts = defaultdict(int)

    # Departures and returns by month.
    episodes = Episode.objects.filter(person__deleted_at__isnull=True)
    rows = (
        episodes.filter(departure_date__gte=since, departure_date__lte=today)
        .values(
            v=F("person__village_id"),
            month=TruncMonth("departure_date"),
            key=F("procedural_status"),
        )
        .annotate(n=Count("pk"))
    )
    _add(counts, rows.order_by(), "departures", month=True)
    rows = (
        episodes.filter(return_date__gte=since, return_date__lte=today)
        .values(v=F("person__village_id"), month=TruncMonth("return_date"), key=F("return_reason"))
        .annotate(n=Count("pk"))
    )
    _add(counts, rows.order_by(), "returns", month=True)

    yield counts
    counts = defaultdict(int)

    # Pillar activity by month.
    def monthly(model, date_field: str, metric: str, *, key=None, n=None, extra=None):
        queryset = model.objects.alive().filter(
            **{f"{date_field}__gte": since, f"{date_field}__lte": today}, **(extra or {})
        )
        values = {"v": F("village_id"), "month": TruncMonth(date_field)}
        if key is not None:
            values["key"] = F(key)
        rows = queryset.values(**values).annotate(n=n or Count("pk"))
        _add(counts, rows.order_by(), metric, month=True, key=None if key else "")

    monthly(ServiceLog, "date", "services", key="service_type")
    monthly(Outreach, "date", "outreach.events")
    monthly(Outreach, "date", "outreach.men", n=Sum("attendees_male"))
    monthly(Outreach, "date", "outreach.women", n=Sum("attendees_female"))
    monthly(Training, "end_date", "trainings")
    monthly(Training, "end_date", "trainings.participants", n=Count("participants"))
    monthly(ParentingSession, "date", "sessions")
    monthly(ParentingSession, "date", "sessions.children", n=Sum("children_attending"))
    monthly(PillarCase, "reported_on", "cases.type", key="case_type")
    monthly(PillarCase, "reported_on", "cases.status", key="resolution")
    yield counts
    counts = defaultdict(int)

    # Referrals by the month they were made, by programme and present stage; amounts by the
    # month they were disbursed.
    rows = (
        Referral.objects.alive()
        .filter(referred_on__gte=since, referred_on__lte=today)
        .values(
            v=F("village_id"),
            month=TruncMonth("referred_on"),
            programme_code=F("programme__code"),
            stage_value=F("stage"),
        )
        .annotate(n=Count("pk"))
    )
    for row in rows.order_by():
        key = f"{row['programme_code']}:{row['stage_value']}"
        counts[(row["v"], _month(row["month"]), "referrals", key)] += row["n"]
    rows = (
        Referral.objects.alive()
        .filter(stage="disbursed", disbursed_on__gte=since, disbursed_on__lte=today)
        .values(v=F("village_id"), month=TruncMonth("disbursed_on"), key=F("programme__code"))
        .annotate(n=Sum("amount_disbursed"))
    )
    _add(counts, rows.order_by(), "referrals.amount", month=True)

    # Pillar state now.
    def now(model, metric: str, **conditions):
        rows = (
            model.objects.alive()
            .filter(**conditions)
            .values(v=F("village_id"))
            .annotate(n=Count("pk"))
        )
        _add(counts, rows.order_by(), metric, key="")

    now(Enterprise, "enterprises.running", state=Enterprise.State.RUNNING)
    now(Cooperative, "cooperatives.active", state=Cooperative.State.ACTIVE)
    now(ChildEnrolment, "children.enrolled", left_on__isnull=True)
    now(CooperativeMember, "cooperatives.members", left_on__isnull=True)
    yield counts


def _ancestors(village: str) -> list[tuple[str, str | None, int]]:
    """(region, parent, level) from the village up to the country."""
    district, regency, province = village[:8], village[:5], village[:2]
    return [
        (village, district, 4),
        (district, regency, 3),
        (regency, province, 2),
        (province, NATIONAL, 1),
        (NATIONAL, None, 0),
    ]


def roll_up(counts: Counts, cohorts: dict[str, int]) -> dict[tuple, int]:
    """Village figures added up to every level: (region, parent, level, cohort, month, metric,
    key) -> value."""
    totals: dict[tuple, int] = defaultdict(int)
    for (village, month, metric, key), value in counts.items():
        cohort = cohorts.get(village, 0)
        for region, parent, level in _ancestors(village):
            totals[(region, parent, level, cohort, month, metric, key)] += value
    return totals


def refresh_summaries() -> SummaryRun:
    """Rebuild Fact and PillarActivity; returns the run record (how fresh, how long)."""
    started = time.perf_counter()
    run = SummaryRun.objects.create(started_at=timezone.now())
    cohorts = dict(Designation.objects.values_list("village_id", "cohort_year"))
    latest = last_activity(cohorts)
    facts = 0
    with transaction.atomic():
        Fact.objects.all().delete()
        PillarActivity.objects.all().delete()
        for group in village_count_groups():
            totals = roll_up(group, cohorts)
            del group
            insert_rows(
                Fact,
                (
                    {
                        "region": region,
                        "parent": parent,
                        "level": level,
                        "cohort_year": cohort,
                        "month": month,
                        "metric": metric,
                        "key": key,
                        "value": value,
                    }
                    for (region, parent, level, cohort, month, metric, key), value in totals.items()
                ),
                count=len(totals),
            )
            facts += len(totals)
            del totals
        insert_rows(
            PillarActivity,
            (
                {"village": village, "pillar_id": pillar, "last_activity": day}
                for (village, pillar), day in latest.items()
            ),
            count=len(latest),
        )
        run.finished_at = timezone.now()
        run.facts = facts
        run.seconds = round(time.perf_counter() - started, 2)
        run.save(update_fields=["finished_at", "facts", "seconds"])
    return run


def last_refresh() -> SummaryRun | None:
    return SummaryRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()
