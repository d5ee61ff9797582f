"""What the personal-data law asks (issue 7, item 6): the subject-access report, correction
requests, the retention rule, and docs/privacy.md matching the code."""

import datetime
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from migrants import privacy, services
from migrants.models import (
    CorrectionRequest,
    Episode,
    ExportLog,
    ImportBatch,
    Person,
    PersonHistory,
    SensitiveAccess,
)
from pillars import services as pillar_services
from pillars.models import AuditEntry, Case, CaseStep, PillarKind
from tests.migrants.factories import ARJOWILANGUN, KENANGA, a_kk, a_nik, depart, fresh, register

LOGIN = reverse("account_login")
SUBJECT = reverse("privacy:subject-access")
CORRECTIONS = reverse("privacy:corrections")
HOME = reverse("privacy:home")
DOCS = Path(django_settings.BASE_DIR) / "docs" / "privacy.md"


@pytest.fixture(autouse=True)
def _mfa_is_tested_elsewhere(settings):
    # MFA enforcement has its own tests (test_auth.py); these personas sign in without it.
    settings.MFA_REQUIRED = False


@pytest.fixture
def sri(world) -> Person:
    """A PMI of Arjowilangun: registered, changed, departed, her NIK once shown, exported,
    with a case."""
    officer = world["officer_arjowilangun"]
    person = register(actor=officer, full_name="Sri Wahyuni", no_kk=a_kk(), phone="0812")
    services.person_update(person=person, data={"address": "Jl. Mawar 3"}, actor=officer)
    depart(person, actor=officer, passport_number="C1234567")
    services.nik_reveal(person=person, actor=officer, reason="BP2MI verification")
    ExportLog.objects.create(actor=officer, scope_id=ARJOWILANGUN, format="csv", rows=1)
    case = Case(
        village_id=ARJOWILANGUN,
        person=person,
        case_type=Case.Type.UNPAID_WAGES,
        channel=Case.Channel.PHONE,
        reported_on=datetime.date(2025, 2, 3),
        summary="Majikan bernama Tuan X tidak membayar gaji",
    )
    pillar_services.record_create(actor=officer, instance=case, kind=PillarKind.SERVICE_CENTRE)
    return fresh(person)


def ask(client, person, **extra):
    return client.post(
        SUBJECT, {"nik": person.nik, "reason": "Written request of 3 March", **extra}
    )


# --- The subject-access report ----------------------------------------------------------------


def test_anonymous_is_sent_to_login(anonymous):
    for page in (HOME, SUBJECT, CORRECTIONS):
        response = anonymous.get(page)
        assert response.status_code == 302
        assert response.url.startswith(LOGIN)


@pytest.mark.parametrize(
    "persona", ["officer_arjowilangun", "head_arjowilangun", "province_jatim", "evaluator"]
)
def test_only_coordinators_and_the_ministry_make_the_report(request, persona, sri):
    client = request.getfixturevalue(persona)
    assert client.get(SUBJECT).status_code == 403
    assert ask(client, sri).status_code == 403
    assert not SensitiveAccess.objects.filter(kind="subject_access").exists()


def test_a_nik_of_another_regency_is_not_found_and_nothing_is_logged(coordinator_indramayu, sri):
    response = ask(coordinator_indramayu, sri)
    assert response.status_code == 200
    assert response.context["report"] is None
    assert "nik" in response.context["form"].errors
    assert not SensitiveAccess.objects.filter(kind="subject_access").exists()


def test_the_same_answer_for_a_nik_nobody_holds(coordinator_indramayu, sri):
    elsewhere = ask(coordinator_indramayu, sri).context["form"].errors["nik"]
    unknown = coordinator_indramayu.post(SUBJECT, {"nik": a_nik(village=KENANGA), "reason": "x"})
    assert unknown.context["form"].errors["nik"] == elsewhere


def test_the_reason_is_required(coordinator_malang, sri):
    response = coordinator_malang.post(SUBJECT, {"nik": sri.nik, "reason": " "})
    assert "reason" in response.context["form"].errors
    assert response.context["report"] is None


@pytest.mark.parametrize("persona", ["coordinator_malang", "ministry_admin"])
def test_the_report_holds_the_data_its_history_reads_exports_and_records(
    request, world, persona, sri
):
    response = ask(request.getfixturevalue(persona), sri)
    assert response.status_code == 200
    # The sections in their order (their titles are in the page's language).
    sections = response.context["report"].sections
    profile = dict(sections[0].rows)
    assert sri.nik in profile.values()
    assert sri.no_kk in profile.values()
    assert "Jl. Mawar 3" in profile.values()
    episodes, history, reads, exports, records, corrections = (s.rows for s in sections[1:])
    assert len(episodes) == 1
    assert "C1234567" in episodes[0]
    assert len(history) == sri.history.count() >= 3
    assert any("Jl. Mawar 3" in " ".join(row) for row in history)
    assert [row[-1] for row in reads][:1] == ["BP2MI verification"]
    assert len(exports) == 1
    assert len(records) == 1
    assert "#" in records[0][1]
    assert corrections == []
    # Logged, with its reason, as one more read.
    made = SensitiveAccess.objects.get(kind="subject_access")
    assert (made.person, made.reason) == (sri, "Written request of 3 March")
    assert made.actor == world[{"ministry_admin": "admin"}.get(persona, persona)]


