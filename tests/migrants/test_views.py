"""The register's pages: who may open which, what they show, and what they cost in queries."""

import datetime

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from migrants import urls as migrant_urls
from migrants.models import Person, PersonHistory, Status, Verification
from tests.migrants.factories import (
    ARJOWILANGUN,
    BRONGKAL,
    KENANGA,
    a_kk,
    a_nik,
    come_home,
    depart,
    fresh,
    household,
    person_form,
    plan,
    register,
)

REGISTER = reverse("migrants:register")
CREATE = reverse("migrants:create")
VERIFICATION = reverse("migrants:verification")
DUPLICATES = reverse("migrants:duplicates")
DELETED = reverse("migrants:deleted")
LOGIN = reverse("account_login")


def url(name: str, *args) -> str:
    return reverse(f"migrants:{name}", args=args)


def names_in(response) -> set[str]:
    return {person.full_name for person in response.context["page"].object_list}


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def sri(world) -> Person:
    """An adult CPMI of Arjowilangun, registered by the village officer."""
    person = register(actor=world["officer_arjowilangun"], full_name="Sri Wahyuni")
    plan(person, actor=world["officer_arjowilangun"])
    return fresh(person)


# --- 8. Every URL: anonymous -> login, outside the scope -> 404, read-only role -> 403 --------

# url name: (HTTP method the view answers, whether the URL names a person)
URLS = {
    "register": ("get", False),
    "create": ("get", False),
    "submit-all": ("post", False),
    "verification": ("get", False),
    "duplicates": ("get", False),
    "deleted": ("get", False),
    "detail": ("get", True),
    "edit": ("get", True),
    "reveal": ("post", True),
    "departure": ("get", True),
    "return": ("get", True),
    "episode-create": ("get", True),
    "episode-edit": ("get", True),
    "delete": ("get", True),
    "restore": ("post", True),
    "transfer": ("get", True),
    "submit": ("post", True),
    "send-back": ("get", True),
}
PERSON_URLS = [name for name, (_method, personal) in URLS.items() if personal]
READ_ONLY_PAGES = ["register", "detail"]
WRITE_PAGES = [name for name in URLS if name not in (*READ_ONLY_PAGES, "reveal")]
# Pages an officer may open for the own village: outside it, the person is not found.
OFFICER_PAGES = [name for name in PERSON_URLS if name not in ("restore", "transfer", "send-back")]


def request_page(client, name: str, person: Person):
    method, personal = URLS[name]
    args = []
    if personal:
        args = [person.pk]
    if name == "episode-edit":
        args.append(person.episodes.get().pk)
    return getattr(client, method)(url(name, *args))


# The import and export pages have their own table, in test_imports.py.
IMPORT_EXPORT_URLS = {
    "import",
    "import-template",
    "import-list",
    "import-batch",
    "import-confirm",
    "import-cancel",
    "import-undo",
    "import-errors",
    "import-original",
    "export",
}


def test_every_url_of_the_register_is_in_the_permission_table():
    names = {pattern.name for pattern in migrant_urls.urlpatterns}
    assert names - IMPORT_EXPORT_URLS == set(URLS)
    assert names >= IMPORT_EXPORT_URLS


@pytest.mark.parametrize("name", URLS)
def test_anonymous_is_sent_to_login(anonymous, sri, name):
    response = request_page(anonymous, name, sri)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.parametrize("name", OFFICER_PAGES)
def test_an_officer_of_another_village_finds_no_such_person(officer_kenanga, sri, name):
    assert request_page(officer_kenanga, name, sri).status_code == 404


@pytest.mark.parametrize("name", PERSON_URLS)
def test_a_coordinator_of_another_regency_finds_no_such_person(coordinator_indramayu, sri, name):
    assert request_page(coordinator_indramayu, name, sri).status_code == 404


@pytest.mark.parametrize("persona", ["evaluator", "province_jatim", "head_arjowilangun"])
@pytest.mark.parametrize("name", WRITE_PAGES)
def test_read_only_roles_may_not_open_a_write_page(request, sri, persona, name):
    client = request.getfixturevalue(persona)
    assert request_page(client, name, sri).status_code == 403


@pytest.mark.parametrize("persona", ["evaluator", "province_jatim", "head_arjowilangun"])
@pytest.mark.parametrize("name", READ_ONLY_PAGES)
def test_read_only_roles_read_the_register_and_the_person(request, sri, persona, name):
    client = request.getfixturevalue(persona)
    assert request_page(client, name, sri).status_code == 200


