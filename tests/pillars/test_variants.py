"""A second programme variant: Desa Migran Emas with five pillars, one of them a pillar of
kind `other` recorded as general activities. Its villages show its pillars, their records
are tagged with its pillars, and a Desmigratif village cannot borrow them."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from pillars import services
from pillars.models import Activity, Outreach, Pillar, PillarKind, ProgrammeVariant
from tests.migrants.factories import ARJOWILANGUN
from villages.models import Designation

KALIPARE = "35.07.11.2001"  # a village of Kab. Malang that follows Desa Migran Emas here
OVERVIEW = reverse("pillars:overview")
ACTIVITIES = reverse("pillars:activity-list")
RECORD_ACTIVITY = reverse("pillars:activity-create")

EMAS_PILLARS = [
    (1, "layanan", "Layanan Migrasi", PillarKind.SERVICE_CENTRE),
    (2, "usaha", "Usaha Produktif", PillarKind.ENTERPRISE),
    (3, "keluarga", "Komunitas Keluarga", PillarKind.PARENTING),
    (4, "koperasi", "Koperasi", PillarKind.COOPERATIVE),
    (5, "pelindungan-sosial", "Pelindungan Sosial", PillarKind.OTHER),
]


@pytest.fixture
def emas(world) -> ProgrammeVariant:
    variant = ProgrammeVariant.objects.create(code="desa-migran-emas", name="Desa Migran Emas")
    for order, code, name, kind in EMAS_PILLARS:
        Pillar.objects.create(variant=variant, order=order, code=code, name=name, kind=kind)
    Designation.objects.create(village_id=KALIPARE, cohort_year=2025, variant=variant)
    return variant


@pytest.fixture
def other_pillar(emas) -> Pillar:
    return emas.pillars.get(kind=PillarKind.OTHER)


@pytest.fixture
def kalipare_officer(emas) -> User:
    user = User(username="officer_kalipare", role=Role.VILLAGE_OFFICER, scope_id=KALIPARE)
    user.set_password("x")
    user.save()
    return user


@pytest.fixture
def officer_kalipare(kalipare_officer) -> Client:
    client = Client()
    client.force_login(kalipare_officer)
    return client


def activity_form(pillar: Pillar, **extra) -> dict:
    return {
        "pillar": pillar.pk,
        "date": f"{timezone.localdate():%Y-%m-%d}",
        "title": "Penyuluhan BPJS Ketenagakerjaan",
        "participants": 25,
        **extra,
    }


# --- Its villages show its pillars --------------------------------------------------------------


def test_a_village_of_the_second_variant_shows_its_five_pillars(coordinator_malang, emas):
    response = coordinator_malang.get(OVERVIEW)

    tables = {table.variant.code: (table, page) for table, page in response.context["tables"]}
    assert set(tables) == {"desmigratif-4-pilar", "desa-migran-emas"}
    table, page = tables["desa-migran-emas"]
    assert [p.name for p in table.pillars] == [name for _o, _c, name, _k in EMAS_PILLARS]
    [row] = page.object_list
    assert row.designation.village_id == KALIPARE
    assert len(row.states) == 5
    assert len(tables["desmigratif-4-pilar"][0].pillars) == 4
    assert "Pelindungan Sosial" in response.content.decode()


def test_the_officer_of_such_a_village_sees_five_cards_with_the_activity_register(
    officer_kalipare, other_pillar
):
    response = officer_kalipare.get(OVERVIEW)

    cards = response.context["cards"]
    assert len(cards) == 5
    state, links = cards[4]
    assert state.pillar == other_pillar
    assert [url for _label, url in links] == [f"{ACTIVITIES}?pillar={other_pillar.pk}"]


def test_an_inactive_pillar_leaves_the_columns(coordinator_malang, other_pillar):
    other_pillar.active = False
    other_pillar.save()
    tables = coordinator_malang.get(OVERVIEW).context["tables"]
    emas_table = next(t for t, _page in tables if t.variant.code == "desa-migran-emas")
    assert len(emas_table.pillars) == 4


# --- Its records carry its pillars ---------------------------------------------------------------


def test_an_activity_is_tagged_with_the_villages_own_other_pillar(
    officer_kalipare, coordinator_malang, other_pillar
):
    response = officer_kalipare.post(RECORD_ACTIVITY, activity_form(other_pillar))

    activity = Activity.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("pillars:activity-detail", args=[activity.pk])
    assert (activity.village_id, activity.pillar) == (KALIPARE, other_pillar)
    tables = coordinator_malang.get(OVERVIEW).context["tables"]
    page = next(p for t, p in tables if t.variant.code == "desa-migran-emas")
    states = page.object_list[0].states
    assert [s.active for s in states] == [False, False, False, False, True]
    assert states[4].last_activity == timezone.localdate()


def test_a_register_of_the_four_kinds_tags_the_variants_own_pillar(kalipare_officer, emas):
    record = Outreach(village_id=KALIPARE, date=timezone.localdate(), topic="Migrasi aman")
    services.record_create(actor=kalipare_officer, instance=record, kind=PillarKind.SERVICE_CENTRE)
    assert record.pillar.variant == emas
    assert record.pillar.code == "layanan"


def test_the_activity_form_offers_only_the_villages_other_pillars(officer_kalipare, other_pillar):
    form = officer_kalipare.get(RECORD_ACTIVITY).context["form"]
    assert list(form.fields["pillar"].queryset) == [other_pillar]


def test_an_activity_cannot_be_tagged_with_a_pillar_of_another_kind(officer_kalipare, emas):
    service = emas.pillars.get(kind=PillarKind.SERVICE_CENTRE)
    response = officer_kalipare.post(RECORD_ACTIVITY, activity_form(service))
    assert response.status_code == 200
    assert "pillar" in response.context["form"].errors
    assert not Activity.objects.exists()


def test_the_activity_list_filters_by_pillar(officer_kalipare, kalipare_officer, other_pillar):
    activity = Activity(
        village_id=KALIPARE,
        pillar=other_pillar,
        date=timezone.localdate(),
        title="Penyuluhan",
    )
    services.record_create(actor=kalipare_officer, instance=activity)

    response = officer_kalipare.get(ACTIVITIES, {"pillar": other_pillar.pk})

    assert [row for row, _cells in response.context["rows"]] == [activity]


# --- A Desmigratif village cannot borrow them ----------------------------------------------------


def test_a_desmigratif_villages_record_cannot_be_tagged_with_the_other_variants_pillar(
    world, other_pillar
):
    activity = Activity(
        village_id=ARJOWILANGUN,
        pillar=other_pillar,
        date=timezone.localdate(),
        title="Penyuluhan",
    )
    with pytest.raises(ValidationError) as error:
        services.record_create(actor=world["officer_arjowilangun"], instance=activity)
    assert "pillar" in error.value.message_dict
    assert not Activity.objects.exists()


def test_a_desmigratif_officer_cannot_post_the_other_variants_pillar(
    officer_arjowilangun, other_pillar
):
    response = officer_arjowilangun.post(RECORD_ACTIVITY, activity_form(other_pillar))
    assert response.status_code == 200
    assert "pillar" in response.context["form"].errors
    assert not Activity.objects.exists()


def test_a_coordinator_picking_a_desmigratif_village_cannot_use_that_pillar(
    coordinator_malang, other_pillar
):
    response = coordinator_malang.post(
        RECORD_ACTIVITY, activity_form(other_pillar, village_code=ARJOWILANGUN)
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Activity.objects.exists()

    response = coordinator_malang.post(
        RECORD_ACTIVITY, activity_form(other_pillar, village_code=KALIPARE)
    )
    assert response.status_code == 302
    assert Activity.objects.get().village_id == KALIPARE


def test_a_desmigratif_outreach_is_tagged_with_the_desmigratif_pillar(world, emas):
    record = Outreach(village_id=ARJOWILANGUN, date=timezone.localdate(), topic="Migrasi aman")
    services.record_create(
        actor=world["officer_arjowilangun"], instance=record, kind=PillarKind.SERVICE_CENTRE
    )
    assert record.pillar.variant.code == "desmigratif-4-pilar"


# --- The activity register: who may open it -----------------------------------------------------


@pytest.fixture
def activity(kalipare_officer, other_pillar) -> Activity:
    record = Activity(
        village_id=KALIPARE,
        pillar=other_pillar,
        date=timezone.localdate() - datetime.timedelta(days=3),
        title="Penyuluhan",
    )
    services.record_create(actor=kalipare_officer, instance=record)
    return record


def pages(activity: Activity) -> list[str]:
    return [
        ACTIVITIES,
        RECORD_ACTIVITY,
        reverse("pillars:activity-detail", args=[activity.pk]),
        reverse("pillars:activity-edit", args=[activity.pk]),
    ]


def test_anonymous_is_sent_to_login_from_the_activity_pages(anonymous, activity):
    for url in pages(activity):
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


def test_the_officer_and_coordinator_in_scope_open_the_activity(
    officer_kalipare, coordinator_malang, activity
):
    for client in (officer_kalipare, coordinator_malang):
        for url in pages(activity):
            assert client.get(url).status_code == 200


def test_an_activity_outside_the_scope_is_not_found(
    officer_arjowilangun, coordinator_indramayu, activity
):
    for client in (officer_arjowilangun, coordinator_indramayu):
        for url in pages(activity)[2:]:
            assert client.get(url).status_code == 404
        assert list(client.get(ACTIVITIES).context["rows"]) == []


def test_read_only_roles_may_not_record_activities(evaluator, province_jatim, activity):
    for client in (evaluator, province_jatim):
        assert client.get(pages(activity)[2]).status_code == 200
        assert client.get(RECORD_ACTIVITY).status_code == 403
        assert client.get(pages(activity)[3]).status_code == 403


def test_the_activity_list_costs_the_same_queries_for_one_or_ten(
    officer_kalipare, kalipare_officer, other_pillar, activity, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        officer_kalipare.get(ACTIVITIES)
    for i in range(9):
        record = Activity(
            village_id=KALIPARE, pillar=other_pillar, date=timezone.localdate(), title=f"K{i}"
        )
        services.record_create(actor=kalipare_officer, instance=record)
    with django_assert_num_queries(len(one.captured_queries)):
        response = officer_kalipare.get(ACTIVITIES)
    assert len(response.context["rows"]) == 10
