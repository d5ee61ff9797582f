"""The access log (issue 7, item 5): every sensitive read is logged with who, when, what and
why; the ministry administrator searches it (a NIK only by POST); nothing in the application
edits it; and no full NIK is ever written to the application's logs."""

import datetime
import logging
import re
import sys

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from desmigratif.redact import RedactNik
from migrants import services
from migrants.access import LogFilter, access_log
from migrants.models import ExportLog, Person, SensitiveAccess
from pillars import services as pillar_services
from pillars.models import Case, ChildEnrolment, ParentingGroup, PillarKind
from reports.models import ReportDownload, ReportFormat, ReportJob, ReportKind
from tests.migrants.factories import (
    ARJOWILANGUN,
    a_nik,
    child_birth_date,
    depart,
    person_form,
    register,
)
from tests.migrants.files import row, xlsx_bytes

LOG = reverse("privacy:access-log")
LOGIN = reverse("account_login")
REGISTER = reverse("migrants:register")


@pytest.fixture(autouse=True)
def _mfa_is_tested_elsewhere(settings):
    # MFA enforcement has its own tests (test_auth.py); these personas sign in without it.
    settings.MFA_REQUIRED = False


def confirmed(client, user):
    """As if the user had just given the password again (allauth's re-authentication)."""
    from allauth.account.internal.flows.login import record_authentication

    request = RequestFactory().get("/")
    request.user = user
    request.session = client.session
    record_authentication(request, user, method="password", reauthenticated=True)
    request.session.save()
    return client


@pytest.fixture
def sri(world) -> Person:
    officer = world["officer_arjowilangun"]
    person = register(actor=officer, full_name="Sri Wahyuni")
    depart(person, actor=officer)
    return person


@pytest.fixture
def putri(world) -> Person:
    """A ten-year-old girl of Arjowilangun."""
    born = child_birth_date()
    return register(
        actor=world["officer_arjowilangun"],
        full_name="Putri Kecil",
        birth_date=born,
        nik=a_nik(birth_date=born),
    )


@pytest.fixture
def case(world, sri) -> Case:
    record = Case(
        village_id=ARJOWILANGUN,
        person=sri,
        case_type=Case.Type.TRAFFICKING,
        channel=Case.Channel.WALK_IN,
        reported_on=datetime.date(2025, 2, 3),
        summary="Dijanjikan kerja, ternyata dijual",
    )
    pillar_services.record_create(
        actor=world["officer_arjowilangun"], instance=record, kind=PillarKind.SERVICE_CENTRE
    )
    return record


@pytest.fixture
def enrolment(world, putri) -> ChildEnrolment:
    officer = world["officer_arjowilangun"]
    group = ParentingGroup(village_id=ARJOWILANGUN, name="Rumah Belajar", facilitators="Bu Sri")
    pillar_services.record_create(actor=officer, instance=group, kind=PillarKind.PARENTING)
    record = ChildEnrolment(
        village_id=ARJOWILANGUN, group=group, child=putri, enrolled_on=datetime.date(2025, 1, 6)
    )
    pillar_services.record_create(actor=officer, instance=record, kind=PillarKind.PARENTING)
    return record


def a_download(user, *, kind=ReportKind.REGISTER, scope="35.07") -> ReportDownload:
    job = ReportJob.objects.create(
        kind=kind,
        format=ReportFormat.XLSX,
        scope_id=scope,
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2025, 1, 31),
        idempotency_key=f"{kind}-{scope}-{ReportJob.objects.count()}",
        state=ReportJob.State.DONE,
        requested_by=user,
    )
    return ReportDownload.objects.create(job=job, user=user)


# --- Reads are logged where they happen ---------------------------------------------------------


def test_opening_a_childs_page_is_logged_and_an_adults_is_not(
    officer_arjowilangun, world, sri, putri
):
    assert officer_arjowilangun.get(reverse("migrants:detail", args=[sri.pk])).status_code == 200
    assert not SensitiveAccess.objects.exists()
    assert officer_arjowilangun.get(reverse("migrants:detail", args=[putri.pk])).status_code == 200
    read = SensitiveAccess.objects.get()
    assert (read.actor, read.person, read.kind, read.record) == (
        world["officer_arjowilangun"],
        putri,
        SensitiveAccess.Kind.CHILD_RECORD,
        "",
    )