@pytest.mark.parametrize("name", ["detail", "edit", "departure", "episode-create", "delete"])
def test_the_officer_opens_the_pages_of_their_own_people(officer_arjowilangun, sri, name):
    assert request_page(officer_arjowilangun, name, sri).status_code == 200


def test_an_unknown_person_is_the_same_404_as_a_foreign_one(officer_arjowilangun, world):
    assert (
        officer_arjowilangun.get(url("detail", "6f1c1f4e-0000-4000-8000-000000000000")).status_code
        == 404
    )


# --- 2. Registering a NIK that exists elsewhere, through the form ----------------------------


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_nik_registered_in_another_regency_is_refused_on_the_form_without_saying_where(
    officer_kenanga, world, language
):
    nik = a_nik()
    register(actor=world["officer_arjowilangun"], nik=nik, full_name="Sri Wahyuni")
    officer_kenanga.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = officer_kenanga.post(
        CREATE, person_form(village=KENANGA, nik=nik, full_name="Sri W.")
    )

    assert response.status_code == 200
    [message] = response.context["form"].errors["nik"]
    content = response.content.decode()
    assert message in content
    for secret in ("Sri Wahyuni", "Arjowilangun", "35.07.11.2008", "Kalipare", "Malang"):
        assert secret not in content
    if language == "en":
        assert "coordinator can transfer" in message
    assert Person.objects.filter(nik=nik).count() == 1


def test_a_nik_registered_in_the_coordinators_regency_is_refused_as_in_your_area(
    coordinator_malang, world
):
    nik = a_nik()
    register(actor=world["officer_arjowilangun"], nik=nik)

    response = in_english(coordinator_malang).post(CREATE, person_form(village=BRONGKAL, nik=nik))

    assert response.status_code == 200
    [message] = response.context["form"].errors["nik"]
    assert "registered in your area" in message


def test_the_form_registers_a_person_and_normalises_the_nik(officer_arjowilangun, world):
    nik = a_nik()

    response = officer_arjowilangun.post(
        CREATE, person_form(nik=f"{nik[:6]}-{nik[6:12]} {nik[12:]}", full_name="Sri Wahyuni")
    )

    person = Person.objects.get(full_name="Sri Wahyuni")
    assert response.status_code == 302
    assert response.url == url("detail", person.pk)
    assert (person.nik, person.village_id, person.created_by) == (
        nik,
        ARJOWILANGUN,
        world["officer_arjowilangun"],
    )


def test_the_form_registers_people_without_a_nik(officer_arjowilangun):
    for name in ("Tanpa NIK Satu", "Tanpa NIK Dua"):
        assert officer_arjowilangun.post(CREATE, person_form(full_name=name)).status_code == 302
    assert Person.objects.filter(nik__isnull=True).count() == 2


def test_an_officer_cannot_register_into_another_village_through_the_form(officer_kenanga, world):
    response = officer_kenanga.post(CREATE, person_form(village=ARJOWILANGUN))
    assert response.status_code == 200
    assert "village" in response.context["form"].errors
    assert not Person.objects.exists()


# --- 3. Likely duplicates ---------------------------------------------------------------------


@pytest.fixture
def twins(world):
    """One woman registered twice in Kab. Malang: with a NIK in Arjowilangun, without one in
    Brongkal, her name typed differently."""
    first = register(actor=world["officer_arjowilangun"], full_name="Sri Wahyuni")
    second = register(
        actor=world["officer_brongkal"], village=BRONGKAL, nik=None, full_name="SRI  wahyuni"
    )
    return first, second


def listed(response) -> set:
    return {person.pk for group in response.context["groups"] for person in group}


def test_the_coordinator_sees_likely_duplicates_of_the_regency(coordinator_malang, twins):
    response = coordinator_malang.get(DUPLICATES)
    assert response.status_code == 200
    assert listed(response) == {twins[0].pk, twins[1].pk}


def test_another_regencys_coordinator_does_not_see_them(coordinator_indramayu, twins):
    response = coordinator_indramayu.get(DUPLICATES)
    assert response.status_code == 200
    assert listed(response) == set()
    assert "Wahyuni" not in response.content.decode()


