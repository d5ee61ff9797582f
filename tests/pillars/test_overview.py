"""Pillar status per village: the computation, the overview page (a village's cards, the
matrix above a village), who may open it and what it costs in queries."""

import datetime

import pytest
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Role, User
from pillars import services
from pillars.models import Activity, Outreach, Pillar, PillarKind, ProgrammeVariant
from tests.factories import DesignationFactory, RegionFactory
from tests.migrants.factories import ARJOWILANGUN, BRONGKAL, KENANGA, KURIPAN
from villages.models import Designation

OVERVIEW = reverse("pillars:overview")
LOGIN = reverse("account_login")


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def outreach(actor: User, *, village: str, on: datetime.date) -> Outreach:
    """An outreach event of the service-centre pillar, recorded through the service."""
    record = Outreach(village_id=village, date=on, topic="Migrasi aman", attendees_female=12)
    services.record_create(actor=actor, instance=record, kind=PillarKind.SERVICE_CENTRE)
    return record


def service_pillar() -> Pillar:
    return Pillar.objects.get(variant__code="desmigratif-4-pilar", kind=PillarKind.SERVICE_CENTRE)


def state_of(village: str, kind: str) -> services.PillarState:
    designation = Designation.objects.get(village_id=village)
    [state] = [s for s in services.pillar_matrix([designation])[village] if s.pillar.kind == kind]
    return state


@pytest.fixture
def roleless(world):
    """An account without a role: signed in, allowed nothing."""
    user = User.objects.create_user("roleless", "roleless@example.org", "x", role="")
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


# --- The computation ----------------------------------------------------------------------------


def test_a_pillar_with_activity_inside_the_window_is_active_with_its_last_date(world):
    officer = world["officer_arjowilangun"]
    outreach(officer, village=ARJOWILANGUN, on=days_ago(200))
    outreach(officer, village=ARJOWILANGUN, on=days_ago(10))

    state = state_of(ARJOWILANGUN, PillarKind.SERVICE_CENTRE)

    assert state.active is True
    assert state.last_activity == days_ago(10)


def test_the_window_is_the_setting_and_its_last_day_still_counts(world, settings):
    settings.PILLAR_ACTIVE_DAYS = 30
    coordinator = world["coordinator_malang"]
    outreach(coordinator, village=ARJOWILANGUN, on=days_ago(30))
    outreach(coordinator, village=BRONGKAL, on=days_ago(31))

    assert state_of(ARJOWILANGUN, PillarKind.SERVICE_CENTRE).active is True
    brongkal = state_of(BRONGKAL, PillarKind.SERVICE_CENTRE)
    assert brongkal.active is False
    assert brongkal.last_activity == days_ago(31)


def test_a_pillar_whose_last_activity_is_older_than_the_window_is_inactive(world):
    outreach(
        world["officer_arjowilangun"],
        village=ARJOWILANGUN,
        on=days_ago(settings.PILLAR_ACTIVE_DAYS + 1),
    )

    state = state_of(ARJOWILANGUN, PillarKind.SERVICE_CENTRE)

    assert state.active is False
    assert state.last_activity == days_ago(settings.PILLAR_ACTIVE_DAYS + 1)


def test_a_pillar_without_activity_is_inactive_with_no_date(world):
    state = state_of(ARJOWILANGUN, PillarKind.ENTERPRISE)
    assert (state.active, state.last_activity) == (False, None)


def test_deleted_rows_do_not_count(world):
    officer = world["officer_arjowilangun"]
    outreach(officer, village=ARJOWILANGUN, on=days_ago(100))
    recent = outreach(officer, village=ARJOWILANGUN, on=days_ago(3))
    services.record_delete(actor=officer, instance=recent, reason="entered twice")

    state = state_of(ARJOWILANGUN, PillarKind.SERVICE_CENTRE)

    assert state.active is False
    assert state.last_activity == days_ago(100)


def test_future_dated_rows_do_not_count(world):
    officer = world["officer_arjowilangun"]
    outreach(officer, village=ARJOWILANGUN, on=days_ago(120))
    outreach(officer, village=ARJOWILANGUN, on=timezone.localdate() + datetime.timedelta(days=5))

    state = state_of(ARJOWILANGUN, PillarKind.SERVICE_CENTRE)

    assert state.active is False
    assert state.last_activity == days_ago(120)


