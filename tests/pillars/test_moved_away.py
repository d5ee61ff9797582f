"""A pillar record names a person only to readers who may see that person (issue 7).

Arjowilangun served Pindah Wiryo, who then moved to Kenanga: the village keeps its records, but
its officer, head, coordinator and province no longer see the person, so the records' lists,
pages, forms and admin pages show a placeholder instead of the name."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from migrants import services as register_services
from migrants.models import Person
from pillars import services
from pillars.models import Case, PillarKind, ServiceLog, ServiceType
from tests.migrants.factories import KENANGA
from tests.pillars.test_enterprise import a_training, an_enterprise, in_english, purna
from tests.pillars.test_referrals import a_referral
from villages.models import Region

MOVED = "Pindah Wiryo"
STAYED = "Tetap Sumarni"
PLACEHOLDER = "(not shown to you)"
TODAY = timezone.localdate()


def url(name: str, *args) -> str:
    return reverse(f"pillars:{name}", args=args)


def a_service(actor: User, person: Person, **data) -> ServiceLog:
    record = ServiceLog(
        village_id=person.village_id,
        date=data.pop("date", TODAY),
        service_type=ServiceType.INFORMATION,
        person=person,
        officer=actor,
        **data,
    )
    services.record_create(actor=actor, instance=record, kind=PillarKind.SERVICE_CENTRE)
    return record


def a_case(actor: User, person: Person) -> Case:
    record = Case(
        village_id=person.village_id,
        person=person,
        case_type=Case.Type.UNPAID_WAGES,
        channel=Case.Channel.PHONE,
        reported_on=TODAY,
        summary="Gaji tidak dibayar",
    )
    services.record_create(actor=actor, instance=record, kind=PillarKind.SERVICE_CENTRE)
    return record


def moves_to_kenanga(person: Person, world) -> None:
    register_services.person_transfer(
        person=person,
        to_village=Region.objects.get(code=KENANGA),
        actor=world["admin"],
        reason="Pindah domisili",
    )


@pytest.fixture
def officer(world) -> User:
    return world["officer_arjowilangun"]


@pytest.fixture
def records(world, officer) -> dict:
    """Records of Arjowilangun about someone who has since moved away, and about a neighbour
    who stayed."""
    moved, stayed = purna(officer, full_name=MOVED), purna(officer, full_name=STAYED)
    enterprise = an_enterprise(officer, moved, name="Warung Pindahan")
    made = {
        "service": a_service(officer, moved),
        "stayed": a_service(officer, stayed),
        "case": a_case(officer, moved),
        "enterprise": enterprise,
        "referral": a_referral(officer, person=moved, enterprise=enterprise),
        "training": a_training(officer, [moved, stayed]),
    }
    moves_to_kenanga(moved, world)
    return made


def text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


# --- Lists -------------------------------------------------------------------------------------


@pytest.mark.parametrize("register", ["service", "enterprise", "referral"])
def test_the_list_names_only_the_people_the_reader_sees(officer_arjowilangun, records, register):
    page = text(in_english(officer_arjowilangun).get(url(f"{register}-list")))

    assert MOVED not in page
    assert PLACEHOLDER in page


def test_the_list_still_names_the_neighbour_who_stayed(officer_arjowilangun, records):
    page = text(in_english(officer_arjowilangun).get(url("service-list")))

    assert STAYED in page


@pytest.mark.parametrize("persona", ["head_arjowilangun", "coordinator_malang", "province_jatim"])
def test_no_reader_of_the_old_village_sees_the_name(request, records, persona):
    client = request.getfixturevalue(persona)
    for register in ("service", "enterprise", "referral"):
        assert MOVED not in text(client.get(url(f"{register}-list")))


def test_a_reader_who_sees_the_person_still_reads_the_name(evaluator, records):
    page = text(evaluator.get(url("service-list")))

    assert MOVED in page
    assert PLACEHOLDER not in page


@pytest.mark.parametrize("register", ["service", "enterprise", "referral"])
def test_searching_the_name_finds_nothing_once_the_person_moved_away(
    officer_arjowilangun, records, register
):
    page = text(officer_arjowilangun.get(url(f"{register}-list"), {"q": "Wiryo"}))

    assert url(f"{register}-detail", records[register].pk) not in page


def test_searching_a_name_the_reader_sees_still_finds_the_record(officer_arjowilangun, records):
    page = text(officer_arjowilangun.get(url("service-list"), {"q": "Sumarni"}))

    assert url("service-detail", records["stayed"].pk) in page


def test_the_list_asks_once_which_people_it_may_name_whatever_the_rows(
    officer_arjowilangun, world, officer, records, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20) as few:
        text(officer_arjowilangun.get(url("service-list")))
    for _ in range(3):
        moved = purna(officer)
        a_service(officer, moved)
        moves_to_kenanga(moved, world)
    with django_assert_max_num_queries(len(few.captured_queries)):
        text(officer_arjowilangun.get(url("service-list")))


# --- Pages and forms ---------------------------------------------------------------------------


@pytest.mark.parametrize("register", ["service", "case", "enterprise", "referral"])
def test_the_record_page_does_not_name_the_person_who_moved_away(
    officer_arjowilangun, records, register
):
    page = text(
        in_english(officer_arjowilangun).get(url(f"{register}-detail", records[register].pk))
    )

    assert MOVED not in page
    assert PLACEHOLDER in page


def test_the_training_page_counts_the_participant_who_moved_away_without_naming_them(
    officer_arjowilangun, records
):
    page = text(
        in_english(officer_arjowilangun).get(url("training-detail", records["training"].pk))
    )

    assert MOVED not in page
    assert STAYED in page
    assert "1 participant is not listed" in page


@pytest.mark.parametrize("view", ["create", "edit"])
def test_the_referral_form_offers_the_enterprise_without_its_former_owner_name(
    officer_arjowilangun, records, view
):
    address = (
        url("referral-create") if view == "create" else url("referral-edit", records["referral"].pk)
    )
    page = text(in_english(officer_arjowilangun).get(address))

    assert "Warung Pindahan" in page
    assert MOVED not in page
    assert f"Warung Pindahan ({PLACEHOLDER})" in page


@pytest.mark.parametrize("register", ["service", "case", "enterprise"])
def test_the_edit_form_does_not_name_the_person_who_moved_away(
    officer_arjowilangun, records, register
):
    page = text(officer_arjowilangun.get(url(f"{register}-edit", records[register].pk)))

    assert MOVED not in page


# --- The admin ---------------------------------------------------------------------------------


@pytest.mark.parametrize("register", ["service", "case", "enterprise", "referral", "training"])
def test_the_admin_does_not_name_the_person_who_moved_away(coordinator_malang, records, register):
    record = records[register]
    address = reverse(f"admin:pillars_{record._meta.model_name}_change", args=[record.pk])
    page = text(in_english(coordinator_malang).get(address))

    assert MOVED not in page
    assert PLACEHOLDER in page


def test_the_admin_names_and_links_the_people_the_reader_sees(coordinator_malang, records):
    record = records["stayed"]
    page = text(
        coordinator_malang.get(reverse("admin:pillars_servicelog_change", args=[record.pk]))
    )

    assert STAYED in page
    assert reverse("admin:migrants_person_change", args=[record.person_id]) in page


def test_the_admin_lists_the_training_participants_the_reader_sees(coordinator_malang, records):
    training = records["training"]
    page = text(
        in_english(coordinator_malang).get(
            reverse("admin:pillars_training_change", args=[training.pk])
        )
    )

    assert STAYED in page
    assert PLACEHOLDER in page
    assert MOVED not in page


def test_the_ministry_admin_still_reads_the_name(ministry_admin, records):
    record = records["service"]
    page = text(ministry_admin.get(reverse("admin:pillars_servicelog_change", args=[record.pk])))

    assert MOVED in page


def test_the_pages_leave_the_records_pointing_to_the_person(officer_arjowilangun, records):
    record = records["service"]
    officer_arjowilangun.get(url("service-list"))
    officer_arjowilangun.get(url("service-detail", record.pk))

    assert ServiceLog.objects.get(pk=record.pk).person.full_name == MOVED


def test_changing_a_training_keeps_the_participant_who_moved_away(officer_arjowilangun, records):
    training = records["training"]
    stayed = Person.objects.get(full_name=STAYED)

    response = officer_arjowilangun.post(
        url("training-edit", training.pk),
        {
            "topic": "Pemasaran daring lanjutan",
            "organiser": training.organiser,
            "start_date": training.start_date.isoformat(),
            "end_date": training.end_date.isoformat(),
            "participants": [stayed.pk],
        },
    )

    assert response.status_code == 302
    training.refresh_from_db()
    assert training.topic == "Pemasaran daring lanjutan"
    assert set(training.participants.values_list("full_name", flat=True)) == {MOVED, STAYED}


def test_the_officer_still_takes_off_a_participant_they_see(officer_arjowilangun, records):
    training = records["training"]

    officer_arjowilangun.post(
        url("training-edit", training.pk),
        {
            "topic": training.topic,
            "organiser": training.organiser,
            "start_date": training.start_date.isoformat(),
            "end_date": training.end_date.isoformat(),
            "participants": [],
        },
    )

    assert set(training.participants.values_list("full_name", flat=True)) == {MOVED}


def test_editing_a_record_keeps_the_person_who_moved_away(officer_arjowilangun, records, officer):
    """The form cannot offer the person, so it sends no one; the record keeps its person."""
    record = records["service"]

    response = officer_arjowilangun.post(
        url("service-edit", record.pk),
        {
            "date": record.date.isoformat(),
            "service_type": record.service_type,
            "person": "",
            "officer": officer.pk,
            "notes": "Ditindaklanjuti lewat telepon",
        },
    )

    assert response.status_code == 302, response.content.decode()[-6000:]
    record.refresh_from_db()
    assert record.notes == "Ditindaklanjuti lewat telepon"
    assert record.person.full_name == MOVED


def test_editing_a_record_can_still_name_someone_the_officer_sees(
    officer_arjowilangun, records, officer
):
    record = records["service"]
    stayed = Person.objects.get(full_name=STAYED)

    officer_arjowilangun.post(
        url("service-edit", record.pk),
        {
            "date": record.date.isoformat(),
            "service_type": record.service_type,
            "person": stayed.pk,
            "officer": officer.pk,
            "notes": "",
        },
    )

    record.refresh_from_db()
    assert record.person == stayed