@pytest.mark.parametrize("persona", ["officer_arjowilangun", "officer_brongkal"])
def test_officers_have_no_duplicates_page(request, twins, persona):
    client = request.getfixturevalue(persona)
    assert client.get(DUPLICATES).status_code == 403
    first, second = twins
    response = client.post(DUPLICATES, {"first": first.pk, "second": second.pk, "action": "merge"})
    assert response.status_code == 403
    assert not fresh(second).is_deleted


def test_dismissed_duplicates_are_no_longer_listed(coordinator_malang, twins):
    first, second = twins
    response = coordinator_malang.post(
        DUPLICATES, {"first": first.pk, "second": second.pk, "action": "dismiss"}
    )
    assert response.status_code == 302
    assert listed(coordinator_malang.get(DUPLICATES)) == set()


def test_merging_keeps_one_record_with_both_migrations_and_histories(
    coordinator_malang, twins, world
):
    keep, other = twins
    depart(keep, actor=world["officer_arjowilangun"], on=datetime.date(2018, 1, 1))
    come_home(keep, actor=world["officer_arjowilangun"], on=datetime.date(2020, 1, 1))
    plan(other, actor=world["officer_brongkal"], country="TW")
    other_created = other.history.get(action=PersonHistory.Action.CREATED)

    response = coordinator_malang.post(
        DUPLICATES, {"first": keep.pk, "second": other.pk, "action": "merge"}
    )

    assert response.status_code == 302
    kept, merged = fresh(keep), fresh(other)
    assert kept.episodes.count() == 2
    assert kept.status == Status.CPMI
    assert kept.history.filter(pk=other_created.pk).exists()
    assert kept.history.filter(action=PersonHistory.Action.CREATED).count() == 2
    assert merged.merged_into_id == kept.pk
    assert merged.is_deleted

    coordinator_malang.post(url("restore", merged.pk))
    assert fresh(merged).is_deleted
    assert not Person.objects.alive().filter(pk=merged.pk).exists()


def test_two_records_with_different_niks_are_not_merged(coordinator_malang, world):
    first = register(actor=world["officer_arjowilangun"], full_name="Sri Wahyuni")
    second = register(actor=world["officer_brongkal"], village=BRONGKAL, full_name="Sri Wahyuni")

    coordinator_malang.post(DUPLICATES, {"first": first.pk, "second": second.pk, "action": "merge"})

    assert not fresh(first).is_deleted
    assert not fresh(second).is_deleted
    assert fresh(second).merged_into_id is None


# --- 4. Transfers -----------------------------------------------------------------------------


def test_a_transfer_moves_the_person_out_of_one_village_into_another(
    coordinator_malang, officer_arjowilangun, officer_brongkal, sri, world
):
    response = coordinator_malang.post(
        url("transfer", sri.pk), {"to_village": BRONGKAL, "reason": "Pindah domisili"}
    )

    assert response.status_code == 302
    assert officer_arjowilangun.get(url("detail", sri.pk)).status_code == 404
    assert "Sri Wahyuni" not in names_in(officer_arjowilangun.get(REGISTER))
    assert officer_brongkal.get(url("detail", sri.pk)).status_code == 200
    assert "Sri Wahyuni" in names_in(officer_brongkal.get(REGISTER))
    out = sri.history.get(action=PersonHistory.Action.TRANSFERRED_OUT)
    into = sri.history.get(action=PersonHistory.Action.TRANSFERRED_IN)
    assert (out.village_id, out.actor) == ("35.07.11.2008", world["coordinator_malang"])
    assert (into.village_id, into.actor) == ("35.07.33.2006", world["coordinator_malang"])