def test_one_villages_activity_does_not_light_up_another(world):
    outreach(world["officer_arjowilangun"], village=ARJOWILANGUN, on=days_ago(1))
    assert state_of(BRONGKAL, PillarKind.SERVICE_CENTRE).active is False


# --- The page: who may open it ----------------------------------------------------------------


def test_anonymous_is_sent_to_login(anonymous, world):
    response = anonymous.get(OVERVIEW)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_an_account_without_a_role_may_not_open_it(roleless):
    assert roleless.get(OVERVIEW).status_code == 403


def test_a_coordinator_sees_the_regencys_villages_and_nothing_outside(coordinator_malang):
    response = coordinator_malang.get(OVERVIEW)
    assert response.status_code == 200
    [(_table, page)] = response.context["tables"]
    villages = {row.designation.village.name for row in page.object_list}
    assert villages == {"Arjowilangun", "Sumberpetung", "Balearjo", "Brongkal"}
    assert b"Kenanga" not in response.content


def test_a_coordinator_of_another_regency_sees_only_theirs(coordinator_indramayu):
    response = coordinator_indramayu.get(OVERVIEW)
    [(_table, page)] = response.context["tables"]
    assert [row.designation.village_id for row in page.object_list] == [KENANGA]


def test_the_officer_sees_their_villages_pillars_as_cards(officer_arjowilangun, world):
    outreach(world["officer_arjowilangun"], village=ARJOWILANGUN, on=days_ago(4))

    response = officer_arjowilangun.get(OVERVIEW)

    assert response.status_code == 200
    assert response.context["designation"].village_id == ARJOWILANGUN
    cards = response.context["cards"]
    assert [state.pillar.kind for state, _links in cards] == [
        PillarKind.SERVICE_CENTRE,
        PillarKind.ENTERPRISE,
        PillarKind.PARENTING,
        PillarKind.COOPERATIVE,
    ]
    assert [state.active for state, _links in cards] == [True, False, False, False]
    assert response.context["active_count"] == 1
    assert b"Brongkal" not in response.content


def test_the_officers_cards_link_to_the_pillars_registers(officer_arjowilangun):
    response = officer_arjowilangun.get(OVERVIEW)
    urls = [url for _state, links in response.context["cards"] for _label, url in links]
    assert reverse("pillars:outreach-list") in urls
    assert all(url.startswith("/pilar/") for url in urls)


