"""The demo's pillar work that `seed_demo` writes: every pillar busy in every demo village but
one, which is quiet in two; people from the village's own register; written only once."""

import datetime
from collections import Counter

import pytest
from django.db import transaction
from django.db.models import F, Q
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from migrants.demo import DEMO_REGISTER_VILLAGES, demo_today, seed_register
from migrants.models import Person, child_cutoff
from pillars.demo import (
    KIND,
    QUIET_DAYS,
    WEAK_KINDS,
    WEAK_VILLAGE,
    WRITE_ORDER,
    pillars_summary,
    seed_pillars,
)
from pillars.models import (
    AuditEntry,
    Case,
    CaseStep,
    ChildEnrolment,
    CooperativeMember,
    CooperativePeriod,
    Enterprise,
    MonthlyReport,
    Referral,
    ServiceLog,
    Training,
)
from pillars.services import missing_reports, month_start, pillar_for, pillar_matrix
from tests.conftest import PASSWORD, WORLD_REGIONS
from villages.demo import seed_demo
from villages.models import Designation
from villages.services import regions_load

DEMO_CODES = {village.code for village in DEMO_REGISTER_VILLAGES}
ARJOWILANGUN = "35.07.11.2008"


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The `world` of conftest with its register and its pillar work, written once for this
    module: each test runs in a savepoint inside this transaction, rolled back at the end."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        regions_load(regions=WORLD_REGIONS, edition="test", source="tests")
        users = {user.username: user for user in seed_demo(password=PASSWORD)}
        seed_register()
        yield users, seed_pillars()
        transaction.set_rollback(True)


@pytest.fixture
def users(seeded, db) -> dict[str, User]:
    return seeded[0]


@pytest.fixture
def counts(seeded, db) -> dict[str, int]:
    return seeded[1]


def designations() -> list[Designation]:
    return list(Designation.objects.filter(village_id__in=DEMO_CODES))


def test_every_village_is_active_in_every_pillar_but_the_weak_one_in_two(counts, settings):
    matrix = pillar_matrix(designations())
    assert set(matrix) == DEMO_CODES
    for code, states in matrix.items():
        inactive = [state.pillar.kind for state in states if not state.active]
        assert len(states) == 4
        assert sorted(inactive) == (sorted(WEAK_KINDS) if code == WEAK_VILLAGE else []), code

    # Quiet for longer than any threshold up to QUIET_DAYS, but not empty: it used to work.
    settings.PILLAR_ACTIVE_DAYS = QUIET_DAYS
    weak = pillar_matrix(designations())[WEAK_VILLAGE]
    quiet = [state for state in weak if not state.active]
    assert sorted(state.pillar.kind for state in quiet) == sorted(WEAK_KINDS)
    for state in quiet:
        assert state.last_activity is not None
        assert state.last_activity < demo_today() - datetime.timedelta(days=QUIET_DAYS)


def test_every_register_has_rows_in_every_village(counts):
    for model in WRITE_ORDER:
        villages = set(model._base_manager.values_list("village_id", flat=True))
        assert villages == DEMO_CODES, model
    assert set(CaseStep.objects.values_list("case__village_id", flat=True).distinct()) == set(
        Case._base_manager.values_list("village_id", flat=True).distinct()
    )
    assert counts["servicelog"] >= 6 * 45
    assert counts["outreach"] >= 6 * 5
    assert all(counts[model._meta.model_name] > 0 for model in WRITE_ORDER)
    assert counts["training_participants"] > 0


def test_about_six_months_of_dated_work_up_to_today(counts):
    today = demo_today()
    dates = ServiceLog.objects.values_list("date", flat=True)
    assert max(dates) <= today
    assert min(dates) >= today - datetime.timedelta(days=190)
    assert max(dates) >= today - datetime.timedelta(days=14)
    kinds = Counter(ServiceLog.objects.values_list("service_type", flat=True))
    assert len(kinds) >= 8
    linked = ServiceLog.objects.filter(person__isnull=False).count()
    assert 0.4 < linked / ServiceLog.objects.count() < 0.95
    enterprises = Enterprise.objects.all()
    assert {e.state for e in enterprises} == {Enterprise.State.RUNNING, Enterprise.State.STOPPED}
    assert all(e.owner.status in ("purna", "keluarga") for e in enterprises)
    assert all(e.start_date <= today for e in enterprises)