def test_the_coordinator_cannot_move_a_person_out_of_the_regency(coordinator_malang, sri):
    history_before = sri.history.count()

    response = coordinator_malang.post(
        url("transfer", sri.pk), {"to_village": KENANGA, "reason": "Pindah"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["to_village"]
    assert fresh(sri).village_id == ARJOWILANGUN
    assert sri.history.count() == history_before


def test_the_ministry_moves_a_person_across_regencies(ministry_admin, officer_kenanga, sri):
    response = ministry_admin.post(
        url("transfer", sri.pk), {"to_village": KENANGA, "reason": "Pindah ke Indramayu"}
    )

    assert response.status_code == 302
    assert fresh(sri).village_id == KENANGA
    assert officer_kenanga.get(url("detail", sri.pk)).status_code == 200


def test_an_officer_has_no_transfer_page(officer_arjowilangun, sri):
    assert officer_arjowilangun.get(url("transfer", sri.pk)).status_code == 403
    response = officer_arjowilangun.post(
        url("transfer", sri.pk), {"to_village": BRONGKAL, "reason": "Pindah"}
    )
    assert response.status_code == 403
    assert fresh(sri).village_id == ARJOWILANGUN


# --- 5. History -------------------------------------------------------------------------------


def test_the_person_page_shows_the_history_with_who_did_what(
    officer_arjowilangun, coordinator_malang, world
):
    officer_arjowilangun.post(CREATE, person_form(full_name="Sri Wahyuni"))
    person = Person.objects.get()
    officer_arjowilangun.post(
        url("edit", person.pk), person_form(full_name="Sri Wahyuningsih", village="")
    )

    response = coordinator_malang.get(url("detail", person.pk))

    history = response.context["history"]
    assert [(entry.action, entry.actor) for entry in history] == [
        (PersonHistory.Action.UPDATED, world["officer_arjowilangun"]),
        (PersonHistory.Action.CREATED, world["officer_arjowilangun"]),
    ]
    assert history[0].changes == {"full_name": ["Sri Wahyuni", "Sri Wahyuningsih"]}
    content = response.content.decode()
    assert world["officer_arjowilangun"].display_name in content  # "Siti Aminah", the officer
    assert "Sri Wahyuni → Sri Wahyuningsih" in content


def test_recording_departure_and_return_on_the_pages_writes_the_history(
    officer_arjowilangun, sri, world
):
    departure = {
        "departure_date": "2023-03-01",
        "destination_country": "HK",
        "procedural_status": "procedural",
        "bpjs_member": "unknown",
    }
    assert officer_arjowilangun.post(url("departure", sri.pk), departure).status_code == 302
    assert fresh(sri).status == Status.PMI
    assert sri.episodes.count() == 1

    back = {"return_date": "2024-03-01", "return_reason": "contract_ended"}
    assert officer_arjowilangun.post(url("return", sri.pk), back).status_code == 302
    assert fresh(sri).status == Status.PURNA

    officer = world["officer_arjowilangun"]
    assert sri.history.filter(action="departed", actor=officer).exists()
    assert sri.history.filter(action="returned_home", actor=officer).exists()


def test_a_return_before_the_departure_is_shown_as_a_form_error(officer_arjowilangun, sri, world):
    depart(sri, actor=world["officer_arjowilangun"], on=datetime.date(2024, 5, 1))

    response = officer_arjowilangun.post(
        url("return", sri.pk), {"return_date": "2024-04-01", "return_reason": "leave"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["return_date"]
    assert fresh(sri).status == Status.PMI


def test_adding_and_changing_a_migration_on_the_pages_writes_the_history(
    officer_arjowilangun, sri, world
):
    episode = sri.episodes.get()
    data = {"destination_country": "TW", "procedural_status": "unknown", "bpjs_member": "unknown"}

    assert (
        officer_arjowilangun.post(url("episode-edit", sri.pk, episode.pk), data).status_code == 302
    )

    entry = sri.history.get(action=PersonHistory.Action.EPISODE_UPDATED)
    assert entry.actor == world["officer_arjowilangun"]
    assert entry.changes["destination_country"] == ["HK", "TW"]
    assert fresh(sri).current_country == "TW"


def test_deleting_hides_the_person_but_keeps_the_row_and_the_coordinator_restores_it(
    officer_arjowilangun, coordinator_malang, sri, world
):
    response = officer_arjowilangun.post(url("delete", sri.pk), {"reason": "Salah input"})

    assert response.status_code == 302
    deleted = fresh(sri)
    assert deleted.deleted_at is not None
    assert deleted.deleted_by == world["officer_arjowilangun"]
    assert "Sri Wahyuni" not in names_in(officer_arjowilangun.get(REGISTER))
    assert officer_arjowilangun.get(url("detail", sri.pk)).status_code == 404
    assert {p.pk for p in coordinator_malang.get(DELETED).context["page"].object_list} == {sri.pk}

    assert officer_arjowilangun.post(url("restore", sri.pk)).status_code == 403
    assert fresh(sri).is_deleted

    assert coordinator_malang.post(url("restore", sri.pk)).status_code == 302
    assert not fresh(sri).is_deleted
    assert "Sri Wahyuni" in names_in(officer_arjowilangun.get(REGISTER))
    assert sri.history.filter(action="deleted", actor=world["officer_arjowilangun"]).exists()
    assert sri.history.filter(action="restored", actor=world["coordinator_malang"]).exists()


def _routes(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield namespace.strip(":"), prefix + str(pattern.pattern), pattern.name or ""


def test_no_page_outside_the_read_only_admin_offers_the_history_for_editing():
    routes = [
        (namespace, route, name)
        for namespace, route, name in _routes(get_resolver().url_patterns)
        if namespace != "admin"
    ]
    assert routes
    for _namespace, route, name in routes:
        for word in ("history", "riwayat"):
            assert word not in route.lower()
            assert word not in name.lower()


def test_nobody_may_add_change_or_delete_history_in_the_admin_not_even_the_ministry(world, sri):
    model_admin = admin.site._registry[PersonHistory]
    request = RequestFactory().get("/admin/")
    request.user = world["admin"]
    entry = sri.history.first()

    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_delete_permission(request, entry)


def test_the_admin_refuses_to_save_a_history_entry(ministry_admin, sri):
    entry = sri.history.first()
    change = reverse("admin:migrants_personhistory_change", args=[entry.pk])

    response = ministry_admin.post(change, {"action": "deleted", "note": "rewritten"})

    assert response.status_code == 403
    assert PersonHistory.objects.get(pk=entry.pk).note == entry.note
    assert ministry_admin.post(reverse("admin:migrants_personhistory_add"), {}).status_code == 403
    delete = reverse("admin:migrants_personhistory_delete", args=[entry.pk])
    assert ministry_admin.post(delete, {"post": "yes"}).status_code == 403
    assert PersonHistory.objects.filter(pk=entry.pk).exists()


# --- 6. Verification --------------------------------------------------------------------------


def test_the_officer_submits_and_the_coordinator_verifies_in_bulk(
    officer_arjowilangun, coordinator_malang, sri, world
):
    other = register(actor=world["officer_arjowilangun"], full_name="Ani Lestari")

    assert officer_arjowilangun.post(url("submit", sri.pk)).status_code == 302
    assert officer_arjowilangun.post(url("submit", other.pk)).status_code == 302
    assert fresh(sri).verification == Verification.SUBMITTED

    queue = coordinator_malang.get(VERIFICATION)
    assert {p.pk for p in queue.context["page"].object_list} == {sri.pk, other.pk}

    response = coordinator_malang.post(VERIFICATION, {"person": [sri.pk, other.pk]})

    assert response.status_code == 302
    for person in (fresh(sri), fresh(other)):
        assert person.verification == Verification.VERIFIED
        assert person.verified_by == world["coordinator_malang"]
    assert coordinator_malang.get(VERIFICATION).context["page"].object_list == []


def test_submit_all_sends_every_draft_of_the_officers_village_only(officer_arjowilangun, world):
    mine = [register(actor=world["officer_arjowilangun"]) for _ in range(3)]
    theirs = register(actor=world["officer_brongkal"], village=BRONGKAL)

    assert officer_arjowilangun.post(url("submit-all")).status_code == 302

    assert {fresh(p).verification for p in mine} == {Verification.SUBMITTED}
    assert fresh(theirs).verification == Verification.DRAFT


def test_the_coordinator_sends_a_record_back_and_the_officer_reads_why(
    officer_arjowilangun, coordinator_malang, sri
):
    officer_arjowilangun.post(url("submit", sri.pk))

    response = coordinator_malang.post(
        url("send-back", sri.pk), {"reason": "Alamat RT/RW belum diisi"}
    )

    assert response.status_code == 302
    assert fresh(sri).verification == Verification.RETURNED
    assert (
        "Alamat RT/RW belum diisi"
        in officer_arjowilangun.get(url("detail", sri.pk)).content.decode()
    )


def test_editing_a_verified_record_puts_it_back_to_draft(
    officer_arjowilangun, coordinator_malang, sri
):
    officer_arjowilangun.post(url("submit", sri.pk))
    coordinator_malang.post(VERIFICATION, {"person": [sri.pk]})
    assert fresh(sri).verification == Verification.VERIFIED

    response = officer_arjowilangun.post(
        url("edit", sri.pk),
        person_form(village="", nik=sri.nik, full_name="Sri Wahyuni", phone="081234567890"),
    )

    assert response.status_code == 302
    assert fresh(sri).phone == "081234567890"
    assert fresh(sri).verification == Verification.DRAFT


def test_an_officer_cannot_verify(officer_arjowilangun, sri):
    officer_arjowilangun.post(url("submit", sri.pk))
    assert officer_arjowilangun.get(VERIFICATION).status_code == 403
    assert officer_arjowilangun.post(VERIFICATION, {"person": [sri.pk]}).status_code == 403
    assert fresh(sri).verification == Verification.SUBMITTED


def test_another_regencys_coordinator_neither_sees_nor_verifies_malang_people(
    officer_arjowilangun, coordinator_indramayu, sri
):
    officer_arjowilangun.post(url("submit", sri.pk))

    queue = coordinator_indramayu.get(VERIFICATION)
    assert queue.status_code == 200
    assert queue.context["page"].object_list == []
    assert "Sri Wahyuni" not in queue.content.decode()

    coordinator_indramayu.post(VERIFICATION, {"person": [sri.pk]})
    assert fresh(sri).verification == Verification.SUBMITTED
    assert fresh(sri).verified_by is None


# --- 9. Query counts: pinned, and flat in the number of rows ----------------------------------

REGISTER_QUERIES = 4
PERSON_PAGE_QUERIES = 6
QUEUE_QUERIES = 3


def test_the_register_list_costs_the_same_queries_for_one_person_or_thirty_one(
    officer_arjowilangun, sri, world, django_assert_num_queries
):
    with django_assert_num_queries(REGISTER_QUERIES):
        officer_arjowilangun.get(REGISTER)

    for _ in range(3):
        household(actor=world["officer_arjowilangun"], size=10)

    with django_assert_num_queries(REGISTER_QUERIES):
        response = officer_arjowilangun.get(REGISTER)
    assert len(response.context["page"].object_list) == 31


def test_the_person_page_costs_the_same_queries_with_thirty_family_members(
    officer_arjowilangun, world, django_assert_num_queries
):
    officer = world["officer_arjowilangun"]
    no_kk = a_kk()
    person = register(actor=officer, full_name="Sri Wahyuni", no_kk=no_kk)
    depart(person, actor=officer, on=datetime.date(2019, 1, 1))
    page = url("detail", person.pk)
    with django_assert_num_queries(PERSON_PAGE_QUERIES):
        officer_arjowilangun.get(page)

    come_home(person, actor=officer, on=datetime.date(2021, 1, 1))
    depart(person, actor=officer, on=datetime.date(2022, 1, 1), country="TW")
    household(actor=officer, size=30, no_kk=no_kk)

    with django_assert_num_queries(PERSON_PAGE_QUERIES):
        response = officer_arjowilangun.get(page)
    assert len(response.context["family"]) == 30
    assert len(response.context["episodes"]) == 2


def test_the_verification_queue_costs_the_same_queries_for_one_record_or_thirty_one(
    officer_arjowilangun, coordinator_malang, sri, world, django_assert_num_queries
):
    officer_arjowilangun.post(url("submit", sri.pk))
    with django_assert_num_queries(QUEUE_QUERIES):
        coordinator_malang.get(VERIFICATION)

    for village in (ARJOWILANGUN, BRONGKAL, ARJOWILANGUN):
        household(actor=world["coordinator_malang"], size=10, village=village)
    officer_arjowilangun.post(url("submit-all"))
    for person in Person.objects.filter(village_id=BRONGKAL):
        coordinator_malang.post(url("submit", person.pk))

    with django_assert_num_queries(QUEUE_QUERIES):
        response = coordinator_malang.get(VERIFICATION)
    assert len(response.context["page"].object_list) == 31


def test_the_deleted_list_costs_the_same_queries_for_one_record_or_thirty_one(
    coordinator_malang, sri, world, django_assert_num_queries
):
    from migrants import services

    services.person_delete(person=sri, actor=world["officer_arjowilangun"], reason="Salah")
    with django_assert_num_queries(QUEUE_QUERIES):
        coordinator_malang.get(DELETED)

    for n, person in enumerate(household(actor=world["coordinator_malang"], size=30)):
        actor = world["officer_arjowilangun"] if n % 2 else world["coordinator_malang"]
        services.person_delete(person=person, actor=actor, reason="Salah")

    with django_assert_num_queries(QUEUE_QUERIES):
        response = coordinator_malang.get(DELETED)
    assert len(response.context["page"].object_list) == 31


# --- 10. Search -------------------------------------------------------------------------------


@pytest.fixture
def three(world, officer_arjowilangun):
    """Sri: abroad in HK, procedural, NIK. Budi: CPMI for TW, non-procedural, no NIK.
    Ani: family member born 1985, NIK, submitted."""
    officer = world["officer_arjowilangun"]
    sri = register(actor=officer, full_name="Sri Wahyuni")
    depart(sri, actor=officer, country="HK", procedural_status="procedural")
    budi = register(actor=officer, full_name="Budi Santoso", sex="L", nik=None)
    plan(budi, actor=officer, country="TW", procedural_status="non_procedural")
    ani_born = datetime.date(1985, 5, 5)
    ani = register(
        actor=officer,
        full_name="Ani Lestari",
        birth_date=ani_born,
        nik=a_nik(birth_date=ani_born),
    )
    officer_arjowilangun.post(url("submit", ani.pk))
    return {"sri": fresh(sri), "budi": fresh(budi), "ani": fresh(ani)}


def search(client, **params) -> set[str]:
    response = client.get(REGISTER, params)
    assert response.status_code == 200
    return names_in(response)


@pytest.mark.parametrize("query", ["wahyu", "WAHYUNI", "  sri   wahyuni ", "Wahyuni"])
def test_search_by_name_ignores_case_and_spacing_and_finds_parts(
    officer_arjowilangun, three, query
):
    assert search(officer_arjowilangun, q=query) == {"Sri Wahyuni"}


def test_search_by_full_nik_finds_the_person(officer_arjowilangun, three):
    assert search(officer_arjowilangun, q=three["sri"].nik) == {"Sri Wahyuni"}


def test_search_by_a_nik_prefix_typed_with_spaces_finds_those_who_start_with_it(
    officer_arjowilangun, three
):
    nik = three["sri"].nik
    assert search(officer_arjowilangun, q=f"{nik[:4]} {nik[4:8]}") == {"Sri Wahyuni"}
    assert search(officer_arjowilangun, q=f"{nik[:2]}-{nik[2:6]}") == {
        "Sri Wahyuni",
        "Ani Lestari",
    }


@pytest.mark.parametrize("query", ["35071", "12"])
def test_fewer_than_six_digits_are_not_a_nik_search_and_match_no_name(
    officer_arjowilangun, three, query
):
    assert search(officer_arjowilangun, q=query) == set()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "pmi"}, {"Sri Wahyuni"}),
        ({"status": "cpmi"}, {"Budi Santoso"}),
        ({"status": "keluarga"}, {"Ani Lestari"}),
        ({"status": "purna"}, set()),
        ({"country": "TW"}, {"Budi Santoso"}),
        ({"country": "HK"}, {"Sri Wahyuni"}),
        ({"sex": "L"}, {"Budi Santoso"}),
        ({"sex": "P"}, {"Sri Wahyuni", "Ani Lestari"}),
        ({"procedural": "non_procedural"}, {"Budi Santoso"}),
        ({"procedural": "procedural"}, {"Sri Wahyuni"}),
        ({"missing_nik": "on"}, {"Budi Santoso"}),
        ({"verification": "submitted"}, {"Ani Lestari"}),
        ({"verification": "draft"}, {"Sri Wahyuni", "Budi Santoso"}),
        ({"sex": "P", "status": "pmi"}, {"Sri Wahyuni"}),
        ({}, {"Sri Wahyuni", "Budi Santoso", "Ani Lestari"}),
    ],
)
def test_each_filter_narrows_the_register(officer_arjowilangun, three, params, expected):
    assert search(officer_arjowilangun, **params) == expected


def test_the_coordinator_filters_by_village(coordinator_malang, three, world):
    register(actor=world["officer_brongkal"], village=BRONGKAL, full_name="Dedi Brongkal")
    assert search(coordinator_malang, village=BRONGKAL) == {"Dedi Brongkal"}
    assert search(coordinator_malang) == {
        "Sri Wahyuni",
        "Budi Santoso",
        "Ani Lestari",
        "Dedi Brongkal",
    }


def test_the_register_is_sorted_by_name_by_default(officer_arjowilangun, three):
    response = officer_arjowilangun.get(REGISTER)
    assert [p.full_name for p in response.context["page"].object_list] == [
        "Ani Lestari",
        "Budi Santoso",
        "Sri Wahyuni",
    ]
