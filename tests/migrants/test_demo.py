"""The demo register that `seed_demo` writes: realistic, consistent, and written only once."""

import datetime
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from migrants.demo import (
    DEMO_REGISTER_VILLAGES,
    LIVE_DAYS,
    RegisterSeedResult,
    build_register,
    demo_today,
    seed_register,
)
from migrants.models import Episode, Person, PersonHistory, Status, Verification
from migrants.nik import check_kk, check_nik
from migrants.services import derived_fields, district_exists, likely_duplicates, person_register
from tests.conftest import PASSWORD, WORLD_REGIONS
from villages.demo import seed_demo
from villages.models import Region
from villages.services import regions_load

DEMO_CODES = {village.code for village in DEMO_REGISTER_VILLAGES}
HOUSEHOLD_JOBS = {"Penata Laksana Rumah Tangga (domestic worker)", "Caregiver"}
KURIPAN = "33.07.10.2004"


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The `world` of conftest with its register, written once for this module (a seed takes
    seconds): each test runs in a savepoint inside this transaction, rolled back at the end."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        regions_load(regions=WORLD_REGIONS, edition="test", source="tests")
        users = {user.username: user for user in seed_demo(password=PASSWORD)}
        yield users, seed_register()
        transaction.set_rollback(True)


@pytest.fixture
def users(seeded, db) -> dict[str, User]:
    return seeded[0]


@pytest.fixture
def result(seeded, db) -> RegisterSeedResult:
    return seeded[1]


def people() -> list[Person]:
    return list(Person.objects.prefetch_related("episodes").order_by("village_id", "no_kk"))


def test_a_few_hundred_people_in_households_across_the_six_villages(result):
    per_village = Counter(Person.objects.values_list("village_id", flat=True))
    assert set(per_village) == DEMO_CODES
    assert all(50 <= count <= 95 for count in per_village.values()), per_village
    assert 300 <= sum(per_village.values()) <= 550
    assert result.added == per_village

    households: dict[str, list[Person]] = defaultdict(list)
    for person in people():
        if person.no_kk:
            households[person.no_kk].append(person)
    assert sum(len(members) >= 3 for members in households.values()) >= 20
    today = timezone.localdate()
    for no_kk, members in households.items():
        village = members[0].village_id
        assert {member.village_id for member in members} == {village}
        assert no_kk.startswith(village[:8].replace(".", ""))
        assert check_kk(no_kk, known_district=district_exists).problems == ()
        issued = datetime.datetime.strptime(no_kk[6:12], "%d%m%y").date()
        assert issued <= today
        # The card is issued after the birth of everyone on it.
        assert all(member.birth_date <= issued for member in members)
        assert [m.relationship for m in members].count("head") <= 1

    places = Counter((person.village_id[:5], person.birth_place) for person in Person.objects.all())
    for regency, home in (("32.12", "Indramayu"), ("33.07", "Wonosobo"), ("35.07", "Malang")):
        here = sum(count for (code, _place), count in places.items() if code == regency)
        assert places[(regency, home)] > 0.8 * here


def test_niks_agree_with_birth_date_sex_and_district_except_the_deliberate_few(result):
    persons = people()
    niks = [person.nik for person in persons if person.nik]
    assert len(niks) == len(set(niks))
    assert 0.01 <= 1 - len(niks) / len(persons) <= 0.06  # about 3% without NIK

    mismatched = 0
    for person in persons:
        if not person.nik:
            assert person.nik_warnings == []
            continue
        assert person.nik.startswith(person.village_id[:8].replace(".", ""))
        check = check_nik(
            person.nik,
            birth_date=person.birth_date,
            sex=person.sex,
            known_district=district_exists,
        )
        # The stored warnings are what the services' identity check would store.
        assert person.nik_warnings == list(check.codes)
        if "birth_date_mismatch" in person.nik_warnings:
            mismatched += 1
            assert check.codes == ("birth_date_mismatch",)
        else:
            assert check.problems == (), (person.full_name, check.codes)
    assert 6 <= mismatched <= 0.05 * len(persons)