def test_rows_are_tagged_and_audited_as_the_services_write_them(users):
    expected_actor = {
        village.code: users.get(village.registrar) for village in DEMO_REGISTER_VILLAGES
    }
    # The villages with an officer have their rows entered by the officer.
    expected_actor[ARJOWILANGUN] = users["officer_arjowilangun"]
    expected_actor["32.12.16.2004"] = users["officer_kenanga"]
    for model in WRITE_ORDER:
        rows = list(model._base_manager.all())
        for row in rows:
            assert row.pillar == pillar_for(row.village_id, KIND[model])
            assert row.created_by == expected_actor[row.village_id]
            assert row.created_at <= timezone.now()
        audited = AuditEntry.objects.filter(
            model=model._meta.model_name, action=AuditEntry.Action.CREATED
        )
        assert sorted(audited.values_list("object_id", "village_id", "actor_id")) == sorted(
            (str(row.pk), row.village_id, row.created_by_id) for row in rows
        )
    # What record_create stores: every filled field, from nothing to its value.
    service = ServiceLog.objects.filter(person__isnull=False).first()
    entry = AuditEntry.objects.get(model="servicelog", object_id=str(service.pk))
    assert entry.changes["person_id"] == ["", str(service.person_id)]
    assert entry.changes["date"] == ["", service.date.isoformat()]


def test_every_row_passes_the_models_own_checks(counts):
    for model in [*WRITE_ORDER, CaseStep, MonthlyReport]:
        for row in model._base_manager.all():
            row.full_clean()


def test_people_come_from_the_village_of_the_record(counts):
    person_fields = {
        ServiceLog: "person",
        Enterprise: "owner",
        ChildEnrolment: "child",
        CooperativeMember: "person",
        Referral: "person",
        Case: "person",
    }
    for model, field in person_fields.items():
        rows = model._base_manager.filter(**{f"{field}__isnull": False})
        assert rows.exists(), model
        assert not rows.exclude(**{f"{field}__village_id": F("village_id")}).exists(), model
    assert not Referral.objects.exclude(
        Q(enterprise__isnull=True) | Q(enterprise__village_id=F("village_id"))
    ).exists()
    through = Training.participants.through
    assert through.objects.exists()
    assert not through.objects.exclude(person__village_id=F("training__village_id")).exists()


def test_children_appear_only_as_enrolled_children(counts):
    cutoff = child_cutoff(demo_today())
    children = set(Person.objects.filter(birth_date__gt=cutoff).values_list("pk", flat=True))
    enrolled = set(ChildEnrolment._base_manager.values_list("child_id", flat=True))
    assert enrolled
    assert enrolled <= children
    adults_only = [
        ServiceLog._base_manager.values_list("person_id", flat=True),
        Enterprise._base_manager.values_list("owner_id", flat=True),
        CooperativeMember._base_manager.values_list("person_id", flat=True),
        Referral._base_manager.values_list("person_id", flat=True),
        Case._base_manager.values_list("person_id", flat=True),
        Training.participants.through.objects.values_list("person_id", flat=True),
    ]
    for rows in adults_only:
        assert not set(rows) & children


def test_referrals_reach_every_stage_with_their_amounts(counts):
    referrals = list(Referral.objects.select_related("programme"))
    assert {r.stage for r in referrals} == set(Referral.Stage.values)
    assert {r.programme.code for r in referrals} >= {"pnm-mekaar", "kartu-prakerja", "kur-bri"}
    for referral in referrals:
        assert referral.amount_requested > 0
        if referral.stage == Referral.Stage.DISBURSED:
            assert referral.disbursed_on >= referral.accepted_on >= referral.referred_on
            assert 0 < referral.amount_disbursed <= referral.amount_requested
        if referral.stage == Referral.Stage.REJECTED:
            assert referral.rejected_on
            assert referral.notes
    assert Referral.objects.filter(enterprise__isnull=False, person__isnull=True).exists()


def test_cases_vary_and_carry_their_handling_steps(counts):
    cases = list(Case._base_manager.prefetch_related("steps"))
    assert len({case.case_type for case in cases}) >= 5
    assert len({case.resolution for case in cases}) >= 3
    for case in cases:
        steps = list(case.steps.all())
        assert steps
        assert steps[0].date == case.reported_on
        assert [s.date for s in steps] == sorted(s.date for s in steps)
        closed = case.resolution in (Case.Resolution.RESOLVED, Case.Resolution.UNRESOLVED)
        assert (case.closed_on == steps[-1].date) if closed else case.closed_on is None


