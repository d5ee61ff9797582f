"""The register's writes: status from migrations, NIK duplicates, merges, transfers, history,
verification. Every write goes through migrants.services, so the rules are tested here."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from migrants import services
from migrants.models import (
    Episode,
    Person,
    PersonHistory,
    Procedural,
    ReturnReason,
    Status,
    Verification,
)
from migrants.nik import mask
from tests.migrants.factories import (
    ARJOWILANGUN,
    BALEARJO,
    BORN,
    BRONGKAL,
    DEPARTED,
    KENANGA,
    RETURNED,
    a_nik,
    come_home,
    depart,
    fresh,
    plan,
    register,
)
from villages.models import Region

TOMORROW = timezone.localdate() + datetime.timedelta(days=1)


@pytest.fixture
def officer(world):
    return world["officer_arjowilangun"]


@pytest.fixture
def coordinator(world):
    return world["coordinator_malang"]


@pytest.fixture
def ministry(world):
    return world["admin"]


@pytest.fixture
def person(officer):
    return register(actor=officer, full_name="Sri Wahyuni")


def messages_of(error: ValidationError, field: str) -> str:
    return " ".join(error.message_dict[field])


def village(code: str) -> Region:
    return Region.objects.get(code=code)


# --- 1. Status follows the migrations ---------------------------------------------------------


def test_a_person_without_a_migration_is_a_family_member(person):
    assert fresh(person).status == Status.FAMILY


def test_a_registered_migration_not_yet_departed_makes_a_cpmi(person, officer):
    plan(person, actor=officer)
    assert fresh(person).status == Status.CPMI


def test_a_departure_makes_a_pmi(person, officer):
    depart(person, actor=officer)
    assert fresh(person).status == Status.PMI


def test_a_return_makes_a_purna(person, officer):
    depart(person, actor=officer)
    come_home(person, actor=officer)
    assert fresh(person).status == Status.PURNA


def test_a_second_migration_after_a_return_makes_a_cpmi_then_a_pmi_again(person, officer):
    depart(person, actor=officer, on=datetime.date(2020, 1, 5))
    come_home(person, actor=officer, on=datetime.date(2022, 1, 5))

    plan(person, actor=officer, country="TW")
    assert fresh(person).status == Status.CPMI

    depart(person, actor=officer, on=datetime.date(2024, 6, 1), country="TW")
    assert fresh(person).status == Status.PMI
    assert person.episodes.count() == 2


def test_recording_a_departure_completes_the_planned_migration_instead_of_adding_one(
    person, officer
):
    planned = plan(person, actor=officer, country="SA", job_title="Penata laksana rumah tangga")

    departed = depart(person, actor=officer, country="SA")

    assert departed.pk == planned.pk
    assert person.episodes.count() == 1
    episode = Episode.objects.get(pk=planned.pk)
    assert episode.departure_date == DEPARTED
    assert episode.job_title == "Penata laksana rumah tangga"


@pytest.mark.parametrize("history", ["family member", "cpmi", "purna"])
def test_recording_a_return_when_not_abroad_is_refused(person, officer, history):
    if history == "cpmi":
        plan(person, actor=officer)
    if history == "purna":
        depart(person, actor=officer)
        come_home(person, actor=officer)
    status_before = fresh(person).status

    with pytest.raises(ValidationError):
        come_home(person, actor=officer, on=datetime.date(2025, 1, 1))

    assert fresh(person).status == status_before


def test_a_departure_while_abroad_is_refused(person, officer):
    depart(person, actor=officer)

    with pytest.raises(ValidationError):
        depart(person, actor=officer, on=datetime.date(2024, 1, 1), country="TW")

    assert person.episodes.count() == 1
    assert fresh(person).current_country == "HK"


def test_adding_a_migration_with_a_departure_while_abroad_is_refused_too(person, officer):
    depart(person, actor=officer, on=datetime.date(2023, 1, 1))

    with pytest.raises(ValidationError):
        services.episode_add(
            person=person,
            data={"destination_country": "TW", "departure_date": datetime.date(2024, 1, 1)},
            actor=officer,
        )


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("departure_date", {"departure_date": TOMORROW}),
        (
            "return_date",
            {
                "departure_date": DEPARTED,
                "return_date": TOMORROW,
                "return_reason": ReturnReason.LEAVE,
            },
        ),
    ],
)
def test_a_migration_date_in_the_future_is_refused(person, officer, field, data):
    with pytest.raises(ValidationError) as refused:
        services.episode_add(
            person=person, data={"destination_country": "HK", **data}, actor=officer
        )
    assert field in refused.value.message_dict
    assert not person.episodes.exists()
    assert fresh(person).status == Status.FAMILY


def test_a_departure_recorded_for_tomorrow_is_refused(person, officer):
    with pytest.raises(ValidationError) as refused:
        depart(person, actor=officer, on=TOMORROW)
    assert "departure_date" in refused.value.message_dict
    assert fresh(person).status == Status.FAMILY


def test_a_return_recorded_for_tomorrow_is_refused(person, officer):
    depart(person, actor=officer)
    with pytest.raises(ValidationError) as refused:
        come_home(person, actor=officer, on=TOMORROW)
    assert "return_date" in refused.value.message_dict
    assert fresh(person).status == Status.PMI


def test_a_birth_date_in_the_future_is_refused(officer):
    with pytest.raises(ValidationError) as refused:
        register(actor=officer, nik=None, birth_date=TOMORROW)
    assert "birth_date" in refused.value.message_dict
    assert not Person.objects.exists()


def test_a_return_before_the_departure_is_refused(person, officer):
    depart(person, actor=officer, on=datetime.date(2024, 5, 1))

    with pytest.raises(ValidationError) as refused:
        come_home(person, actor=officer, on=datetime.date(2024, 4, 30))

    assert "return_date" in refused.value.message_dict
    assert fresh(person).status == Status.PMI


@pytest.mark.parametrize("country", ["XX", "ID", "hongkong"])
def test_an_unknown_destination_country_is_refused(person, officer, country):
    with pytest.raises(ValidationError) as refused:
        plan(person, actor=officer, country=country)
    assert "destination_country" in refused.value.message_dict
    assert not person.episodes.exists()


def test_current_country_and_procedural_status_follow_the_latest_migration(person, officer):
    depart(
        person,
        actor=officer,
        on=datetime.date(2019, 2, 1),
        country="MY",
        procedural_status=Procedural.NON_PROCEDURAL,
    )
    come_home(person, actor=officer, on=datetime.date(2021, 2, 1))
    person = fresh(person)
    assert (person.current_country, person.current_procedural) == ("MY", "non_procedural")

    plan(person, actor=officer, country="KR", procedural_status=Procedural.PROCEDURAL)
    person = fresh(person)
    assert (person.status, person.current_country, person.current_procedural) == (
        Status.CPMI,
        "KR",
        "procedural",
    )


def test_changing_the_latest_migration_updates_the_copied_fields(person, officer):
    episode = plan(person, actor=officer, country="HK")

    services.episode_update(episode=episode, data={"destination_country": "TW"}, actor=officer)

    assert fresh(person).current_country == "TW"


# --- 2. NIK duplicates, without leaks ---------------------------------------------------------


def test_a_nik_registered_outside_the_officers_village_is_refused_without_saying_where(
    world, officer
):
    nik = a_nik()
    register(actor=officer, nik=nik, full_name="Sri Wahyuni")

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        register(actor=world["officer_kenanga"], village=KENANGA, nik=nik, full_name="Sri W.")

    message = messages_of(refused.value, "nik")
    for secret in ("Sri Wahyuni", "Arjowilangun", "35.07.11.2008", "Kalipare", "Malang"):
        assert secret not in message
    assert "coordinator can transfer" in message
    assert Person.objects.filter(nik=nik).count() == 1


def test_a_nik_registered_inside_the_coordinators_regency_says_it_is_in_your_area(
    coordinator, officer
):
    nik = a_nik()
    register(actor=officer, nik=nik)

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        register(actor=coordinator, village=BRONGKAL, nik=nik)

    message = messages_of(refused.value, "nik")
    assert "registered in your area" in message
    assert "transfer" not in message


def test_changing_a_nik_to_one_registered_elsewhere_is_refused_without_saying_where(world, officer):
    nik = a_nik()
    register(actor=officer, nik=nik, full_name="Sri Wahyuni")
    kenanga_officer = world["officer_kenanga"]
    someone = register(actor=kenanga_officer, village=KENANGA, nik=None)

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.person_update(person=someone, data={"nik": nik}, actor=kenanga_officer)

    message = messages_of(refused.value, "nik")
    assert "Sri Wahyuni" not in message
    assert "Arjowilangun" not in message
    assert fresh(someone).nik is None


def test_the_database_refuses_two_people_with_the_same_nik_even_without_the_services(world):
    nik = a_nik()
    fields = {"full_name": "Sri Wahyuni", "sex": "P", "birth_date": BORN, "nik": nik}
    Person.objects.create(village_id=ARJOWILANGUN, **fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(village_id=KENANGA, **fields)


def test_a_nik_typed_with_spaces_and_dashes_is_stored_as_sixteen_digits(officer):
    nik = a_nik()
    typed = f" {nik[:6]} {nik[6:12]}-{nik[12:]} "

    person = register(actor=officer, nik=typed)

    assert fresh(person).nik == nik


def test_a_person_without_a_nik_is_registered_and_many_can_coexist(officer):
    first = register(actor=officer, nik=None)
    second = register(actor=officer, nik="")
    third = register(actor=officer, nik=None)

    assert Person.objects.filter(nik__isnull=True).count() == 3
    assert {fresh(p).nik for p in (first, second, third)} == {None}


# --- 3. Likely duplicates ---------------------------------------------------------------------


@pytest.fixture
def twins(officer, world):
    """One woman registered twice in Kab. Malang: with a NIK in Arjowilangun, without one in
    Brongkal (name typed differently)."""
    first = register(actor=officer, full_name="Sri Wahyuni")
    second = register(
        actor=world["officer_brongkal"], village=BRONGKAL, nik=None, full_name="  SRI  wahyuni "
    )
    return first, second


def pks(groups: list[list[Person]]) -> set:
    return {person.pk for group in groups for person in group}


def test_same_name_and_birth_date_in_one_regency_are_likely_duplicates(twins, world):
    groups = services.likely_duplicates(actor=world["coordinator_malang"])
    assert pks(groups) == {twins[0].pk, twins[1].pk}
    assert services.likely_duplicates(actor=world["coordinator_indramayu"]) == []


def test_two_records_that_both_carry_a_nik_are_not_likely_duplicates(officer, world):
    register(actor=officer, full_name="Sri Wahyuni")
    register(actor=world["officer_brongkal"], village=BRONGKAL, full_name="Sri Wahyuni")
    assert services.likely_duplicates(actor=world["coordinator_malang"]) == []


def test_the_same_name_in_two_regencies_is_not_a_likely_duplicate(officer, world):
    register(actor=officer, nik=None, full_name="Sri Wahyuni")
    register(actor=world["officer_kenanga"], village=KENANGA, nik=None, full_name="Sri Wahyuni")
    assert services.likely_duplicates(actor=world["admin"]) == []


def test_dismissed_duplicates_are_no_longer_listed(twins, coordinator):
    services.duplicate_dismiss(first=twins[1], second=twins[0], actor=coordinator)
    assert services.likely_duplicates(actor=coordinator) == []


def test_merging_keeps_one_record_with_the_migrations_and_history_of_both(
    twins, coordinator, world
):
    keep, other = twins
    depart(keep, actor=world["officer_arjowilangun"], on=datetime.date(2018, 1, 1))
    come_home(keep, actor=world["officer_arjowilangun"], on=datetime.date(2020, 1, 1))
    depart(other, actor=world["officer_brongkal"], on=datetime.date(2023, 5, 1), country="TW")
    keep_history = set(keep.history.values_list("pk", flat=True))
    other_history = set(other.history.values_list("pk", flat=True))

    services.persons_merge(keep=keep, other=other, actor=coordinator)

    kept, merged = fresh(keep), fresh(other)
    assert kept.episodes.count() == 2
    assert kept.status == Status.PMI
    assert kept.current_country == "TW"
    assert keep_history | other_history <= set(kept.history.values_list("pk", flat=True))
    assert kept.history.filter(action=PersonHistory.Action.MERGED, actor=coordinator).exists()
    assert merged.merged_into_id == kept.pk
    assert merged.is_deleted
    assert not merged.episodes.exists()


def test_merging_moves_the_nik_to_the_kept_record_when_it_had_none(twins, coordinator):
    with_nik, without_nik = twins
    nik = with_nik.nik

    services.persons_merge(keep=without_nik, other=with_nik, actor=coordinator)

    assert fresh(without_nik).nik == nik
    assert fresh(with_nik).nik is None


def test_a_merged_record_cannot_be_restored(twins, coordinator):
    keep, other = twins
    services.persons_merge(keep=keep, other=other, actor=coordinator)

    with pytest.raises(ValidationError):
        services.person_restore(person=fresh(other), actor=coordinator)

    assert fresh(other).is_deleted


def test_two_records_with_different_niks_cannot_be_merged(officer, world, coordinator):
    first = register(actor=officer, full_name="Sri Wahyuni")
    second = register(actor=world["officer_brongkal"], village=BRONGKAL, full_name="Sri Wahyuni")

    with pytest.raises(ValidationError):
        services.persons_merge(keep=first, other=second, actor=coordinator)

    assert not fresh(first).is_deleted
    assert not fresh(second).is_deleted
    assert fresh(second).merged_into_id is None


def test_an_officer_cannot_merge_or_dismiss(twins, officer):
    with pytest.raises(PermissionDenied):
        services.persons_merge(keep=twins[0], other=twins[1], actor=officer)
    with pytest.raises(PermissionDenied):
        services.duplicate_dismiss(first=twins[0], second=twins[1], actor=officer)


# --- 4. Transfers -----------------------------------------------------------------------------


def test_the_coordinator_moves_a_person_within_the_regency_and_both_villages_keep_a_trace(
    person, coordinator
):
    services.person_transfer(
        person=person, to_village=village(BRONGKAL), actor=coordinator, reason="Pindah domisili"
    )

    assert fresh(person).village_id == BRONGKAL
    out = person.history.get(action=PersonHistory.Action.TRANSFERRED_OUT)
    into = person.history.get(action=PersonHistory.Action.TRANSFERRED_IN)
    assert (out.village_id, out.actor) == (ARJOWILANGUN, coordinator)
    assert (into.village_id, into.actor) == (BRONGKAL, coordinator)


def test_the_coordinator_cannot_move_a_person_to_another_regency(person, coordinator):
    with pytest.raises(ValidationError) as refused:
        services.person_transfer(
            person=person, to_village=village(KENANGA), actor=coordinator, reason="Pindah"
        )

    assert "to_village" in refused.value.message_dict
    assert fresh(person).village_id == ARJOWILANGUN
    assert not person.history.filter(action__startswith="transferred").exists()


def test_the_ministry_moves_a_person_across_regencies(person, ministry):
    services.person_transfer(
        person=person, to_village=village(KENANGA), actor=ministry, reason="Pindah"
    )
    assert fresh(person).village_id == KENANGA


def test_an_officer_cannot_move_a_person(person, officer):
    with pytest.raises(PermissionDenied):
        services.person_transfer(
            person=person, to_village=village(BALEARJO), actor=officer, reason="Pindah"
        )
    assert fresh(person).village_id == ARJOWILANGUN


# --- 5. History -------------------------------------------------------------------------------


def actions(person: Person) -> list[tuple[str, str]]:
    """The person's history, oldest first, as (action, actor username)."""
    return [
        (entry.action, entry.actor.username)
        for entry in PersonHistory.objects.filter(person=person)
        .select_related("actor")
        .order_by("at", "id")
    ]


