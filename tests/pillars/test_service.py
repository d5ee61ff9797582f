"""Pillar 1's open registers: the service log and outreach events.

Who may open which page, what a form accepts, and what the lists cost in queries.
"""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse

from pillars import services
from pillars.models import AuditEntry, Outreach, PillarKind, ServiceLog, ServiceType
from tests.migrants.factories import ARJOWILANGUN, BRONGKAL, register

LOGIN = reverse("account_login")
DAY = datetime.date(2025, 3, 10)


def url(name: str, *args) -> str:
    return reverse(f"pillars:{name}", args=args)


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def a_service(world, *, village=ARJOWILANGUN, actor="officer_arjowilangun", **data) -> ServiceLog:
    user = world[actor]
    record = ServiceLog(
        village_id=village,
        date=data.pop("date", DAY),
        service_type=data.pop("service_type", ServiceType.INFORMATION),
        officer=data.pop("officer", user),
        **data,
    )
    services.record_create(actor=user, instance=record, kind=PillarKind.SERVICE_CENTRE)
    return record


def an_outreach(world, *, village=ARJOWILANGUN, actor="officer_arjowilangun", **data) -> Outreach:
    record = Outreach(
        village_id=village,
        date=data.pop("date", DAY),
        topic=data.pop("topic", "Migrasi aman"),
        **data,
    )
    services.record_create(actor=world[actor], instance=record, kind=PillarKind.SERVICE_CENTRE)
    return record


def service_form(**overrides) -> dict[str, str]:
    return {
        "date": DAY.isoformat(),
        "service_type": ServiceType.DOCUMENT_PASSPORT,
        "person": "",
        "officer": "",
        "notes": "",
        **overrides,
    }


def outreach_form(**overrides) -> dict[str, str]:
    return {
        "date": DAY.isoformat(),
        "topic": "Bahaya calo",
        "location": "Balai desa",
        "attendees_male": "12",
        "attendees_female": "30",
        "notes": "",
        **overrides,
    }


@pytest.fixture
def records(world) -> dict[str, object]:
    """One service and one outreach event of Arjowilangun."""
    return {"service": a_service(world), "outreach": an_outreach(world)}


# --- The permission trio, for every page of both registers ---------------------------------------

PAGES = ["list", "create", "detail", "edit", "delete"]
RECORD_PAGES = ["detail", "edit", "delete"]
WRITE_PAGES = ["create", "edit", "delete"]


def request_page(client, slug: str, page: str, records):
    if page in ("list", "create"):
        return client.get(url(f"{slug}-{page}"))
    pk = records[slug].pk
    if page == "delete":
        return client.post(url(f"{slug}-delete", pk), {"reason": "salah input"})
    return client.get(url(f"{slug}-{page}", pk))


@pytest.mark.parametrize("slug", ["service", "outreach"])
@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_login(anonymous, records, slug, page):
    response = request_page(anonymous, slug, page, records)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.parametrize(
    "persona", ["officer_arjowilangun", "coordinator_malang", "ministry_admin"]
)
@pytest.mark.parametrize("slug", ["service", "outreach"])
@pytest.mark.parametrize("page", ["list", "create", "detail", "edit"])
def test_those_who_keep_the_village_open_its_pages(request, records, persona, slug, page):
    client = request.getfixturevalue(persona)
    assert request_page(client, slug, page, records).status_code == 200


@pytest.mark.parametrize(
    "persona", ["officer_kenanga", "officer_brongkal", "coordinator_indramayu"]
)
@pytest.mark.parametrize("slug", ["service", "outreach"])
@pytest.mark.parametrize("page", RECORD_PAGES)
def test_outside_the_scope_the_record_does_not_exist(request, records, persona, slug, page):
    client = request.getfixturevalue(persona)
    assert request_page(client, slug, page, records).status_code == 404
    assert type(records[slug]).objects.get(pk=records[slug].pk).deleted_at is None


@pytest.mark.parametrize("persona", ["officer_kenanga", "coordinator_indramayu"])
@pytest.mark.parametrize("slug", ["service", "outreach"])
def test_outside_the_scope_the_list_does_not_show_the_record(request, records, persona, slug):
    response = request.getfixturevalue(persona).get(url(f"{slug}-list"))
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []


def test_an_unknown_record_is_the_same_404(officer_arjowilangun, world):
    assert officer_arjowilangun.get(url("service-detail", 999999)).status_code == 404