def test_statuses_follow_the_episodes_and_the_mix_is_realistic(result):
    persons = people()
    for person in persons:
        derived = derived_fields(person.episodes.all())
        assert {field: getattr(person, field) for field in derived} == derived

    statuses = Counter(person.status for person in persons)
    share = {status: statuses[status] / len(persons) for status in Status.values}
    assert 0.25 <= share[Status.PMI] <= 0.45, share
    assert 0.25 <= share[Status.PURNA] <= 0.45, share
    assert 0.08 <= share[Status.CPMI] <= 0.25, share
    assert 0.08 <= share[Status.FAMILY] <= 0.35, share
    for code in DEMO_CODES:
        assert {p.status for p in persons if p.village_id == code} == set(Status.values)

    children = Person.objects.children()
    assert children.count() >= 20
    assert not Episode.objects.filter(person__in=children).exists()
    assert set(children.values_list("relationship", flat=True)) == {"child"}

    # Some returned workers went twice.
    twice = [p for p in persons if p.status == Status.PURNA and len(p.episodes.all()) >= 2]
    assert len(twice) >= 10


def test_migrations_are_plausible_and_never_in_the_future(result):
    today = timezone.localdate()
    episodes = list(Episode.objects.select_related("person"))
    countries = Counter(episode.destination_country for episode in episodes)
    assert {"HK", "TW", "MY", "SA", "SG", "JP", "KR"} <= set(countries)
    assert {code for code, _n in countries.most_common(3)} == {"MY", "TW", "HK"}

    for episode in episodes:
        for day in (episode.departure_date, episode.return_date):
            assert day is None or day <= today
        if episode.departure_date:
            assert episode.departure_date >= datetime.date(2015, 1, 1)
            age = (episode.departure_date - episode.person.birth_date).days / 365.25
            assert age >= 18
        if episode.return_date:
            assert episode.departure_date <= episode.return_date
            assert episode.return_reason
        if episode.contract_start and episode.contract_end:
            assert episode.contract_start <= episode.contract_end
        in_a_household = episode.job_title in HOUSEHOLD_JOBS and episode.destination_country != "JP"
        assert (episode.sector, episode.employer_type) == (
            ("informal", "individual") if in_a_household else ("formal", "legal_entity")
        )
        if episode.destination_country == "KR":
            assert episode.placement_scheme == "g2g"
        if episode.placement_scheme == "p2p":
            assert episode.p3mi_name.startswith("PT ")
            assert episode.p3mi_licence
        if episode.procedural_status != "unknown":
            assert episode.procedural_source

    procedural = Counter(episode.procedural_status for episode in episodes)
    assert procedural["procedural"] > 0.6 * len(episodes)
    assert procedural["non_procedural"] > 0
    assert procedural["unknown"] > 0
    schemes = Counter(episode.placement_scheme for episode in episodes)
    assert schemes["p2p"] > len(episodes) / 2
    assert schemes["g2g"] > 0
    assert schemes["mandiri"] > 0
    reasons = Counter(episode.return_reason for episode in episodes if episode.return_date)
    assert reasons.most_common(1)[0][0] == "contract_ended"
    assert {"leave", "deported", "problem"} <= set(reasons)
    # Women mostly go as domestic workers or caregivers.
    women = Counter(episode.job_title for episode in episodes if episode.person.sex == "P")
    assert sum(women[job] for job in HOUSEHOLD_JOBS) > sum(women.values()) / 2


