# The SQL below is assembled from table names of bench.generate and of this module only.
# ruff: noqa: S608
"""The benchmark's data generator (bench/generate.py) writes rows the application accepts:
the sizes asked for, every activity in a pillar of its village's variant and of its register's
kind, people on records from the record's village, and a register as the services keep it.
PostgreSQL only: the generator is SQL (generate_series, hash functions)."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from bench.generate import ACTIVITY_TABLES, KIND_OF, SMALL, fill
from migrants.models import Episode, Person
from migrants.services import identity_problems
from villages.models import Designation, Region

# Columns naming a person who must live in the record's village.
PERSON_COLUMNS = {
    "pillars_servicelog": "person_id",
    "pillars_case": "person_id",
    "pillars_enterprise": "owner_id",
    "pillars_referral": "person_id",
    "pillars_childenrolment": "child_id",
    "pillars_cooperativemember": "person_id",
}


@pytest.fixture
def generated(world):
    if connection.vendor != "postgresql":
        pytest.skip("the generator writes PostgreSQL SQL")
    return fill(**SMALL, log=lambda message: None)


def _scalar(query: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()[0]


def test_it_writes_the_sizes_asked_for(generated):
    assert generated.counts["migrants_person"] == SMALL["people"]
    assert generated.counts["migrants_episode"] == SMALL["episodes"]
    assert generated.activities == SMALL["activities"]
    for table in ACTIVITY_TABLES.values():
        assert generated.counts[table] == generated.planned[table] > 0, table
    assert generated.counts["pillars_training_participants"] > 0
    assert generated.counts["pillars_monthlyreport"] > 0


def test_the_foreign_keys_and_constraints_hold(generated):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred checks, now


def test_every_activity_is_in_a_pillar_of_its_village_variant_and_kind(generated):
    for table, kind in KIND_OF.items():
        total = _scalar(f"SELECT count(*) FROM {table}")
        wrong = _scalar(
            f"""
            SELECT count(*) FROM {table} t
            LEFT JOIN villages_designation d ON d.village_id = t.village_id
            LEFT JOIN pillars_pillar p ON p.id = t.pillar_id
            WHERE d.id IS NULL OR p.variant_id IS DISTINCT FROM d.variant_id
               OR p.kind IS DISTINCT FROM %s
            """,
            [kind],
        )
        assert total > 0, table
        assert wrong == 0, table


def test_people_on_records_live_in_the_records_village(generated):
    for table, column in PERSON_COLUMNS.items():
        elsewhere = _scalar(
            f"SELECT count(*) FROM {table} t JOIN migrants_person p ON p.id = t.{column} "
            "WHERE p.village_id <> t.village_id"
        )
        assert elsewhere == 0, table
    assert not _scalar(
        "SELECT count(*) FROM pillars_training_participants x "
        "JOIN pillars_training t ON t.id = x.training_id "
        "JOIN migrants_person p ON p.id = x.person_id WHERE p.village_id <> t.village_id"
    )
    enrolled_adults = _scalar(
        "SELECT count(*) FROM pillars_childenrolment e JOIN migrants_person p ON p.id = e.child_id "
        "WHERE p.birth_date <= %s",
        [timezone.localdate() - datetime.timedelta(days=18 * 366)],
    )
    assert enrolled_adults == 0


def test_people_carry_their_latest_episode(generated):
    """The status, country and procedural status are the latest episode's, as the services
    keep them (the summaries read the latest episode as departure date, nulls first)."""
    latest = {}
    for episode in Episode.objects.order_by("person_id", "-created_at"):
        current = latest.get(episode.person_id)
        if current is None or _later(episode, current):
            latest[episode.person_id] = episode
    stage_status = {"planned": "cpmi", "abroad": "pmi", "returned": "purna"}
    for person in Person.objects.all():
        episode = latest.get(person.pk)
        if episode is None:
            assert (person.status, person.current_country) == ("keluarga", "")
            continue
        assert person.status == stage_status[episode.stage]
        assert person.current_country == episode.destination_country
        assert person.current_procedural == episode.procedural_status


def _later(episode: Episode, than: Episode) -> bool:
    if episode.departure_date is None or than.departure_date is None:
        return episode.departure_date is None and than.departure_date is not None
    return episode.departure_date > than.departure_date


def test_nik_and_family_card_are_as_the_register_judges_them(generated):
    districts = set(Region.objects.filter(level=3).values_list("code", flat=True))
    today = timezone.localdate()
    people = list(Person.objects.all())
    with_nik = 0
    for person in people:
        stored = list(person.nik_warnings)
        errors, warnings = identity_problems(
            person=person, known_district=districts.__contains__, today=today
        )
        assert errors == {}, (person.nik, person.no_kk)
        assert warnings == stored, person.nik
        with_nik += person.nik is not None
    assert 0.85 * len(people) < with_nik < len(people)  # some have none yet
    assert sum(bool(person.nik_warnings) for person in people) > 0


def test_designations_follow_the_programme(generated):
    designations = list(Designation.objects.select_related("variant", "village"))
    assert len(designations) == generated.counts["villages_designation"]
    assert {d.variant.code for d in designations} == {"desmigratif-4-pilar"}
    assert {d.village.level for d in designations} == {Region.Level.VILLAGE}
    assert all(2016 <= d.cohort_year <= 2024 for d in designations)
    assert Designation.objects.filter(officers__username__startswith="bench_officer_").count() == (
        len(designations)
    )