def test_registering_writes_the_first_history_entry_with_the_actor(person, officer):
    assert actions(person) == [("created", officer.username)]


def test_a_change_records_the_field_with_its_old_and_new_value(person, officer):
    services.person_update(person=person, data={"full_name": "Sri Wahyuningsih"}, actor=officer)

    entry = person.history.get(action=PersonHistory.Action.UPDATED)
    assert entry.actor == officer
    assert entry.changes == {"full_name": ["Sri Wahyuni", "Sri Wahyuningsih"]}


def test_a_change_that_changes_nothing_writes_no_history(person, officer):
    services.person_update(person=person, data={"full_name": "Sri Wahyuni"}, actor=officer)
    assert not person.history.filter(action=PersonHistory.Action.UPDATED).exists()


def test_niks_in_the_history_are_masked_never_whole(person, officer):
    old_nik = person.nik
    new_nik = a_nik()
    kk = "3507110102100042"

    services.person_update(person=person, data={"nik": new_nik, "no_kk": kk}, actor=officer)

    entry = person.history.get(action=PersonHistory.Action.UPDATED)
    assert entry.changes["nik"] == [mask(old_nik), mask(new_nik)]
    assert entry.changes["no_kk"] == ["", mask(kk)]
    everything = json.dumps(list(person.history.values("changes", "note")), ensure_ascii=False)
    for number in (old_nik, new_nik, kk):
        assert number not in everything