def test_every_record_has_its_history_and_a_verification_state(result, users):
    persons = people()
    live_since = demo_today() - datetime.timedelta(days=LIVE_DAYS)
    history = defaultdict(list)
    for row in PersonHistory.objects.all():
        history[row.person_id].append(row)
    assert set(PersonHistory.objects.values_list("source", flat=True)) == {"demo"}
    for person in persons:
        actions = Counter(row.action for row in history[person.pk])
        assert actions["created"] == 1
        # Migrations before the last year were typed in at once; later steps as they came.
        episodes = person.episodes.all()
        recent = [e for e in episodes if e.departure_date and e.departure_date >= live_since]
        after_the_fact = [e for e in recent if e.procedural_status != "procedural"]
        assert actions["episode_added"] == len(episodes) - len(after_the_fact)
        assert actions["departed"] == len(recent)
        assert actions["returned_home"] == sum(
            1 for e in episodes if e.return_date and e.return_date >= live_since
        )
        if person.verification == Verification.VERIFIED:
            assert actions["submitted"] == actions["verified"] == 1
            assert person.verified_by is not None
    states = Counter(person.verification for person in persons)
    assert states[Verification.VERIFIED] > len(persons) / 2
    assert states[Verification.SUBMITTED] > 0
    assert states[Verification.DRAFT] > 0
    sent_back = [p for p in persons if p.verification == Verification.RETURNED]
    assert len(sent_back) >= 2
    assert all(p.verification_note for p in sent_back)
    # Each village's records were entered by its own demo officer where it has one.
    arjowilangun = Person.objects.filter(village_id="35.07.11.2008")
    assert set(arjowilangun.values_list("created_by__username", flat=True)) == {
        "officer_arjowilangun"
    }
    verified = arjowilangun.filter(verification=Verification.VERIFIED)
    assert set(verified.values_list("verified_by__username", flat=True)) == {"coordinator_malang"}


def test_there_are_likely_duplicates_for_the_coordinators(result):
    """Same name (as compared) and birth date in one regency, one of them without NIK."""
    groups = defaultdict(list)
    for person in Person.objects.alive():
        groups[(person.name_key, person.birth_date, person.village_id[:5])].append(person)
    pairs = [
        key
        for key, members in groups.items()
        if len(members) > 1 and any(member.nik is None for member in members)
    ]
    assert 2 <= sum(regency == "35.07" for _name, _born, regency in pairs) <= 3
    assert sum(regency == "32.12" for _name, _born, regency in pairs) >= 1
    # Typed differently: the name key, not the name, makes them a pair.
    assert any(len({member.full_name for member in groups[key]}) > 1 for key in pairs)


def test_the_coordinators_duplicate_finder_has_work_in_kab_malang(result, users):
    groups = likely_duplicates(actor=users["coordinator_malang"])
    assert groups
    for members in groups:
        assert all(member.village_id.startswith("35.07.") for member in members)
        assert any(member.nik is None for member in members)
    assert likely_duplicates(actor=users["coordinator_indramayu"])


def test_seed_demo_again_adds_nothing_and_says_so(result):
    counts = (Person.objects.count(), Episode.objects.count(), PersonHistory.objects.count())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert (Person.objects.count(), Episode.objects.count(), PersonHistory.objects.count()) == (
        counts
    )
    (line,) = [x for x in out.getvalue().splitlines() if x.startswith("Register: ")]
    assert line.startswith(f"Register: {counts[0]} people in 6 villages (")
    assert "nothing added" in line
    assert sorted(seed_register().skipped) == sorted(DEMO_CODES)


def test_the_same_day_gives_the_same_register():
    day = datetime.date(2026, 3, 1)
    assert build_register(today=day) == build_register(today=day)


def _empty(village: str) -> None:
    PersonHistory.objects.filter(person__village_id=village).delete()
    Episode.objects.filter(person__village_id=village).delete()
    Person.objects.filter(village_id=village).delete()


def test_a_village_with_people_of_its_own_is_left_alone_and_an_empty_one_is_filled(result, users):
    kuripan = Person.objects.filter(village_id=KURIPAN)
    niks = set(kuripan.values_list("nik", flat=True))
    _empty(KURIPAN)
    own = person_register(
        village=Region.objects.get(code=KURIPAN),
        data={"full_name": "Sutini", "sex": "P", "birth_date": datetime.date(1990, 5, 1)},
        actor=users["admin"],
    )
    again = seed_register()
    assert not again.added
    assert list(kuripan.all()) == [own]

    _empty(KURIPAN)
    again = seed_register()
    assert again.added == {KURIPAN: result.added[KURIPAN]}
    assert set(kuripan.values_list("nik", flat=True)) == niks