def test_opening_a_case_is_logged_with_the_case_and_its_person(coordinator_malang, world, case):
    response = coordinator_malang.get(reverse("pillars:case-detail", args=[case.pk]))
    assert response.status_code == 200
    read = SensitiveAccess.objects.get()
    assert (read.actor, read.person, read.kind, read.record) == (
        world["coordinator_malang"],
        case.person,
        SensitiveAccess.Kind.CASE,
        f"pillars.case:{case.pk}",
    )


def test_a_case_without_a_person_is_logged_too(officer_arjowilangun, world, case):
    Case.objects.filter(pk=case.pk).update(person=None)
    officer_arjowilangun.get(reverse("pillars:case-detail", args=[case.pk]))
    read = SensitiveAccess.objects.get()
    assert (read.person, read.record) == (None, f"pillars.case:{case.pk}")


def test_opening_a_childs_enrolment_is_logged(officer_arjowilangun, enrolment, putri):
    response = officer_arjowilangun.get(reverse("pillars:child-detail", args=[enrolment.pk]))
    assert response.status_code == 200
    read = SensitiveAccess.objects.get()
    assert (read.person, read.kind, read.record) == (
        putri,
        SensitiveAccess.Kind.CHILD_RECORD,
        f"pillars.childenrolment:{enrolment.pk}",
    )


def test_a_refused_read_is_not_logged(officer_brongkal, head_arjowilangun, case, putri):
    assert officer_brongkal.get(reverse("migrants:detail", args=[putri.pk])).status_code == 404
    assert head_arjowilangun.get(reverse("pillars:case-detail", args=[case.pk])).status_code == 403
    assert not SensitiveAccess.objects.exists()


def test_opening_a_child_in_the_admin_is_logged(coordinator_malang, world, putri, enrolment):
    page = reverse("admin:migrants_person_change", args=[putri.pk])
    assert coordinator_malang.get(page).status_code == 200
    page = reverse("admin:pillars_childenrolment_change", args=[enrolment.pk])
    assert coordinator_malang.get(page).status_code == 200
    assert list(SensitiveAccess.objects.order_by("at").values_list("kind", "person", "record")) == [
        (SensitiveAccess.Kind.CHILD_RECORD, putri.pk, ""),
        (SensitiveAccess.Kind.CHILD_RECORD, putri.pk, f"pillars.childenrolment:{enrolment.pk}"),
    ]


# --- The log page ---------------------------------------------------------------------------


@pytest.fixture
def history(world, sri, putri, case):
    """One of each, a minute apart, oldest first: a reveal with its reason, a child read, a
    case read, an export, a report download."""
    officer, coordinator = world["officer_arjowilangun"], world["coordinator_malang"]
    start = timezone.now()  # after the people were registered

    def minute(n: int) -> datetime.datetime:
        return start + datetime.timedelta(minutes=n)

    SensitiveAccess.objects.create(
        at=minute(0),
        actor=officer,
        person=sri,
        kind=SensitiveAccess.Kind.NIK_REVEAL,
        reason="BP2MI verification",
    )
    SensitiveAccess.objects.create(
        at=minute(1), actor=officer, person=putri, kind=SensitiveAccess.Kind.CHILD_RECORD
    )
    SensitiveAccess.objects.create(
        at=minute(2),
        actor=coordinator,
        person=sri,
        kind=SensitiveAccess.Kind.CASE,
        record=f"pillars.case:{case.pk}",
    )
    ExportLog.objects.create(
        at=minute(3),
        actor=coordinator,
        scope_id="35.07",
        format="csv",
        rows=2,
        filters={"status": "pmi"},
    )
    download = a_download(coordinator)
    ReportDownload.objects.filter(pk=download.pk).update(at=minute(4))
    return [minute(n) for n in range(5)]


def whats(response) -> list[str]:
    return [row.what for row in response.context["rows"]]


def test_anonymous_is_sent_to_login(anonymous):
    response = anonymous.get(LOG)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.parametrize(
    "persona", ["officer_arjowilangun", "coordinator_malang", "province_jatim", "evaluator"]
)
def test_only_the_ministrys_administrators_read_the_log(request, persona, history):
    client = request.getfixturevalue(persona)
    assert client.get(LOG).status_code == 403
    assert client.post(LOG, {"what": ""}).status_code == 403