def test_passport_numbers_in_the_history_are_hidden(person, officer):
    plan(person, actor=officer, passport_number="C1234567")
    entry = person.history.get(action=PersonHistory.Action.EPISODE_ADDED)
    assert "C1234567" not in json.dumps(entry.changes)


def test_every_write_leaves_a_history_entry_with_its_actor(person, officer, coordinator):
    episode = plan(person, actor=officer)
    services.episode_update(episode=episode, data={"job_title": "Perawat"}, actor=officer)
    depart(person, actor=officer)
    come_home(person, actor=officer)
    services.persons_submit(persons=[person], actor=officer)
    services.person_send_back(person=fresh(person), actor=coordinator, reason="Cek alamat")
    services.persons_submit(persons=[fresh(person)], actor=officer)
    services.persons_verify(persons=[fresh(person)], actor=coordinator)
    services.person_delete(person=fresh(person), actor=officer, reason="Salah input")
    services.person_restore(person=fresh(person), actor=coordinator)

    assert actions(person) == [
        ("created", "officer_arjowilangun"),
        ("episode_added", "officer_arjowilangun"),
        ("episode_updated", "officer_arjowilangun"),
        ("departed", "officer_arjowilangun"),
        ("returned_home", "officer_arjowilangun"),
        ("submitted", "officer_arjowilangun"),
        ("sent_back", "coordinator_malang"),
        ("submitted", "officer_arjowilangun"),
        ("verified", "coordinator_malang"),
        ("deleted", "officer_arjowilangun"),
        ("restored", "coordinator_malang"),
    ]