def test_monthly_reports_show_every_state_and_who_has_not_reported(users):
    last_month = month_start(month_start(demo_today()) - datetime.timedelta(days=1))
    states = Counter(MonthlyReport.objects.values_list("state", flat=True))
    assert states[MonthlyReport.State.VERIFIED] >= 15
    assert states[MonthlyReport.State.RETURNED] == 1
    returned = MonthlyReport.objects.get(state=MonthlyReport.State.RETURNED)
    assert returned.village_id == ARJOWILANGUN
    assert returned.review_comment
    assert returned.verified_by is None

    submitted = MonthlyReport.objects.filter(month=last_month).exclude(
        state=MonthlyReport.State.DRAFT
    )
    assert set(submitted.values_list("village_id", flat=True)) == {
        ARJOWILANGUN,
        "35.07.11.2003",
        "32.12.16.2004",
    }
    missing = {d.village_id for d in missing_reports(users["coordinator_malang"], last_month)}
    assert missing == {"35.07.33.2004", WEAK_VILLAGE}

    for report in MonthlyReport.objects.exclude(state=MonthlyReport.State.DRAFT):
        assert report.figures["services"]["total"] > 0
        assert report.submitted_by
        assert report.submitted_at <= timezone.now()
        assert report.narrative
        actions = set(
            AuditEntry.objects.filter(model="monthlyreport", object_id=str(report.pk)).values_list(
                "action", flat=True
            )
        )
        assert {AuditEntry.Action.CREATED, AuditEntry.Action.SUBMITTED} <= actions
    verified = MonthlyReport.objects.filter(state=MonthlyReport.State.VERIFIED)
    assert all(r.verified_by and r.verified_at >= r.submitted_at for r in verified)
    assert (
        verified.filter(village_id=ARJOWILANGUN).first().verified_by
        == (users["coordinator_malang"])
    )


def test_a_second_run_adds_nothing(counts):
    before = {model: model._base_manager.count() for model in [*WRITE_ORDER, MonthlyReport]}
    audits = AuditEntry.objects.count()
    assert seed_pillars() == {}
    assert {model: model._base_manager.count() for model in before} == before
    assert AuditEntry.objects.count() == audits
    assert "already seeded, nothing added" in pillars_summary({})


def test_a_village_with_rows_of_its_own_is_left_alone(counts):
    """A village someone already worked in is not mixed with demo rows (idempotent by
    village, like the register)."""
    kenanga = "32.12.16.2004"
    _delete_demo_rows(kenanga)
    ServiceLog.objects.create(
        village_id=kenanga,
        pillar=pillar_for(kenanga, "service_centre"),
        date=demo_today(),
        service_type="information",
        officer=User.objects.get(username="officer_kenanga"),
    )
    assert seed_pillars() == {}
    assert ServiceLog.objects.filter(village_id=kenanga).count() == 1


def test_the_same_day_gives_the_same_rows(counts, django_assert_max_num_queries):
    def fingerprint():
        rows = [
            (ServiceLog, ("village_id", "date", "service_type", "person_id", "notes")),
            (Enterprise, ("village_id", "name", "owner_id", "state", "start_date")),
            (Referral, ("village_id", "programme__code", "stage", "person_id", "referred_on")),
            (CooperativePeriod, ("village_id", "period", "capital")),
            (ChildEnrolment, ("village_id", "child_id", "enrolled_on")),
            (MonthlyReport, ("village_id", "month", "state", "narrative")),
        ]
        return [
            list(model.objects.order_by(*fields).values_list(*fields)) for model, fields in rows
        ]

    first = fingerprint()
    for code in DEMO_CODES:
        _delete_demo_rows(code)
    assert fingerprint() == [[]] * 6
    # Bulk writes: the queries depend on the villages and months, not on the rows.
    with django_assert_max_num_queries(len(DEMO_CODES) * 150):
        again = seed_pillars()
    assert again == counts
    assert fingerprint() == first


def test_the_summary_says_what_is_there_and_names_the_weak_village(counts):
    line = pillars_summary(counts)
    assert line.startswith("Pillars: ")
    assert f"{ServiceLog.objects.count()} services" in line
    assert f"{sum(counts.values())} rows added now" in line
    assert "Brongkal is weak on purpose in pillars 3 and 4" in line
    assert "\n" not in line


def _delete_demo_rows(code: str) -> None:
    CaseStep.objects.filter(case__village_id=code).delete()
    Training.participants.through.objects.filter(training__village_id=code).delete()
    for model in reversed(WRITE_ORDER):
        model._base_manager.filter(village_id=code).delete()
    MonthlyReport.objects.filter(village_id=code).delete()
    AuditEntry.objects.filter(village_id=code).delete()