def test_the_report_names_no_officer_and_no_case_narrative(coordinator_malang, world, sri):
    response = ask(coordinator_malang, sri)
    text = " ".join(
        " ".join(row) for section in response.context["report"].sections for row in section.rows
    )
    officer = world["officer_arjowilangun"]
    assert officer.get_full_name() not in text
    assert officer.username not in text
    assert "Tuan X" not in text


def test_the_report_downloads_as_a_workbook_in_the_same_request(coordinator_malang, sri):
    response = ask(coordinator_malang, sri, format="xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="data-subjek-')
    assert sri.nik not in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) == 8  # a cover and seven sections
    cells = [cell for row in workbook.worksheets[1].iter_rows(values_only=True) for cell in row]
    assert sri.nik in cells
    assert SensitiveAccess.objects.filter(kind="subject_access").count() == 1


def test_the_report_of_a_deleted_record_is_made_too(coordinator_malang, world, sri):
    services.person_delete(person=sri, actor=world["officer_arjowilangun"], reason="moved")
    assert ask(coordinator_malang, sri).context["report"] is not None


def test_the_nik_is_never_in_the_address(coordinator_malang, sri):
    response = ask(coordinator_malang, sri)
    assert sri.nik not in response.request["PATH_INFO"] + response.request.get("QUERY_STRING", "")
    assert coordinator_malang.get(SUBJECT, {"nik": sri.nik}).context["report"] is None


# --- Correction requests ----------------------------------------------------------------------


def create_url(person) -> str:
    return reverse("privacy:correction-create", args=[person.pk])


def detail_url(request) -> str:
    return reverse("privacy:correction-detail", args=[request.pk])


def close_url(request) -> str:
    return reverse("privacy:correction-close", args=[request.pk])