def test_deleting_keeps_the_row_and_marks_it_deleted(person, officer):
    services.person_delete(person=person, actor=officer, reason="Data ganda")

    deleted = fresh(person)
    assert deleted.deleted_at is not None
    assert deleted.deleted_by == officer
    assert not Person.objects.alive().filter(pk=person.pk).exists()
    assert deleted.history.get(action=PersonHistory.Action.DELETED).note == "Data ganda"


def test_deleting_needs_a_reason(person, officer):
    with pytest.raises(ValidationError):
        services.person_delete(person=person, actor=officer, reason="  ")
    assert not fresh(person).is_deleted


def test_an_officer_cannot_restore(person, officer):
    services.person_delete(person=person, actor=officer, reason="Salah input")
    with pytest.raises(PermissionDenied):
        services.person_restore(person=fresh(person), actor=officer)
    assert fresh(person).is_deleted


def test_a_deleted_record_cannot_be_changed_until_restored(person, officer):
    services.person_delete(person=person, actor=officer, reason="Salah input")
    with pytest.raises(ValidationError):
        services.person_update(person=fresh(person), data={"phone": "0812"}, actor=officer)


# --- 6. Verification --------------------------------------------------------------------------


def test_the_officer_submits_and_the_coordinator_verifies(person, officer, coordinator):
    assert services.persons_submit(persons=[person], actor=officer) == 1
    assert fresh(person).verification == Verification.SUBMITTED

    assert services.persons_verify(persons=[fresh(person)], actor=coordinator) == 1

    verified = fresh(person)
    assert verified.verification == Verification.VERIFIED
    assert verified.verified_by == coordinator
    assert verified.verified_at is not None