def mounted(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def test_register_links_follow_the_actions_of_the_role(world):
    from pillars.views.overview import REGISTERS, register_links

    head, officer = world["head_arjowilangun"], world["officer_arjowilangun"]
    for kind, needs_action in (
        (PillarKind.SERVICE_CENTRE, "pillars:case-list"),
        (PillarKind.PARENTING, "pillars:child-list"),
    ):
        wanted = next(label for name, label, _a in REGISTERS[kind] if name == needs_action)
        head_labels = [label for label, _url in register_links(head, kind)]
        officer_labels = [label for label, _url in register_links(officer, kind)]
        if kind == PillarKind.SERVICE_CENTRE:
            assert wanted not in head_labels  # cases: not for the village head
        if mounted(needs_action):  # each register is built by its own change
            assert wanted in officer_labels


def test_an_officer_of_an_undesignated_village_sees_no_pillars(world):
    from django.test import Client

    user = User.objects.create_user(
        "officer_kalipare",
        "k@example.org",
        "x",
        role=Role.VILLAGE_OFFICER,
        scope_id="35.07.11.2001",
    )
    client = Client()
    client.force_login(user)
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    assert response.context["designation"] is None
    assert response.context["cards"] == []


# --- The matrix ---------------------------------------------------------------------------------


def test_the_matrix_has_the_weakest_villages_first_and_counts_active_pillars(
    coordinator_malang, world
):
    officer = world["coordinator_malang"]
    outreach(officer, village=ARJOWILANGUN, on=days_ago(2))
    activity_of_each_kind(officer, village=BRONGKAL)

    response = coordinator_malang.get(OVERVIEW)

    [(table, page)] = response.context["tables"]
    rows = page.object_list
    assert [row.designation.village.name for row in rows] == [
        "Balearjo",
        "Sumberpetung",
        "Arjowilangun",
        "Brongkal",
    ]
    assert [row.active_count for row in rows] == [0, 0, 1, 2]
    assert [p.kind for p in table.pillars] == [
        PillarKind.SERVICE_CENTRE,
        PillarKind.ENTERPRISE,
        PillarKind.PARENTING,
        PillarKind.COOPERATIVE,
    ]
    assert table.active_per_pillar == [2, 0, 0, 1]


def activity_of_each_kind(actor: User, *, village: str) -> None:
    """Service centre and cooperative active in the village; the cooperative through its
    monthly figures."""
    from pillars.models import Cooperative, CooperativePeriod

    outreach(actor, village=village, on=days_ago(5))
    cooperative = Cooperative(village_id=village, type=Cooperative.Type.BUMDES, name="BUMDes")
    services.record_create(actor=actor, instance=cooperative, kind=PillarKind.COOPERATIVE)
    period = CooperativePeriod(
        village_id=village,
        cooperative=cooperative,
        period=timezone.localdate().replace(day=1),
        capital=1_000_000,
    )
    services.record_create(actor=actor, instance=period, kind=PillarKind.COOPERATIVE)


def test_each_cell_says_active_or_inactive_in_words_with_the_date(coordinator_malang, world):
    outreach(world["coordinator_malang"], village=ARJOWILANGUN, on=datetime.date(2024, 3, 7))
    coordinator_malang.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    content = coordinator_malang.get(OVERVIEW).content.decode()

    assert "inactive" in content
    assert "last: 7 Mar 2024" in content
    assert "no activity yet" in content
    assert '<th scope="col">Pusat Layanan Migrasi</th>' in content


def test_the_matrix_filters_by_cohort_year(evaluator, world):
    response = evaluator.get(OVERVIEW, {"cohort": 2016})
    [(_table, page)] = response.context["tables"]
    assert {row.designation.village_id for row in page.object_list} == {KENANGA, KURIPAN}
    assert response.context["villages"] == 2


def test_the_matrix_shows_active_villages_unless_asked_for_all(evaluator, world):
    Designation.objects.filter(village_id=KURIPAN).update(status=Designation.Status.GRADUATED)

    shown = evaluator.get(OVERVIEW).context["villages"]
    everything = evaluator.get(OVERVIEW, {"status": "all"}).context["villages"]

    assert (shown, everything) == (5, 6)


def test_the_village_officer_is_not_offered_the_matrix_of_others(officer_kenanga):
    response = officer_kenanga.get(OVERVIEW, {"cohort": 2017})
    assert "tables" not in response.context
    assert response.context["designation"].village_id == KENANGA


# --- Query counts -------------------------------------------------------------------------------


def test_the_matrix_costs_the_same_queries_for_two_villages_or_six(
    evaluator, world, django_assert_max_num_queries, django_assert_num_queries
):
    actor = world["admin"]
    for village in (KENANGA, KURIPAN, ARJOWILANGUN, BRONGKAL):
        activity_of_each_kind(actor, village=village)

    with django_assert_max_num_queries(12) as two:
        response = evaluator.get(OVERVIEW, {"cohort": 2016})
    assert response.context["villages"] == 2

    with django_assert_num_queries(len(two.captured_queries)):
        response = evaluator.get(OVERVIEW)
    assert response.context["villages"] == 6


def test_the_matrix_costs_the_same_queries_with_more_villages_and_a_second_programme(
    coordinator_malang, world, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        coordinator_malang.get(OVERVIEW)

    variant = ProgrammeVariant.objects.create(code="dme", name="Desa Migran Emas")
    Pillar.objects.create(variant=variant, order=1, code="lain", name="Lain", kind="other")
    for _i in range(4):
        DesignationFactory(village=RegionFactory(), variant=variant)
        DesignationFactory(village=RegionFactory())

    with django_assert_num_queries(len(before.captured_queries)):
        response = coordinator_malang.get(OVERVIEW)
    assert response.context["villages"] == 12
    assert len(response.context["tables"]) == 2


def test_the_officers_page_costs_a_fixed_number_of_queries(
    officer_arjowilangun, world, django_assert_max_num_queries
):
    activity_of_each_kind(world["officer_arjowilangun"], village=ARJOWILANGUN)
    with django_assert_max_num_queries(10):
        officer_arjowilangun.get(OVERVIEW)


# --- The register of `other` pillars is reachable and empty for Desmigratif villages -----------


def test_desmigratif_villages_have_no_other_pillar_to_record(officer_arjowilangun):
    response = officer_arjowilangun.get(reverse("pillars:activity-create"))
    assert response.status_code == 200
    assert list(response.context["form"].fields["pillar"].queryset) == []
    assert not Activity.objects.exists()
