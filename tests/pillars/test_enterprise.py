"""Pillar 2's enterprise register and trainings: who may open which page, whose people can be
chosen, and what the lists cost in queries."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from migrants.models import Person, Status
from pillars import services
from pillars.models import AuditEntry, Enterprise, PillarKind, Training
from tests.migrants.factories import (
    ARJOWILANGUN,
    BRONGKAL,
    child_birth_date,
    come_home,
    depart,
    fresh,
    plan,
    register,
)

LOGIN = reverse("account_login")


def url(name: str, *args) -> str:
    return reverse(f"pillars:{name}", args=args)


def in_english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def purna(actor: User, *, village: str = ARJOWILANGUN, full_name: str | None = None) -> Person:
    """A returned migrant worker of the village."""
    person = register(actor=actor, village=village, full_name=full_name)
    depart(person, actor=actor)
    come_home(person, actor=actor)
    return fresh(person)


def an_enterprise(actor: User, owner: Person, **data) -> Enterprise:
    enterprise = Enterprise(
        village_id=owner.village_id,
        owner=owner,
        name=data.pop("name", "Keripik Tempe Bu Sri"),
        sector=data.pop("sector", Enterprise.Sector.FOOD),
        **data,
    )
    services.record_create(actor=actor, instance=enterprise, kind=PillarKind.ENTERPRISE)
    return enterprise


def a_training(actor: User, participants: list[Person], **data) -> Training:
    start = data.pop("start_date", datetime.date(2025, 2, 3))
    training = Training(
        village_id=data.pop("village", ARJOWILANGUN),
        topic=data.pop("topic", "Pemasaran daring"),
        organiser=data.pop("organiser", "Disnaker Kab. Malang"),
        start_date=start,
        end_date=data.pop("end_date", start + datetime.timedelta(days=2)),
        **data,
    )
    services.record_create(actor=actor, instance=training, kind=PillarKind.ENTERPRISE)
    training.participants.set(participants)
    return training


@pytest.fixture
def no_role(world) -> Client:
    """An account that has no role yet: it may open nothing."""
    user = User.objects.create_user(username="no_role", password="x-password-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sri(world) -> Person:
    return purna(world["officer_arjowilangun"], full_name="Sri Wahyuni")


@pytest.fixture
def warung(world, sri) -> Enterprise:
    return an_enterprise(world["officer_arjowilangun"], sri, name="Warung Sri")


@pytest.fixture
def course(world, sri) -> Training:
    return a_training(world["officer_arjowilangun"], [sri])


def enterprise_form(owner: Person, **overrides) -> dict:
    return {
        "owner": str(owner.pk),
        "name": "Batik Tulis Arjo",
        "sector": Enterprise.Sector.CRAFT,
        "products": "kain batik",
        "start_date": "2024-06-01",
        "state": Enterprise.State.RUNNING,
        "workers": "3",
        "revenue_band": Enterprise.Revenue.FROM_1M,
        "assistance": "",
        **overrides,
    }


def training_form(participants: list[Person], **overrides) -> dict:
    return {
        "topic": "Pembukuan usaha kecil",
        "organiser": "BLK Singosari",
        "start_date": "2025-03-10",
        "end_date": "2025-03-12",
        "participants": [str(p.pk) for p in participants],
        "notes": "",
        **overrides,
    }


# --- Every page: anonymous -> login, outside the scope -> 404, without the action -> 403 ------

# url name: (HTTP method, whether the URL names a record, whether it writes)
PAGES = {
    "list": ("get", False, False),
    "create": ("get", False, True),
    "detail": ("get", True, False),
    "edit": ("get", True, True),
    "delete": ("post", True, True),
}
REGISTERS = ["enterprise", "training"]


@pytest.fixture
def records(warung, course) -> dict:
    return {"enterprise": warung, "training": course}


def open_page(client: Client, register: str, page: str, records: dict):
    method, named, _writes = PAGES[page]
    args = [records[register].pk] if named else []
    data = {"reason": "salah input"} if page == "delete" else None
    return getattr(client, method)(url(f"{register}-{page}", *args), data)


@pytest.mark.parametrize("register_", REGISTERS)
@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_login(anonymous, records, register_, page):
    response = open_page(anonymous, register_, page, records)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.parametrize("register_", REGISTERS)
@pytest.mark.parametrize("page", PAGES)
def test_the_officer_opens_every_page_of_the_own_village(
    officer_arjowilangun, records, register_, page
):
    response = open_page(officer_arjowilangun, register_, page, records)
    assert response.status_code == (302 if page == "delete" else 200)


@pytest.mark.parametrize("register_", REGISTERS)
@pytest.mark.parametrize("page", [p for p, (_m, named, _w) in PAGES.items() if named])
@pytest.mark.parametrize(
    "persona", ["officer_brongkal", "officer_kenanga", "coordinator_indramayu"]
)
def test_a_record_of_another_village_is_not_found(request, records, register_, page, persona):
    client = request.getfixturevalue(persona)
    assert open_page(client, register_, page, records).status_code == 404


@pytest.mark.parametrize("register_", REGISTERS)
def test_a_form_for_a_village_outside_the_scope_is_not_found(coordinator_indramayu, register_):
    response = coordinator_indramayu.get(url(f"{register_}-create") + f"?village={ARJOWILANGUN}")
    assert response.status_code == 404


@pytest.mark.parametrize("register_", REGISTERS)
@pytest.mark.parametrize("page", [p for p, (_m, _n, writes) in PAGES.items() if writes])
@pytest.mark.parametrize("persona", ["head_arjowilangun", "evaluator", "province_jatim"])
def test_read_only_roles_may_not_open_a_write_page(request, records, register_, page, persona):
    client = request.getfixturevalue(persona)
    assert open_page(client, register_, page, records).status_code == 403


@pytest.mark.parametrize("register_", REGISTERS)
@pytest.mark.parametrize("page", [p for p, (_m, _n, writes) in PAGES.items() if not writes])
@pytest.mark.parametrize(
    "persona", ["head_arjowilangun", "coordinator_malang", "province_jatim", "evaluator"]
)
def test_readers_in_scope_read_lists_and_records(request, records, register_, page, persona):
    client = request.getfixturevalue(persona)
    assert open_page(client, register_, page, records).status_code == 200


@pytest.mark.parametrize("register_", REGISTERS)
@pytest.mark.parametrize("page", [p for p, (_m, _n, writes) in PAGES.items() if not writes])
def test_an_account_without_a_role_may_not_read(no_role, records, register_, page):
    assert open_page(no_role, register_, page, records).status_code == 403


@pytest.mark.parametrize("register_", REGISTERS)
def test_the_list_shows_only_the_scope(officer_brongkal, coordinator_malang, records, register_):
    assert list(officer_brongkal.get(url(f"{register_}-list")).context["page"].object_list) == []
    shown = coordinator_malang.get(url(f"{register_}-list")).context["page"].object_list
    assert [row.pk for row in shown] == [records[register_].pk]


# --- Enterprises -----------------------------------------------------------------------------


def test_the_officer_records_an_enterprise_tagged_with_the_enterprise_pillar(
    officer_arjowilangun, world, sri
):
    response = officer_arjowilangun.post(url("enterprise-create"), enterprise_form(sri))

    enterprise = Enterprise.objects.get(name="Batik Tulis Arjo")
    assert response.status_code == 302
    assert response.url == url("enterprise-detail", enterprise.pk)
    assert enterprise.village_id == ARJOWILANGUN
    assert enterprise.owner == sri
    assert enterprise.pillar.kind == PillarKind.ENTERPRISE
    assert enterprise.created_by == world["officer_arjowilangun"]
    assert AuditEntry.objects.filter(
        model="enterprise", object_id=str(enterprise.pk), action=AuditEntry.Action.CREATED
    ).exists()


def test_owners_offered_are_the_villages_adult_purna_and_family_members(
    officer_arjowilangun, world, sri
):
    officer = world["officer_arjowilangun"]
    family = register(actor=officer, full_name="Ibu Keluarga")
    cpmi = register(actor=officer, full_name="Calon Berangkat")
    plan(cpmi, actor=officer)
    abroad = register(actor=officer, full_name="Sedang Di Taiwan")
    depart(abroad, actor=officer, country="TW")
    child = register(actor=officer, full_name="Anak Kecil", birth_date=child_birth_date())
    neighbour = purna(world["officer_brongkal"], village=BRONGKAL, full_name="Purna Brongkal")

    owners = officer_arjowilangun.get(url("enterprise-create")).context["form"].fields["owner"]

    assert {p.full_name for p in owners.queryset} == {"Sri Wahyuni", "Ibu Keluarga"}
    assert fresh(family).status == Status.FAMILY
    for refused in (cpmi, abroad, child, neighbour):
        assert refused not in owners.queryset


def test_an_owner_from_another_village_is_refused(officer_arjowilangun, world):
    neighbour = purna(world["officer_brongkal"], village=BRONGKAL)

    response = in_english(officer_arjowilangun).post(
        url("enterprise-create"), enterprise_form(neighbour)
    )

    assert response.status_code == 200
    assert response.context["form"].errors["owner"]
    assert not Enterprise.objects.exists()


def test_an_owner_who_is_abroad_is_refused(officer_arjowilangun, world):
    abroad = register(actor=world["officer_arjowilangun"])
    depart(abroad, actor=world["officer_arjowilangun"])

    response = officer_arjowilangun.post(url("enterprise-create"), enterprise_form(abroad))

    assert response.status_code == 200
    assert response.context["form"].errors["owner"]
    assert not Enterprise.objects.exists()


def test_the_coordinator_records_an_enterprise_for_a_village_of_the_regency(
    coordinator_malang, world
):
    owner = purna(world["officer_brongkal"], village=BRONGKAL)
    form = enterprise_form(owner, village_code=BRONGKAL)

    response = coordinator_malang.post(url("enterprise-create"), form)

    assert response.status_code == 302
    assert Enterprise.objects.get().village_id == BRONGKAL


def test_the_coordinators_form_offers_the_chosen_villages_people(coordinator_malang, world, sri):
    owner = purna(world["officer_brongkal"], village=BRONGKAL, full_name="Purna Brongkal")

    form = coordinator_malang.get(url("enterprise-create") + f"?village={BRONGKAL}").context["form"]

    assert list(form.fields["owner"].queryset) == [owner]


def test_an_owner_who_left_again_can_still_be_kept_when_editing(
    officer_arjowilangun, world, sri, warung
):
    depart(sri, actor=world["officer_arjowilangun"], on=timezone.localdate())
    assert fresh(sri).status == Status.PMI

    response = officer_arjowilangun.post(
        url("enterprise-edit", warung.pk),
        enterprise_form(sri, name="Warung Sri", state=Enterprise.State.STOPPED),
    )

    assert response.status_code == 302
    warung.refresh_from_db()
    assert warung.state == Enterprise.State.STOPPED


def test_enterprises_are_filtered_by_sector_and_state(officer_arjowilangun, world, sri):
    officer = world["officer_arjowilangun"]
    an_enterprise(officer, sri, name="Ternak Kambing", sector=Enterprise.Sector.LIVESTOCK)
    an_enterprise(
        officer,
        sri,
        name="Toko Kelontong",
        sector=Enterprise.Sector.TRADE,
        state=Enterprise.State.STOPPED,
    )
    an_enterprise(officer, sri, name="Warung Nasi", sector=Enterprise.Sector.FOOD)

    def names(query: str) -> set[str]:
        page = officer_arjowilangun.get(url("enterprise-list") + query).context["page"]
        return {e.name for e in page.object_list}

    assert names("?sector=livestock") == {"Ternak Kambing"}
    assert names("?state=stopped") == {"Toko Kelontong"}
    assert names("?state=running&sector=food") == {"Warung Nasi"}
    assert names("?sector=not-a-sector") == {"Ternak Kambing", "Toko Kelontong", "Warung Nasi"}


def test_the_enterprise_page_lists_its_referrals(officer_arjowilangun, world, warung):
    from pillars.models import PartnerProgramme, Referral

    referral = Referral(
        village_id=ARJOWILANGUN,
        programme=PartnerProgramme.objects.get(code="kur-bri"),
        enterprise=warung,
        referred_on=datetime.date(2025, 1, 6),
        amount_requested=25_000_000,
    )
    services.record_create(
        actor=world["officer_arjowilangun"], instance=referral, kind=PillarKind.ENTERPRISE
    )

    response = officer_arjowilangun.get(url("enterprise-detail", warung.pk))

    assert response.context["referrals"] == [referral]
    assert url("referral-detail", referral.pk) in response.content.decode()
    assert "KUR BRI" in response.content.decode()


# Session, user, the scope's designated villages, the page of rows (owners joined).
LIST_QUERIES = 4


def test_the_enterprise_list_costs_the_same_queries_for_more_rows(
    coordinator_malang, world, sri, django_assert_max_num_queries
):
    officer = world["officer_arjowilangun"]
    an_enterprise(officer, sri)
    with django_assert_max_num_queries(LIST_QUERIES):
        assert coordinator_malang.get(url("enterprise-list")).status_code == 200

    for n in range(8):
        an_enterprise(officer, purna(officer), name=f"Usaha {n}")
    with django_assert_max_num_queries(LIST_QUERIES):
        response = coordinator_malang.get(url("enterprise-list"))
    assert len(response.context["rows"]) == 9
    assert "Sri Wahyuni" in response.content.decode()


# --- Trainings -------------------------------------------------------------------------------


def test_the_officer_records_a_training_with_participants_of_the_village(
    officer_arjowilangun, world, sri
):
    other = register(actor=world["officer_arjowilangun"], full_name="Peserta Dua")

    response = officer_arjowilangun.post(url("training-create"), training_form([sri, other]))

    training = Training.objects.get()
    assert response.status_code == 302
    assert set(training.participants.all()) == {sri, other}
    assert training.pillar.kind == PillarKind.ENTERPRISE


def test_the_participants_are_chosen_from_a_sized_multiple_select(officer_arjowilangun, sri):
    content = officer_arjowilangun.get(url("training-create")).content.decode()
    assert 'name="participants"' in content
    assert 'size="12"' in content
    assert "multiple" in content
    assert 'for="id_participants"' in content
    assert "Sri Wahyuni" in content


def test_a_participant_from_another_village_is_refused(officer_arjowilangun, world, sri):
    neighbour = register(actor=world["officer_brongkal"], village=BRONGKAL)

    response = officer_arjowilangun.post(url("training-create"), training_form([sri, neighbour]))

    assert response.status_code == 200
    assert response.context["form"].errors["participants"]
    assert not Training.objects.exists()


def test_a_training_cannot_end_before_it_starts(officer_arjowilangun, sri):
    response = in_english(officer_arjowilangun).post(
        url("training-create"),
        training_form([sri], start_date="2025-03-12", end_date="2025-03-10"),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["end_date"] == [
        "The training cannot end before it starts."
    ]
    assert response.context["form"].non_field_errors() == []
    assert not Training.objects.exists()


def test_a_one_day_training_is_fine(officer_arjowilangun, sri):
    response = officer_arjowilangun.post(
        url("training-create"),
        training_form([sri], start_date="2025-03-12", end_date="2025-03-12"),
    )
    assert response.status_code == 302


def test_the_training_list_counts_living_participants(officer_arjowilangun, world, sri):
    officer = world["officer_arjowilangun"]
    people = [register(actor=officer) for _ in range(3)]
    a_training(officer, [sri, *people], topic="Empat peserta")
    a_training(officer, [], topic="Tanpa peserta")

    rows = officer_arjowilangun.get(url("training-list")).context["rows"]

    counts = {row.topic: row.participant_count for row, _cells in rows}
    assert counts == {"Empat peserta": 4, "Tanpa peserta": 0}
    assert [cells[-1] for row, cells in rows if row.topic == "Empat peserta"] == [4]


def test_the_training_list_costs_the_same_queries_for_more_rows(
    coordinator_malang, world, sri, django_assert_max_num_queries
):
    officer = world["officer_arjowilangun"]
    a_training(officer, [sri])
    with django_assert_max_num_queries(LIST_QUERIES):
        assert coordinator_malang.get(url("training-list")).status_code == 200

    people = [register(actor=officer) for _ in range(5)]
    for n in range(8):
        a_training(officer, people, topic=f"Pelatihan {n}")
    with django_assert_max_num_queries(LIST_QUERIES):
        response = coordinator_malang.get(url("training-list"))
    assert len(response.context["rows"]) == 9


def test_the_training_page_lists_participants_but_children_only_to_those_who_may_see_them(
    officer_arjowilangun, evaluator, world, sri
):
    officer = world["officer_arjowilangun"]
    child = register(actor=officer, full_name="Anak Peserta", birth_date=child_birth_date())
    training = a_training(officer, [sri, child])

    for_officer = officer_arjowilangun.get(url("training-detail", training.pk))
    assert {p.full_name for p in for_officer.context["participants"]} == {
        "Sri Wahyuni",
        "Anak Peserta",
    }
    assert for_officer.context["participants_hidden"] == 0

    for_evaluator = evaluator.get(url("training-detail", training.pk))
    assert [p.full_name for p in for_evaluator.context["participants"]] == ["Sri Wahyuni"]
    assert for_evaluator.context["participants_hidden"] == 1
    assert "Anak Peserta" not in for_evaluator.content.decode()