def test_only_submitted_records_are_verified(person, coordinator):
    assert services.persons_verify(persons=[person], actor=coordinator) == 0
    assert fresh(person).verification == Verification.DRAFT


def test_sending_back_needs_a_reason_and_keeps_it_for_the_officer(person, officer, coordinator):
    services.persons_submit(persons=[person], actor=officer)

    with pytest.raises(ValidationError):
        services.person_send_back(person=fresh(person), actor=coordinator, reason=" ")
    services.person_send_back(person=fresh(person), actor=coordinator, reason="NIK belum ada")

    returned = fresh(person)
    assert returned.verification == Verification.RETURNED
    assert returned.verification_note == "NIK belum ada"


def test_changing_a_verified_record_puts_it_back_to_draft(person, officer, coordinator):
    services.persons_submit(persons=[person], actor=officer)
    services.persons_verify(persons=[fresh(person)], actor=coordinator)

    services.person_update(person=fresh(person), data={"phone": "081234567890"}, actor=officer)

    assert fresh(person).verification == Verification.DRAFT


def test_an_officer_cannot_verify(person, officer):
    services.persons_submit(persons=[person], actor=officer)
    with pytest.raises(PermissionDenied):
        services.persons_verify(persons=[fresh(person)], actor=officer)
    assert fresh(person).verification == Verification.SUBMITTED