def test_the_log_merges_reads_exports_and_downloads_newest_first(ministry_admin, history):
    response = ministry_admin.get(LOG)
    assert response.status_code == 200
    assert whats(response) == [
        "report_download",
        "export",
        "case",
        "child_record",
        "nik_reveal",
    ]
    page = response.content.decode()
    assert "BP2MI verification" in page
    assert "Rina" in page  # the coordinator, by name
    assert "status=pmi" in page


def test_the_log_is_filtered_by_user_what_and_dates(ministry_admin, history):
    by_user = ministry_admin.post(LOG, {"user": "rina"})  # the coordinator's first name
    assert whats(by_user) == ["report_download", "export", "case"]
    by_what = ministry_admin.post(LOG, {"what": "child_record"})
    assert whats(by_what) == ["child_record"]
    first, last = (timezone.localdate(at) for at in (history[0], history[-1]))
    after = ministry_admin.post(LOG, {"since": (last + datetime.timedelta(days=1)).isoformat()})
    assert whats(after) == []
    before = ministry_admin.post(LOG, {"until": (first - datetime.timedelta(days=1)).isoformat()})
    assert whats(before) == []
    within = ministry_admin.post(LOG, {"since": first.isoformat(), "until": last.isoformat()})
    assert len(whats(within)) == 5


def test_searching_by_nik_is_posted_and_finds_the_reads_and_the_exports_that_may_hold_them(
    ministry_admin, world, history, sri, putri
):
    response = ministry_admin.post(LOG, {"nik": sri.nik})
    assert response.status_code == 200
    assert whats(response) == ["report_download", "export", "case", "nik_reveal"]
    assert all(row.may_include for row in response.context["rows"][:2])
    assert sri.nik not in response.request["PATH_INFO"] + response.request.get("QUERY_STRING", "")
    # Register reports leave children out; an export of the register may hold them.
    assert whats(ministry_admin.post(LOG, {"nik": putri.nik})) == ["export", "child_record"]


def test_a_nik_in_the_address_is_not_a_search(ministry_admin, history, sri):
    response = ministry_admin.get(LOG, {"nik": sri.nik, "what": "export"})
    assert len(whats(response)) == 5


def test_a_nik_nobody_holds_finds_nothing(ministry_admin, history):
    response = ministry_admin.post(LOG, {"nik": a_nik()})
    assert whats(response) == []
    assert response.context["searched_people"] == []


def test_a_partial_nik_is_refused(ministry_admin, history, sri):
    response = ministry_admin.post(LOG, {"nik": sri.nik[:10]})
    assert "nik" in response.context["form"].errors
    assert whats(response) == []


def test_an_export_outside_the_persons_village_does_not_count(ministry_admin, world, history, sri):
    ExportLog.objects.create(actor=world["coordinator_indramayu"], scope_id="32.12", format="csv")
    ExportLog.objects.create(
        actor=world["coordinator_malang"],
        scope_id="35.07",
        format="csv",
        filters={"village": "35.07.33.2006"},
    )
    ExportLog.objects.create(
        actor=world["coordinator_malang"], scope_id="35.07", format="csv", filters={"q": "Budi"}
    )
    response = ministry_admin.post(LOG, {"nik": sri.nik, "what": "export"})
    assert len(whats(response)) == 1


def test_the_log_pages_by_post(ministry_admin, world, settings, sri):
    settings.PAGE_SIZE = 2
    for _n in range(5):
        services.nik_reveal(person=sri, actor=world["officer_arjowilangun"])
    first = ministry_admin.post(LOG, {"nik": sri.nik})
    assert (len(whats(first)), first.context["has_next"]) == (2, True)
    third = ministry_admin.post(LOG, {"nik": sri.nik, "page": "3"})
    assert (len(whats(third)), third.context["has_next"]) == (1, False)
    assert 'name="page" value="2"' in third.content.decode()