@pytest.mark.parametrize("persona", ["head_arjowilangun", "province_jatim", "evaluator"])
@pytest.mark.parametrize("slug", ["service", "outreach"])
@pytest.mark.parametrize("page", WRITE_PAGES)
def test_read_only_roles_may_not_write(request, records, persona, slug, page):
    client = request.getfixturevalue(persona)
    assert request_page(client, slug, page, records).status_code == 403
    assert type(records[slug]).objects.get(pk=records[slug].pk).deleted_at is None


@pytest.mark.parametrize("persona", ["head_arjowilangun", "province_jatim", "evaluator"])
@pytest.mark.parametrize("slug", ["service", "outreach"])
@pytest.mark.parametrize("page", ["list", "detail"])
def test_read_only_roles_read_the_registers(request, records, persona, slug, page):
    client = request.getfixturevalue(persona)
    response = request_page(client, slug, page, records)
    assert response.status_code == 200
    assert url(f"{slug}-create") not in response.content.decode()


# --- The service log -------------------------------------------------------------------------


def test_the_officer_logs_a_service_and_is_its_officer_by_default(officer_arjowilangun, world):
    form = officer_arjowilangun.get(url("service-create")).context["form"]
    assert form["officer"].value() == world["officer_arjowilangun"].pk

    sri = register(actor=world["officer_arjowilangun"], full_name="Sri Wahyuni")
    response = officer_arjowilangun.post(
        url("service-create"),
        service_form(person=sri.pk, officer=world["officer_arjowilangun"].pk),
    )

    record = ServiceLog.objects.get()
    assert response.status_code == 302
    assert response.url == url("service-detail", record.pk)
    assert (record.village_id, record.person, record.officer, record.created_by) == (
        ARJOWILANGUN,
        sri,
        world["officer_arjowilangun"],
        world["officer_arjowilangun"],
    )
    assert record.pillar.kind == PillarKind.SERVICE_CENTRE
    assert AuditEntry.objects.filter(
        model="servicelog", object_id=str(record.pk), action=AuditEntry.Action.CREATED
    ).exists()
    page = officer_arjowilangun.get(response.url).content.decode()
    assert "Sri Wahyuni" in page


def test_a_service_needs_no_person(officer_arjowilangun, world):
    response = officer_arjowilangun.post(
        url("service-create"), service_form(officer=world["officer_arjowilangun"].pk)
    )
    assert response.status_code == 302
    assert ServiceLog.objects.get().person is None


def test_a_person_of_another_village_cannot_be_attached(officer_arjowilangun, world):
    stranger = register(actor=world["officer_brongkal"], village=BRONGKAL)

    response = officer_arjowilangun.post(
        url("service-create"),
        service_form(person=stranger.pk, officer=world["officer_arjowilangun"].pk),
    )

    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert not ServiceLog.objects.exists()


def test_the_coordinator_cannot_attach_a_person_of_another_village_either(
    coordinator_malang, world
):
    stranger = register(actor=world["officer_brongkal"], village=BRONGKAL)

    response = coordinator_malang.post(
        url("service-create"),
        service_form(
            village_code=ARJOWILANGUN, person=stranger.pk, officer=world["coordinator_malang"].pk
        ),
    )

    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert not ServiceLog.objects.exists()


def test_an_edit_cannot_move_the_person_to_another_village(officer_arjowilangun, world):
    record = a_service(world)
    stranger = register(actor=world["officer_brongkal"], village=BRONGKAL)

    response = officer_arjowilangun.post(
        url("service-edit", record.pk),
        service_form(person=stranger.pk, officer=world["officer_arjowilangun"].pk),
    )

    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert ServiceLog.objects.get(pk=record.pk).person is None


def test_the_officer_is_someone_of_the_village(officer_arjowilangun, world):
    choices = {
        user.username
        for user in officer_arjowilangun.get(url("service-create"))
        .context["form"]
        .fields["officer"]
        .queryset
    }
    assert {"officer_arjowilangun", "head_arjowilangun"} <= choices
    assert not choices & {"officer_kenanga", "officer_brongkal", "deactivated_officer"}

    response = officer_arjowilangun.post(
        url("service-create"), service_form(officer=world["officer_kenanga"].pk)
    )
    assert response.status_code == 200
    assert "officer" in response.context["form"].errors
    assert not ServiceLog.objects.exists()


def test_the_coordinator_names_the_villages_officer(coordinator_malang, world):
    response = coordinator_malang.post(
        url("service-create"),
        service_form(village_code=ARJOWILANGUN, officer=world["officer_arjowilangun"].pk),
    )
    assert response.status_code == 302
    record = ServiceLog.objects.get()
    assert (record.officer, record.created_by) == (
        world["officer_arjowilangun"],
        world["coordinator_malang"],
    )