def test_another_regencys_coordinator_cannot_verify(person, officer, world):
    services.persons_submit(persons=[person], actor=officer)
    with pytest.raises(PermissionDenied):
        services.persons_verify(persons=[fresh(person)], actor=world["coordinator_indramayu"])
    assert fresh(person).verification == Verification.SUBMITTED


# --- Scope of the writes ----------------------------------------------------------------------


def test_an_officer_cannot_register_in_another_village(world):
    with pytest.raises(PermissionDenied):
        register(actor=world["officer_kenanga"], village=ARJOWILANGUN)
    assert not Person.objects.exists()


def test_an_officer_cannot_change_a_person_of_another_village(person, world):
    with pytest.raises(PermissionDenied):
        services.person_update(
            person=person, data={"phone": "0812"}, actor=world["officer_kenanga"]
        )
    with pytest.raises(PermissionDenied):
        plan(person, actor=world["officer_kenanga"])


def test_read_only_roles_cannot_write(person, world):
    for username in ("evaluator", "province_jatim", "head_arjowilangun"):
        with pytest.raises(PermissionDenied):
            services.person_update(person=person, data={"phone": "0812"}, actor=world[username])


def test_the_return_reason_is_required_with_a_return(person, officer):
    depart(person, actor=officer)
    with pytest.raises(ValidationError) as refused:
        services.person_record_return(person=person, data={"return_date": RETURNED}, actor=officer)
    assert "return_reason" in refused.value.message_dict