def test_the_log_costs_the_same_queries_for_few_or_many_rows(
    ministry_admin, world, history, sri, django_assert_max_num_queries
):
    ministry_admin.get(LOG)  # warm the session and the menu
    with django_assert_max_num_queries(12) as few:
        ministry_admin.get(LOG)
    for _n in range(30):
        services.nik_reveal(person=sri, actor=world["officer_arjowilangun"])
        ExportLog.objects.create(actor=world["coordinator_malang"], format="csv")
        a_download(world["coordinator_malang"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        ministry_admin.get(LOG)


def test_access_log_reads_one_page_in_a_fixed_number_of_queries(
    world, history, django_assert_num_queries
):
    with django_assert_num_queries(4):  # the page's keys, then reads, exports, downloads
        rows = access_log(LogFilter(), offset=0, limit=50)
    assert len(rows) == 5


# --- Nobody edits the log ----------------------------------------------------------------------


def test_the_application_has_no_way_to_change_the_log(ministry_admin, world, history):
    request = RequestFactory().get("/")
    request.user = world["admin"]
    for model in (SensitiveAccess, ExportLog, ReportDownload):
        model_admin = admin.site._registry.get(model)
        if model_admin is None:
            continue
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
    # The log page posts its search to itself; its only other forms are the site's own.
    page = ministry_admin.get(LOG).content.decode()
    actions = set(re.findall(r'<form[^>]*action="([^"]*)"', page))
    assert actions <= {reverse("account_logout"), reverse("set_language")}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger is PostgreSQL's; SQLite is the demo"
)
@pytest.mark.django_db
def test_the_database_refuses_to_change_or_delete_a_read(world, sri):
    from django.db import DatabaseError, transaction

    services.nik_reveal(person=sri, actor=world["officer_arjowilangun"])
    read = SensitiveAccess.objects.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SensitiveAccess.objects.filter(pk=read.pk).update(reason="nothing to see")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SensitiveAccess.objects.filter(pk=read.pk).delete()
    assert SensitiveAccess.objects.get().reason == ""


# --- No full NIK in the application's logs --------------------------------------------------


def _project_handlers(logger: logging.Logger) -> list[logging.Handler]:
    """The logger's handlers from the project's configuration (not pytest's own)."""
    return [
        handler for handler in logger.handlers if not type(handler).__module__.startswith("_pytest")
    ]


def _redacted_on_the_way_out() -> list[logging.Handler]:
    return _project_handlers(logging.getLogger())


def _written(record: logging.LogRecord) -> str:
    """What the project's handlers write of a record."""
    handler = _redacted_on_the_way_out()[0]
    handler.filter(record)
    return handler.format(record)


def _everything_in(record: logging.LogRecord) -> str:
    parts = [str(record.msg), record.getMessage(), record.exc_text or "", record.stack_info or ""]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


def test_every_log_handler_masks_niks():
    handlers = _redacted_on_the_way_out()
    assert handlers
    assert all(any(isinstance(f, RedactNik) for f in handler.filters) for handler in handlers)
    # Django's own handlers would write past the filter: these loggers have none left.
    for name in ("django", "django.request", "django.server", "django.security", "celery"):
        logger = logging.getLogger(name)
        while logger is not None and logger.name != "root":
            writers = [h for h in _project_handlers(logger) if type(h) is not logging.NullHandler]
            assert not writers, name
            assert logger.propagate, name
            logger = logger.parent


def test_the_register_search_for_a_nik_keeps_it_out_of_the_address(officer_arjowilangun, sri):
    response = officer_arjowilangun.post(REGISTER, {"q": sri.nik, "sort": "name"})
    assert response.status_code == 302
    assert sri.nik not in response.url
    assert "q=~" in response.url  # a token for the search
    page = officer_arjowilangun.get(response.url)
    assert [person.pk for person in page.context["page"].object_list] == [sri.pk]
    # The export link carries the token too, and the export log keeps the NIK masked.
    assert sri.nik not in page.content.decode().split('name="q"')[0]


def test_exporting_a_nik_search_logs_the_nik_masked(officer_arjowilangun, world, sri):
    address = officer_arjowilangun.post(REGISTER, {"q": sri.nik}).url
    query = address.split("?", 1)[1]
    confirmed(officer_arjowilangun, world["officer_arjowilangun"])
    response = officer_arjowilangun.post(f"{reverse('migrants:export')}?{query}", {"format": "csv"})
    assert response.status_code == 200
    assert b"Sri Wahyuni" in b"".join(response.streaming_content)
    log = ExportLog.objects.get()
    assert log.filters["q"] == sri.nik[:4] + "\u2022" * 8 + sri.nik[-4:]
    assert log.rows == 1


def test_a_search_token_from_another_session_shows_nothing(officer_arjowilangun, world, sri):
    address = officer_arjowilangun.post(REGISTER, {"q": sri.nik}).url
    elsewhere = Client()
    elsewhere.force_login(world["officer_arjowilangun"])
    response = elsewhere.get(address)
    assert response.status_code == 302
    assert response.url == REGISTER


def test_a_name_search_stays_readable_in_the_address(officer_arjowilangun, sri):
    response = officer_arjowilangun.post(REGISTER, {"q": "Sri", "status": "pmi"})
    assert response.url == f"{REGISTER}?q=Sri&status=pmi"


def test_a_404_with_a_nik_in_the_address_is_logged_masked(officer_arjowilangun, sri, caplog):
    caplog.set_level(logging.DEBUG)
    officer_arjowilangun.get(f"/register/{sri.nik}/")
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records, "Django logs a 404 as a warning"
    for record in records:
        written = _written(record)
        assert sri.nik not in written
        assert sri.nik[:4] + "\u2022" * 8 + sri.nik[-4:] in written


def test_an_error_quoting_a_nik_is_logged_masked(sri):
    logger = logging.getLogger("migrants.tasks")
    try:
        raise ValueError(f"Key (nik)=({sri.nik}) already exists.")
    except ValueError:
        record = logger.makeRecord(
            logger.name, logging.ERROR, __file__, 1, "import %s failed", ("x",), sys.exc_info()
        )
    assert sri.nik in _everything_in(record)
    assert sri.nik not in _written(record)


def test_no_full_nik_reaches_the_logs_in_the_everyday_flows(
    world,
    officer_arjowilangun,
    coordinator_malang,
    sri,
    caplog,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    """Register a person, search and reveal, import a file, export, build and download a
    report, call the API: the logs hold no NIK of the data."""
    from django.core.cache import cache
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    settings.MEDIA_ROOT = tmp_path
    caplog.set_level(logging.DEBUG)
    officer = world["officer_arjowilangun"]
    niks = {sri.nik}

    # Register through the form, search the NIK, reveal it.
    new_nik = a_nik()
    niks.add(new_nik)
    response = officer_arjowilangun.post(
        reverse("migrants:create"), person_form(nik=new_nik, full_name="Warga Baru")
    )
    assert response.status_code == 302
    officer_arjowilangun.get(officer_arjowilangun.post(REGISTER, {"q": new_nik}).url)
    created = Person.objects.get(nik=new_nik)
    officer_arjowilangun.post(reverse("migrants:reveal", args=[created.pk]), {"what": "nik_reveal"})
    # A NIK already taken: the error message path.
    officer_arjowilangun.post(reverse("migrants:create"), person_form(nik=new_nik))

    # Import a file, confirm it.
    rows = [row(), row()]
    niks |= {r["NIK"] for r in rows}
    with django_capture_on_commit_callbacks(execute=True):
        uploaded = officer_arjowilangun.post(
            reverse("migrants:import"),
            {"file": SimpleUploadedFile("register.xlsx", xlsx_bytes(rows))},
        )
    batch = uploaded.url.rstrip("/").rsplit("/", 1)[-1]
    with django_capture_on_commit_callbacks(execute=True):
        officer_arjowilangun.post(reverse("migrants:import-confirm", args=[batch]))
    assert Person.objects.filter(nik__in=[r["NIK"] for r in rows]).count() == 2

    # Export with full NIKs, as csv and xlsx.
    confirmed(officer_arjowilangun, officer)
    for format in ("csv", "xlsx"):
        response = officer_arjowilangun.post(
            reverse("migrants:export"), {"format": format, "full_nik": "on", "reason": "BP2MI"}
        )
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)  # the rows are read as they are sent

    # A register report, built and downloaded; then the API.
    from reports import services as report_services

    with django_capture_on_commit_callbacks(execute=True):
        job = report_services.request_report(
            user=world["coordinator_malang"],
            kind=ReportKind.REGISTER,
            format=ReportFormat.XLSX,
            scope_code="35.07",
            period_start=datetime.date(2025, 1, 1),
            period_end=datetime.date(2025, 1, 31),
        )
    job.refresh_from_db()
    assert job.state == ReportJob.State.DONE, job.error
    download = coordinator_malang.get(reverse("reports:download", args=[job.pk]))
    assert download.status_code == 200
    cache.clear()
    _token, secret = AuthToken.objects.create(user=world["coordinator_malang"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get(reverse("api:village-list")).status_code == 200
    assert api.get(reverse("api:indicators"), {"region": "35.07"}).status_code == 200
    assert api.get(reverse("api:report-list")).status_code == 200
    assert api.get(reverse("api:report-download", args=[job.pk])).status_code == 200

    assert len(caplog.records) > 0
    for record in caplog.records:
        text = _everything_in(record)
        for nik in niks:
            assert nik not in text, (record.name, record.getMessage())