def test_the_service_log_filters_by_service_type(officer_arjowilangun, world):
    passport = a_service(world, service_type=ServiceType.DOCUMENT_PASSPORT)
    a_service(world, service_type=ServiceType.INFORMATION)

    response = officer_arjowilangun.get(url("service-list"), {"service_type": "document_passport"})

    assert [row.pk for row in response.context["page"].object_list] == [passport.pk]


def test_a_change_is_saved_and_audited(officer_arjowilangun, world):
    record = a_service(world)
    response = officer_arjowilangun.post(
        url("service-edit", record.pk),
        service_form(notes="Dibantu isi formulir", officer=world["officer_arjowilangun"].pk),
    )
    assert response.status_code == 302
    assert ServiceLog.objects.get(pk=record.pk).notes == "Dibantu isi formulir"
    entry = AuditEntry.objects.get(model="servicelog", action=AuditEntry.Action.UPDATED)
    assert entry.actor == world["officer_arjowilangun"]
    assert "notes" in entry.changes


@pytest.mark.parametrize("slug", ["service", "outreach"])
def test_deleting_keeps_the_row_and_says_who_and_why(officer_arjowilangun, world, records, slug):
    record = records[slug]

    response = officer_arjowilangun.post(url(f"{slug}-delete", record.pk), {"reason": "dobel"})

    assert response.status_code == 302
    kept = type(record).objects.get(pk=record.pk)
    assert kept.deleted_at is not None
    assert kept.deleted_by == world["officer_arjowilangun"]
    entry = AuditEntry.objects.get(object_id=str(record.pk), action=AuditEntry.Action.DELETED)
    assert (entry.model, entry.note) == (type(record)._meta.model_name, "dobel")
    assert officer_arjowilangun.get(url(f"{slug}-detail", record.pk)).status_code == 404
    listed = officer_arjowilangun.get(url(f"{slug}-list")).context["page"].object_list
    assert record.pk not in [row.pk for row in listed]


def test_deleting_without_a_reason_deletes_nothing(officer_arjowilangun, records):
    record = records["service"]
    response = officer_arjowilangun.post(url("service-delete", record.pk), {"reason": " "})
    assert response.status_code == 302
    assert ServiceLog.objects.get(pk=record.pk).deleted_at is None


# --- Outreach ---------------------------------------------------------------------------------


def test_an_outreach_event_is_recorded_and_its_total_attendance_listed(officer_arjowilangun):
    response = officer_arjowilangun.post(url("outreach-create"), outreach_form())
    record = Outreach.objects.get()
    assert response.status_code == 302
    assert (record.attendees_male, record.attendees_female, record.attendees) == (12, 30, 42)

    listing = in_english(officer_arjowilangun).get(url("outreach-list"))
    [(_row, cells)] = listing.context["rows"]
    assert cells[-1] == 42
    content = listing.content.decode()
    assert "Total attending" in content
    assert "<td>42</td>" in content


def test_attendance_cannot_be_negative(officer_arjowilangun):
    response = officer_arjowilangun.post(url("outreach-create"), outreach_form(attendees_male="-1"))
    assert response.status_code == 200
    assert "attendees_male" in response.context["form"].errors
    assert not Outreach.objects.exists()


# --- Query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["officer_arjowilangun", "coordinator_malang"])
def test_the_service_log_costs_the_same_queries_for_many_rows(
    request, world, persona, django_assert_max_num_queries
):
    client = request.getfixturevalue(persona)
    people = [register(actor=world["officer_arjowilangun"]) for _ in range(3)]
    for n in range(3):
        a_service(world, person=people[n])
    with django_assert_max_num_queries(12) as few:
        assert client.get(url("service-list")).status_code == 200
    for n in range(12):
        a_service(world, person=people[n % 3], service_type=ServiceType.FAMILY_HELP)
    a_service(world, village=BRONGKAL, actor="officer_brongkal")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("service-list"))
    assert len(response.context["rows"]) >= 15


def test_the_outreach_list_costs_the_same_queries_for_many_rows(
    officer_arjowilangun, world, django_assert_max_num_queries
):
    an_outreach(world)
    with django_assert_max_num_queries(12) as few:
        officer_arjowilangun.get(url("outreach-list"))
    for _ in range(20):
        an_outreach(world)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = officer_arjowilangun.get(url("outreach-list"))
    assert len(response.context["rows"]) == 21