def a_request(client, person) -> CorrectionRequest:
    response = client.post(
        create_url(person),
        {
            "received_on": timezone.localdate().isoformat(),
            "wrong": "The address is the old one",
            "requested_change": "Jl. Melati 5",
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    return CorrectionRequest.objects.get()


def test_the_person_page_offers_to_record_a_request(officer_arjowilangun, sri):
    page = officer_arjowilangun.get(reverse("migrants:detail", args=[sri.pk]))
    assert create_url(sri) in page.content.decode()


def test_the_officer_records_a_request_then_corrects_the_record_then_closes_it(
    officer_arjowilangun, world, sri
):
    request = a_request(officer_arjowilangun, sri)
    assert (request.state, request.recorded_by) == ("requested", world["officer_arjowilangun"])
    page = officer_arjowilangun.get(detail_url(request))
    assert page.context["is_open"] is True
    assert page.context["due"] == request.recorded_at + datetime.timedelta(hours=72)

    # Closing as done before the record changed is refused.
    officer_arjowilangun.post(close_url(request), {"state": "done"})
    assert fresh_request(request).state == "requested"

    services.person_update(
        person=fresh(sri), data={"address": "Jl. Melati 5"}, actor=world["officer_arjowilangun"]
    )
    page = officer_arjowilangun.get(detail_url(request))
    assert [entry.changes.get("address") for entry in page.context["changes"]] == [
        ["Jl. Mawar 3", "Jl. Melati 5"]
    ]
    officer_arjowilangun.post(close_url(request), {"state": "done", "outcome": "Corrected"})
    closed = fresh_request(request)
    assert (closed.state, closed.decided_by, closed.outcome) == (
        "done",
        world["officer_arjowilangun"],
        "Corrected",
    )


def fresh_request(request) -> CorrectionRequest:
    return CorrectionRequest.objects.get(pk=request.pk)


def test_a_refusal_needs_its_reason(coordinator_malang, sri):
    request = a_request(coordinator_malang, sri)
    coordinator_malang.post(close_url(request), {"state": "refused", "outcome": " "})
    assert fresh_request(request).state == "requested"
    coordinator_malang.post(close_url(request), {"state": "refused", "outcome": "Matches the KK"})
    refused = fresh_request(request)
    assert (refused.state, refused.outcome) == ("refused", "Matches the KK")


def test_a_closed_request_stays_closed(officer_arjowilangun, world, sri):
    request = a_request(officer_arjowilangun, sri)
    privacy.correction_close(
        request=request, actor=world["officer_arjowilangun"], state="refused", outcome="No"
    )
    with pytest.raises(ValidationError):
        privacy.correction_close(
            request=fresh_request(request),
            actor=world["officer_arjowilangun"],
            state="refused",
            outcome="Again",
        )
    assert fresh_request(request).outcome == "No"


def test_the_village_head_may_not_handle_requests(head_arjowilangun, officer_arjowilangun, sri):
    request = a_request(officer_arjowilangun, sri)
    for page in (CORRECTIONS, create_url(sri), detail_url(request)):
        assert head_arjowilangun.get(page).status_code == 403
    assert (
        head_arjowilangun.post(close_url(request), {"state": "refused", "outcome": "x"}).status_code
        == 403
    )
    assert fresh_request(request).state == "requested"


def test_another_village_does_not_see_the_request(officer_brongkal, officer_arjowilangun, sri):
    request = a_request(officer_arjowilangun, sri)
    assert officer_brongkal.get(create_url(sri)).status_code == 404
    assert officer_brongkal.get(detail_url(request)).status_code == 404
    assert (
        officer_brongkal.post(close_url(request), {"state": "refused", "outcome": "x"}).status_code
        == 404
    )
    assert list(officer_brongkal.get(CORRECTIONS).context["page"].object_list) == []
    assert fresh_request(request).state == "requested"


def test_the_list_shows_open_requests_with_their_due_time(
    coordinator_malang, officer_arjowilangun, sri
):
    request = a_request(officer_arjowilangun, sri)
    CorrectionRequest.objects.filter(pk=request.pk).update(
        recorded_at=timezone.now() - datetime.timedelta(days=4)
    )
    rows = coordinator_malang.get(CORRECTIONS).context["page"].object_list
    assert [(item.pk, overdue) for item, _due, overdue in rows] == [(request.pk, True)]
    assert (
        list(coordinator_malang.get(CORRECTIONS, {"state": "done"}).context["page"].object_list)
        == []
    )


def test_the_list_costs_the_same_queries_for_one_or_many(
    coordinator_malang, world, sri, django_assert_max_num_queries
):
    officer = world["officer_arjowilangun"]
    privacy.correction_record(person=sri, actor=officer, wrong="a", requested_change="b")
    coordinator_malang.get(CORRECTIONS)
    with django_assert_max_num_queries(10) as one:
        coordinator_malang.get(CORRECTIONS)
    for n in range(20):
        person = register(actor=officer, full_name=f"Warga {n}")
        privacy.correction_record(person=person, actor=officer, wrong="a", requested_change="b")
    with django_assert_max_num_queries(len(one.captured_queries)):
        coordinator_malang.get(CORRECTIONS)


# --- Retention ----------------------------------------------------------------------------------


def years_later(years: int) -> datetime.datetime:
    """A moment a month past `years` years from now."""
    return timezone.now() + datetime.timedelta(days=365 * years + 30)


@pytest.fixture
def gone(world, sri) -> Person:
    """Sri's record, with a correction request, deleted today."""
    officer = world["officer_arjowilangun"]
    privacy.correction_record(
        person=sri, actor=officer, wrong="Name misspelt", requested_change="Sri Wahyuni"
    )
    services.person_delete(person=sri, actor=officer, reason="Moved to Surabaya with Pak Budi")
    return fresh(sri)


def test_a_record_deleted_longer_ago_than_the_retention_is_emptied_to_a_tombstone(gone, world):
    nik = gone.nik
    counts = privacy.apply_retention(now=years_later(django_settings.RETENTION_YEARS))
    assert counts["people"] == 1
    tombstone = fresh(gone)
    assert tombstone.anonymised_at is not None
    assert (tombstone.nik, tombstone.no_kk, tombstone.phone, tombstone.address) == (
        None,
        "",
        "",
        "",
    )
    assert tombstone.full_name == privacy.ANONYMISED_NAME
    assert tombstone.birth_date == privacy.ANONYMISED_BIRTH_DATE
    # The row stays, for what points to it: its village, its history's actions and dates.
    assert tombstone.village_id == ARJOWILANGUN
    assert not Episode.objects.filter(person=tombstone).exists()
    history = PersonHistory.objects.filter(person=tombstone)
    assert history.count() >= 4
    assert all(entry.changes == {} and entry.note == "" for entry in history)
    assert set(history.values_list("action", flat=True)) >= {"created", "updated", "deleted"}
    correction = CorrectionRequest.objects.get(person=tombstone)
    assert (correction.wrong, correction.requested_change) == ("", "")
    # Nothing of the person is left in the rows about them.
    dumped = repr(list(Person.objects.filter(pk=tombstone.pk).values())) + repr(
        list(history.values())
    )
    for secret in (nik, "Sri Wahyuni", "Jl. Mawar 3", "Pak Budi", "C1234567"):
        assert secret not in dumped
    # The reads stay in the access log (they point to the tombstone).
    assert SensitiveAccess.objects.filter(person=tombstone).count() == 1


def test_retention_leaves_living_and_recently_deleted_records(gone, world):
    officer = world["officer_arjowilangun"]
    living = register(actor=officer, full_name="Masih Ada")
    assert (
        privacy.apply_retention(now=years_later(django_settings.RETENTION_YEARS - 1))["people"] == 0
    )
    assert fresh(gone).full_name == "Sri Wahyuni"
    privacy.apply_retention(now=years_later(django_settings.RETENTION_YEARS))
    assert fresh(living).full_name == "Masih Ada"


def test_activity_after_the_deletion_restarts_the_clock(gone, world):
    later = timezone.now() + datetime.timedelta(days=365 * 3)
    PersonHistory.objects.create(person=gone, village_id=ARJOWILANGUN, action="restored", at=later)
    assert privacy.apply_retention(now=years_later(django_settings.RETENTION_YEARS))["people"] == 0


def test_the_retention_period_is_a_setting(gone, settings):
    settings.RETENTION_YEARS = 1
    assert privacy.apply_retention(now=years_later(1))["people"] == 1


def test_running_it_again_changes_nothing(gone):
    now = years_later(django_settings.RETENTION_YEARS)
    privacy.apply_retention(now=now)
    assert privacy.apply_retention(now=now) == {"people": 0, "cases": 0, "import_files": 0}


def test_a_tombstone_cannot_be_restored_nor_listed_as_deleted(gone, world, coordinator_malang):
    privacy.apply_retention(now=years_later(django_settings.RETENTION_YEARS))
    with pytest.raises(ValidationError):
        services.person_restore(person=fresh(gone), actor=world["coordinator_malang"])
    listed = coordinator_malang.get(reverse("migrants:deleted")).context["page"].object_list
    assert gone.pk not in [person.pk for person in listed]


def test_an_old_deleted_case_loses_its_narrative_and_steps(world, sri):
    from pillars.views.service import add_case_step

    officer = world["officer_arjowilangun"]
    case = Case.objects.get(person=sri)
    add_case_step(
        actor=officer, case=case, date=datetime.date(2025, 2, 4), action="Called Tuan X", notes="x"
    )
    pillar_services.record_delete(actor=officer, instance=case, reason="Duplicate of #2")
    counts = privacy.apply_retention(now=years_later(django_settings.RETENTION_YEARS))
    assert counts["cases"] == 1
    case.refresh_from_db()
    assert case.summary == ""
    assert CaseStep.objects.get(case=case).notes == ""
    audited = AuditEntry.objects.filter(model__in=["case", "casestep"])
    assert "Tuan X" not in repr(list(audited.values("changes", "note")))


def test_old_import_files_are_removed(world, settings, tmp_path):
    from migrants.importer import import_upload
    from tests.migrants.files import row, xlsx_bytes

    settings.MEDIA_ROOT = tmp_path
    batch = import_upload(
        actor=world["officer_arjowilangun"], data=xlsx_bytes([row()]), filename="a.xlsx"
    )
    path = Path(ImportBatch.objects.get(pk=batch.pk).file.path)
    assert path.exists()
    counts = privacy.apply_retention(now=years_later(django_settings.RETENTION_YEARS))
    assert counts["import_files"] == 1
    assert not path.exists()
    assert ImportBatch.objects.get(pk=batch.pk).file.name == ""


def test_the_scheduled_task_is_registered_and_runs(gone):
    from desmigratif.celery import app

    assert "migrants.privacy.anonymise_expired_records" in app.tasks
    assert "migrants.privacy" in django_settings.CELERY_IMPORTS
    privacy.anonymise_expired_records.delay()  # nothing has expired today
    assert fresh(gone).anonymised_at is None


# --- The privacy document ---------------------------------------------------------------------


def test_the_privacy_document_covers_the_record_and_the_impact_assessment():
    text = DOCS.read_text()
    for heading in ("Ps. 31", "Ps. 34"):
        assert heading in text
    for subject in (
        "Controller",
        "Purposes",
        "Data subjects",
        "Recipients",
        "Transfers",
        "Retention",
        "Security measures",
        "Risks",
    ):
        assert subject.lower() in text.lower(), subject


def test_the_privacy_document_matches_the_code():
    text = DOCS.read_text()
    # Every file it points to exists.
    for path in set(re.findall(r"`([\w/]+\.(?:py|html|md))`", text)):
        assert (Path(django_settings.BASE_DIR) / path).exists(), path
    # The settings, task and kinds of reads it names are the code's.
    assert "`RETENTION_YEARS` (default 10)" in text
    assert "migrants.privacy.anonymise_expired_records" in text
    for kind in SensitiveAccess.Kind.values:
        assert f"`{kind}`" in text, kind
