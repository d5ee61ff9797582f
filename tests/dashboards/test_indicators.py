"""The dashboards' figures, from the summary tables, against counts worked out by hand."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from dashboards.indicators import dashboard
from dashboards.models import Fact
from dashboards.summaries import refresh_summaries
from pillars import services as pillar_services
from pillars.models import Outreach, ServiceLog
from tests.migrants.factories import ARJOWILANGUN, BRONGKAL, KENANGA, come_home, depart, register

TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)
LAST_YEAR = (THIS_MONTH - datetime.timedelta(days=330)).replace(day=1)


def _months_ago(n: int) -> datetime.date:
    day = THIS_MONTH
    for _ in range(n):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    return day


@pytest.fixture
def figures(world):
    """Arjowilangun: 2 women abroad in Hong Kong (one procedural, one not), 1 man home from
    Taiwan (contract ended), 1 family member; Brongkal: 1 woman abroad in Malaysia (procedural);
    Kenanga (Indramayu): 1 man abroad in Saudi Arabia. One outreach (10 men, 15 women) and two
    services in Arjowilangun this month."""
    malang = world["coordinator_malang"]
    officer = world["officer_kenanga"]
    this_month = _months_ago(0)
    two_months_ago = _months_ago(2)
    a = register(actor=malang, sex="P")
    depart(a, actor=malang, on=this_month, country="HK", procedural_status="procedural")
    b = register(actor=malang, sex="P")
    depart(b, actor=malang, on=two_months_ago, country="HK", procedural_status="non_procedural")
    c = register(actor=malang, sex="L")
    depart(c, actor=malang, on=_months_ago(5), country="TW", procedural_status="procedural")
    come_home(c, actor=malang, on=two_months_ago)
    register(actor=malang, sex="P")  # family
    d = register(actor=malang, village=BRONGKAL, sex="P")
    depart(d, actor=malang, on=this_month, country="MY", procedural_status="procedural")
    e = register(actor=officer, village=KENANGA, sex="L")
    depart(e, actor=officer, on=this_month, country="SA")
    arjo_officer = world["officer_arjowilangun"]
    pillar_services.record_create(
        actor=arjo_officer,
        instance=Outreach(
            village_id=ARJOWILANGUN,
            date=TODAY,
            topic="Migrasi aman",
            attendees_male=10,
            attendees_female=15,
        ),
        kind="service_centre",
    )
    for service in ("information", "safe_migration"):
        pillar_services.record_create(
            actor=arjo_officer,
            instance=ServiceLog(
                village_id=ARJOWILANGUN, date=TODAY, service_type=service, officer=arjo_officer
            ),
            kind="service_centre",
        )
    refresh_summaries()
    return world


def values(rows) -> dict[str, int]:
    return {row.key: row.value for row in rows if row.value}


def test_national_figures_add_up_every_village(figures):
    board = dashboard(figures["evaluator"], None, start=LAST_YEAR, end=THIS_MONTH)
    assert values(board.people_by_status) == {"pmi": 4, "purna": 1, "keluarga": 1}
    assert values(board.people_by_sex) == {"P": 4, "L": 2}
    assert values(board.people_by_country) == {"HK": 2, "MY": 1, "SA": 1}
    assert values(board.departures_by_procedure) == {
        "procedural": 3,
        "non_procedural": 1,
        "unknown": 1,
    }
    assert board.procedural_share == pytest.approx(3 / 5)
    assert values(board.returns_by_reason) == {"contract_ended": 1}
    assert sum(board.departures_by_month) == 5
    assert board.departures_by_month[-1] == 3  # this month: a, d, e
    assert sum(board.returns_by_month) == 1
    activity = values(board.pillar_activity)
    assert activity["services"] == 2
    assert (activity["outreach.men"], activity["outreach.women"]) == (10, 15)
    assert board.quality["total"] == 6


def test_the_period_filter_counts_only_its_months(figures):
    board = dashboard(figures["evaluator"], None, start=THIS_MONTH, end=THIS_MONTH)
    assert values(board.departures_by_procedure) == {"procedural": 2, "unknown": 1}
    assert values(board.returns_by_reason) == {}
    # The register's present state does not depend on the period.
    assert values(board.people_by_status) == {"pmi": 4, "purna": 1, "keluarga": 1}


def test_the_cohort_filter_keeps_the_villages_of_that_cohort(figures):
    from villages.models import Designation

    cohort = Designation.objects.get(village_id=KENANGA).cohort_year
    others = set(
        Designation.objects.exclude(cohort_year=cohort).values_list("village_id", flat=True)
    )
    assert ARJOWILANGUN in others  # the demo designations put them in different cohorts
    board = dashboard(figures["evaluator"], None, cohort=cohort, start=LAST_YEAR, end=THIS_MONTH)
    assert values(board.people_by_country) == {"SA": 1}


def test_drill_down_lists_the_children_with_their_own_figures(figures):
    board = dashboard(figures["coordinator_malang"], "35.07", start=LAST_YEAR, end=THIS_MONTH)
    children = {
        child.label: (child.people, child.pmi, child.departures) for child in board.children
    }
    assert children == {"Kalipare": (4, 2, 3), "Pagelaran": (1, 1, 1)}
    assert [label for _code, label in board.trail] == ["Indonesia", "Jawa Timur", "Kab. Malang"]
    village = dashboard(
        figures["coordinator_malang"], ARJOWILANGUN, start=LAST_YEAR, end=THIS_MONTH
    )
    assert values(village.people_by_status) == {"pmi": 2, "purna": 1, "keluarga": 1}
    assert village.children == []
    assert [row.label for row in village.matrix] == ["Arjowilangun"]


def test_nobody_reads_a_region_outside_their_scope(figures):
    with pytest.raises(Http404):
        dashboard(figures["coordinator_indramayu"], "35.07")
    with pytest.raises(Http404):
        dashboard(figures["coordinator_malang"], None)
    with pytest.raises(Http404):
        dashboard(figures["officer_arjowilangun"], BRONGKAL)
    with pytest.raises(Http404):
        dashboard(figures["province_jatim"], "32")


def test_the_pillar_matrix_marks_the_service_centre_active_in_arjowilangun(figures):
    board = dashboard(figures["coordinator_malang"], "35.07")
    rows = {row.code: row for row in board.matrix}
    states = {pillar.kind: active for pillar, _last, active in rows[ARJOWILANGUN].states}
    assert states["service_centre"] is True
    assert states["parenting"] is False
    assert rows[ARJOWILANGUN].active == 1
    # Weakest first: villages with no active pillar come before Arjowilangun.
    assert board.matrix[-1].code == ARJOWILANGUN


def test_national_coverage_counts_villages_running_each_pillar(figures):
    board = dashboard(figures["evaluator"], None)
    east_java = {c.code: c for c in board.coverage}["35"]
    assert east_java.villages == 4
    assert east_java.active[0] == 1  # the service centre: Arjowilangun only


def test_a_dashboard_costs_the_same_queries_whatever_the_data(
    figures, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        dashboard(figures["evaluator"], None)
    with django_assert_max_num_queries(12):
        dashboard(figures["coordinator_malang"], "35.07")


def test_a_refresh_replaces_the_figures_and_sums_every_level(figures):
    before = Fact.objects.count()
    refresh_summaries()
    assert Fact.objects.count() == before
    national = Fact.objects.filter(region="", metric="people.status").values_list(
        "value", flat=True
    )
    villages = Fact.objects.filter(level=4, metric="people.status").values_list("value", flat=True)
    assert sum(national) == sum(villages) == 6
