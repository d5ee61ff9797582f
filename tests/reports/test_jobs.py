"""A report is a job: queued, running, done with one file published atomically, or failed
with a reason and retried; built once however often it is asked for or delivered; put back
by the reaper when its worker died, a bounded number of times; its file removed when old."""

import datetime
import os
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports import services
from reports.builders import BUILDERS
from reports.builders.base import ReportError
from reports.models import ReportDownload, ReportFormat, ReportJob, ReportKind
from reports.tasks import build_report, reap_stuck_reports, remove_old_reports
from tests.migrants.factories import ARJOWILANGUN, KENANGA, register
from tests.reports.helpers import ask, files_of, fresh

State = ReportJob.State


@pytest.fixture
def counting_builder(monkeypatch):
    """The register builder, counting its runs."""
    calls = []
    original = BUILDERS[ReportKind.REGISTER]

    def build(job, path, progress):
        calls.append(job.pk)
        original(job, path, progress)

    monkeypatch.setitem(BUILDERS, ReportKind.REGISTER, build)
    return calls


def requested(user, django_capture_on_commit_callbacks, **kwargs) -> ReportJob:
    """Ask, and let the build run as the commit would start it (inline in tests)."""
    with django_capture_on_commit_callbacks(execute=True):
        job = ask(user, **kwargs)
    return fresh(job)


def queued_only(user, django_capture_on_commit_callbacks, **kwargs) -> ReportJob:
    """Ask, and drop the message: the job stays queued."""
    with django_capture_on_commit_callbacks(execute=False):
        job = ask(user, **kwargs)
    return fresh(job)


# --- Lifecycle --------------------------------------------------------------------------------


def test_a_report_is_queued_then_built_and_published_once(
    world, media, django_capture_on_commit_callbacks
):
    officer = world["officer_arjowilangun"]
    register(actor=officer, village=ARJOWILANGUN)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = ask(officer)
    assert fresh(job).state == State.QUEUED  # nothing is sent before the commit
    assert fresh(job).requested_by == officer
    callbacks[0]()

    job = fresh(job)
    assert job.state == State.DONE
    assert job.progress == 100
    assert job.attempts == 1
    assert job.error == ""
    assert job.started_at <= job.finished_at
    keep = datetime.timedelta(days=30)
    assert abs(job.expires_at - (job.finished_at + keep)) < datetime.timedelta(seconds=5)
    path = media / job.file
    assert path.name == f"{job.pk}.xlsx"
    assert path.parent == media / "reports" / f"{job.created_at:%Y}" / f"{job.created_at:%m}"
    assert path.stat().st_size == job.size > 0
    assert files_of(job, media) == [path]  # published atomically: no temporary file left


def test_the_same_request_twice_is_one_job_and_one_file(
    world, media, counting_builder, django_capture_on_commit_callbacks
):
    officer = world["officer_arjowilangun"]
    first = requested(officer, django_capture_on_commit_callbacks)
    second = requested(officer, django_capture_on_commit_callbacks)
    assert second.pk == first.pk
    assert ReportJob.objects.count() == 1
    assert counting_builder == [first.pk]
    assert len(files_of(first, media)) == 1


def test_a_second_request_while_queued_joins_the_job(
    world, media, django_capture_on_commit_callbacks
):
    officer = world["officer_arjowilangun"]
    first = queued_only(officer, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        second = ask(officer)
    assert second.pk == first.pk
    assert callbacks == []  # no second message for a job already queued


def test_people_of_one_scope_share_a_job_people_of_different_scopes_do_not(
    world, media, django_capture_on_commit_callbacks
):
    officer = queued_only(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    head = queued_only(world["head_arjowilangun"], django_capture_on_commit_callbacks)
    coordinator = queued_only(
        world["coordinator_malang"], django_capture_on_commit_callbacks, scope=ARJOWILANGUN
    )
    assert head.pk == officer.pk
    assert coordinator.pk != officer.pk
    assert coordinator.scope_id == officer.scope_id == ARJOWILANGUN


def test_the_key_changes_with_every_part_of_the_request(
    world, media, django_capture_on_commit_callbacks
):
    user = world["coordinator_malang"]
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=40)).replace(day=1)
    base = {"kind": ReportKind.REGISTER, "scope": "35.07"}
    variants = [
        base,
        {**base, "format": ReportFormat.PDF},
        {**base, "scope": ARJOWILANGUN},
        {**base, "cohort": 2017},
        {"kind": ReportKind.VILLAGE_MONTHLY, "scope": ARJOWILANGUN, "start": month},
    ]
    jobs = {queued_only(user, django_capture_on_commit_callbacks, **v).pk for v in variants}
    assert len(jobs) == len(variants)


def test_the_period_is_whole_months_and_never_in_the_future(world, media):
    user = world["officer_arjowilangun"]
    job = ask(
        user,
        kind=ReportKind.VILLAGE_MONTHLY,
        start=datetime.date(2025, 3, 17),
        end=datetime.date(2025, 5, 2),
    )
    assert (job.period_start, job.period_end) == (
        datetime.date(2025, 3, 1),
        datetime.date(2025, 5, 31),
    )
    next_year = timezone.localdate().year + 1
    with pytest.raises(ValidationError):
        ask(user, kind=ReportKind.VILLAGE_MONTHLY, start=datetime.date(next_year, 1, 1))
    with pytest.raises(ValidationError):
        ask(
            user,
            kind=ReportKind.VILLAGE_MONTHLY,
            start=datetime.date(2025, 5, 1),
            end=datetime.date(2025, 3, 1),
        )
    with pytest.raises(ValidationError):  # at most twelve months of a village's reports
        ask(
            user,
            kind=ReportKind.VILLAGE_MONTHLY,
            start=datetime.date(2024, 1, 1),
            end=datetime.date(2025, 1, 1),
        )


# --- Claims: built once, whatever the deliveries ------------------------------------------------


def test_a_second_delivery_of_the_task_builds_nothing(
    world, media, counting_builder, django_capture_on_commit_callbacks
):
    job = queued_only(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    assert build_report(str(job.pk)) is True
    assert build_report(str(job.pk)) is False  # Redis delivered it again: the job is done
    assert counting_builder == [job.pk]
    job = fresh(job)
    assert (job.state, job.attempts) == (State.DONE, 1)
    assert len(files_of(job, media)) == 1


def test_a_job_running_elsewhere_is_left_alone(
    world, media, counting_builder, django_capture_on_commit_callbacks
):
    job = queued_only(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    run = services.claim(job.pk)  # another worker has it
    assert run is not None
    assert build_report(str(job.pk)) is False
    assert counting_builder == []
    assert (fresh(job).state, fresh(job).attempts) == (State.RUNNING, 1)


def test_a_stale_run_cannot_publish_over_the_run_that_owns_the_job(
    world, media, django_capture_on_commit_callbacks
):
    job = queued_only(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    stale = services.claim(job.pk)
    # Its worker looked dead: the job went back to the queue and a new run built it.
    ReportJob.objects.filter(pk=job.pk).update(state=State.QUEUED)
    assert build_report(str(job.pk)) is True
    published = fresh(job)
    content = (media / published.file).read_bytes()

    final = services.final_path(published)
    temporary = final.with_name(f".{job.pk}.{stale.token}.tmp")
    temporary.write_bytes(b"stale")
    assert services._publish(stale, temporary, final) is False
    assert not temporary.exists()
    assert (media / published.file).read_bytes() == content
    stale.progress(50)
    assert fresh(job).progress == 100
    assert fresh(job).attempts == 2
    assert files_of(job, media) == [final]


def test_progress_is_written_at_most_every_five_percent(
    world, media, monkeypatch, django_capture_on_commit_callbacks
):
    seen = []

    def build(job, path, progress):
        with CaptureQueriesContext(connection) as queries:
            for value in range(100):
                progress(value)
        seen.append(len(queries))
        seen.append(fresh(job).progress)
        path.write_bytes(b"x")

    monkeypatch.setitem(BUILDERS, ReportKind.REGISTER, build)
    job = requested(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    writes, last = seen
    assert writes <= 20
    assert last >= 95
    assert fresh(job).progress == 100


def test_a_done_job_with_its_file_is_returned_as_it_is(
    world, media, counting_builder, django_capture_on_commit_callbacks
):
    officer = world["officer_arjowilangun"]
    job = requested(officer, django_capture_on_commit_callbacks)
    path = media / job.file
    before = path.stat().st_mtime_ns
    again = requested(officer, django_capture_on_commit_callbacks)
    assert again.pk == job.pk
    assert again.state == State.DONE
    assert path.stat().st_mtime_ns == before
    assert counting_builder == [job.pk]


def test_a_done_job_whose_file_is_gone_is_built_again(
    world, media, counting_builder, django_capture_on_commit_callbacks
):
    officer = world["officer_arjowilangun"]
    job = requested(officer, django_capture_on_commit_callbacks)
    (media / job.file).unlink()
    again = requested(officer, django_capture_on_commit_callbacks)
    assert again.pk == job.pk
    assert again.state == State.DONE
    assert (media / again.file).is_file()
    assert counting_builder == [job.pk, job.pk]


# --- Failure and retry --------------------------------------------------------------------------


def test_a_failure_is_recorded_with_a_reason_and_the_retry_builds_it(
    world, media, monkeypatch, django_capture_on_commit_callbacks
):
    original = BUILDERS[ReportKind.REGISTER]

    def broken(job, path, progress):
        path.write_bytes(b"half a file")
        raise RuntimeError("connection to /var/secret refused")

    monkeypatch.setitem(BUILDERS, ReportKind.REGISTER, broken)
    officer = world["officer_arjowilangun"]
    job = requested(officer, django_capture_on_commit_callbacks)
    assert job.state == State.FAILED
    assert "error on the server" in job.error
    assert "secret" not in job.error
    assert "Traceback" not in job.error
    assert job.file == ""
    assert files_of(job, media) == []  # the half-written file is gone

    monkeypatch.setitem(BUILDERS, ReportKind.REGISTER, original)
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_report(user=officer, job=job)
    job = fresh(job)
    assert (job.state, job.attempts, job.error) == (State.DONE, 1, "")
    assert len(files_of(job, media)) == 1


def test_asking_again_for_a_failed_report_is_the_retry(
    world, media, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(job, path, progress):
        raise ReportError("No designated village in this area.")

    original = BUILDERS[ReportKind.REGISTER]
    monkeypatch.setitem(BUILDERS, ReportKind.REGISTER, broken)
    officer = world["officer_arjowilangun"]
    job = requested(officer, django_capture_on_commit_callbacks)
    assert job.error == "No designated village in this area."  # a builder's reason, as it is
    monkeypatch.setitem(BUILDERS, ReportKind.REGISTER, original)
    again = requested(officer, django_capture_on_commit_callbacks)
    assert again.pk == job.pk
    assert again.state == State.DONE


def test_a_report_over_its_time_limit_fails_with_a_reason(
    world, media, monkeypatch, django_capture_on_commit_callbacks
):
    from celery.exceptions import SoftTimeLimitExceeded

    def slow(job, path, progress):
        raise SoftTimeLimitExceeded

    monkeypatch.setitem(BUILDERS, ReportKind.REGISTER, slow)
    job = requested(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    assert job.state == State.FAILED
    assert "took longer than" in job.error


def test_only_those_who_may_ask_for_the_report_may_retry_it(
    world, media, django_capture_on_commit_callbacks
):
    job = queued_only(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    ReportJob.objects.filter(pk=job.pk).update(state=State.FAILED, error="x")
    with pytest.raises(PermissionDenied):
        services.retry_report(user=world["officer_kenanga"], job=fresh(job))
    assert fresh(job).state == State.FAILED


def test_a_job_tried_too_often_fails_instead_of_running_again(
    world, media, counting_builder, settings, django_capture_on_commit_callbacks
):
    job = queued_only(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    ReportJob.objects.filter(pk=job.pk).update(attempts=settings.REPORT_MAX_ATTEMPTS)
    assert build_report(str(job.pk)) is False
    job = fresh(job)
    assert job.state == State.FAILED
    assert "stopped after 3 tries" in job.error
    assert counting_builder == []


# --- The reaper ---------------------------------------------------------------------------------


def _stuck(job: ReportJob, *, attempts: int, minutes: int = 60) -> None:
    """The job as a worker that died mid-build leaves it: running, started long ago."""
    ReportJob.objects.filter(pk=job.pk).update(
        state=State.RUNNING,
        attempts=attempts,
        progress=40,
        started_at=timezone.now() - datetime.timedelta(minutes=minutes),
    )


def test_the_reaper_requeues_a_job_whose_worker_died(
    world, media, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_TIME_LIMIT = 20 * 60
    job = queued_only(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    _stuck(job, attempts=1, minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        counts = reap_stuck_reports()
    assert counts["requeued"] == 1
    job = fresh(job)
    assert (job.state, job.attempts) == (State.DONE, 2)
    assert len(files_of(job, media)) == 1


def test_the_reaper_leaves_a_job_within_its_time_limit(
    world, media, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_TIME_LIMIT = 20 * 60
    job = queued_only(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    _stuck(job, attempts=1, minutes=5)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        counts = reap_stuck_reports()
    assert counts == {"requeued": 0, "failed": 0, "resent": 0, "imports_resent": 0}
    assert callbacks == []
    assert fresh(job).state == State.RUNNING


def test_the_reaper_fails_a_job_after_the_last_try(
    world, media, settings, django_capture_on_commit_callbacks
):
    job = queued_only(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    _stuck(job, attempts=settings.REPORT_MAX_ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        counts = reap_stuck_reports()
    assert counts["failed"] == 1
    assert callbacks == []
    job = fresh(job)
    assert job.state == State.FAILED
    assert "stopped after 3 tries" in job.error


def test_the_reaper_sends_again_a_queued_job_whose_message_was_lost(
    world, media, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    job = queued_only(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert reap_stuck_reports()["resent"] == 0  # just asked for: its message may be coming
    assert callbacks == []

    # Redis was flushed ten minutes ago: the message and the mark are gone.
    ReportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=10)
    )
    cache.delete(services.enqueued_key(job.pk))
    with django_capture_on_commit_callbacks(execute=True):
        assert reap_stuck_reports()["resent"] == 1
    assert fresh(job).state == State.DONE


# --- Old files ----------------------------------------------------------------------------------


def test_old_files_are_removed_and_the_job_stays(world, media, django_capture_on_commit_callbacks):
    officer = world["officer_arjowilangun"]
    old = requested(officer, django_capture_on_commit_callbacks)
    recent = requested(officer, django_capture_on_commit_callbacks, format=ReportFormat.PDF)
    ReportJob.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    old_path = media / old.file
    counts = remove_old_reports()
    assert counts["files"] == 1
    assert not old_path.exists()
    assert (media / recent.file).is_file()
    old = fresh(old)
    assert (old.state, old.file, old.size) == (State.DONE, "", 0)
    with pytest.raises(Http404):
        services.download_response(job=old, user=officer)


def test_temporary_files_of_dead_runs_are_removed_when_old(world, media, settings):
    directory = media / "reports" / "2026" / "01"
    directory.mkdir(parents=True)
    dead = directory / ".0f7c-dead.abc.tmp"
    dead.write_bytes(b"x")
    hours_ago = time.time() - 2 * settings.REPORT_TIME_LIMIT - 60
    os.utime(dead, (hours_ago, hours_ago))
    building = directory / ".0f7c-live.def.tmp"
    building.write_bytes(b"x")
    assert remove_old_reports()["temporary"] == 1
    assert not dead.exists()
    assert building.exists()


# --- Who may ask for what -----------------------------------------------------------------------


def test_a_village_officer_cannot_ask_for_the_country_or_another_village(world, media):
    officer = world["officer_arjowilangun"]
    for scope in (None, KENANGA, "35.07"):
        with pytest.raises(PermissionDenied):
            ask(officer, scope=scope)
    with pytest.raises(PermissionDenied):
        ask(officer, kind=ReportKind.NATIONAL_EVALUATION, scope=None)
    assert ReportJob.objects.count() == 0


def test_each_kind_is_made_for_its_level_of_area(world, media, django_capture_on_commit_callbacks):
    coordinator = world["coordinator_malang"]
    with pytest.raises(ValidationError):
        ask(coordinator, kind=ReportKind.VILLAGE_MONTHLY)  # a regency
    with pytest.raises(ValidationError):
        ask(coordinator, kind=ReportKind.REGENCY_RECAP, scope=ARJOWILANGUN)
    with pytest.raises(ValidationError):
        ask(world["officer_arjowilangun"], kind=ReportKind.NATIONAL_EVALUATION)
    with pytest.raises(PermissionDenied):  # the country is not a coordinator's to ask for
        ask(coordinator, kind=ReportKind.NATIONAL_EVALUATION, scope=None)
    allowed = [
        (coordinator, ReportKind.VILLAGE_MONTHLY, ARJOWILANGUN),
        (coordinator, ReportKind.REGENCY_RECAP, "35.07"),
        (coordinator, ReportKind.NATIONAL_EVALUATION, "35.07"),
        (world["province_jatim"], ReportKind.NATIONAL_EVALUATION, "35"),
        (world["evaluator"], ReportKind.NATIONAL_EVALUATION, None),
        (world["evaluator"], ReportKind.PLACEMENTS, None),
    ]
    for user, kind, scope in allowed:
        job = queued_only(user, django_capture_on_commit_callbacks, kind=kind, scope=scope)
        assert job.kind == kind
        assert job.scope_id == scope


def test_someone_without_a_role_may_ask_for_nothing(world, media):
    from accounts.models import User

    nobody = User.objects.create_user("nobody", "nobody@example.org", "x", scope_id=ARJOWILANGUN)
    with pytest.raises(PermissionDenied):
        ask(nobody)


# --- Downloads ----------------------------------------------------------------------------------


def consume(response) -> bytes:
    """The body of a FileResponse, its file closed (response.close() would also signal the end
    of a request, which closes the test's database connection)."""
    content = b"".join(response.streaming_content)
    response.file_to_stream.close()
    return content


def test_a_download_is_an_attachment_with_a_telling_name_and_is_logged(
    world, media, django_capture_on_commit_callbacks
):
    evaluator = world["evaluator"]
    month = datetime.date(2025, 10, 1)
    with django_capture_on_commit_callbacks(execute=False):
        job = ask(evaluator, kind=ReportKind.NATIONAL_EVALUATION, scope=None, start=month)
    # Built by whatever builder; what matters here is the file and its name.
    job = fresh(job)
    path = services.final_path(job)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK fake xlsx")
    ReportJob.objects.filter(pk=job.pk).update(
        state=State.DONE, file=path.relative_to(media).as_posix(), size=12
    )
    response = services.download_response(job=fresh(job), user=evaluator, via="api")
    assert response["Content-Disposition"] == (
        'attachment; filename="laporan-evaluasi-nasional-2025-10.xlsx"'
    )
    assert consume(response) == b"PK fake xlsx"
    download = ReportDownload.objects.get()
    assert (download.job_id, download.user, download.via) == (job.pk, evaluator, "api")


def test_nobody_downloads_a_job_outside_their_scope(
    world, media, django_capture_on_commit_callbacks
):
    job = requested(world["coordinator_malang"], django_capture_on_commit_callbacks)
    for outsider in ("coordinator_indramayu", "officer_arjowilangun", "officer_kenanga"):
        with pytest.raises(Http404):
            services.download_response(job=job, user=world[outsider])
    assert ReportDownload.objects.count() == 0
    consume(services.download_response(job=job, user=world["province_jatim"]))
    consume(services.download_response(job=job, user=world["evaluator"]))
    assert ReportDownload.objects.count() == 2


def test_file_names_say_what_where_and_when(world):
    from villages.models import Region

    malang = Region.objects.get(code="35.07")
    job = ReportJob(
        kind=ReportKind.REGENCY_RECAP,
        format=ReportFormat.PDF,
        scope=malang,
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 3, 31),
        cohort_year=2017,
    )
    assert services.download_filename(job) == (
        "rekap-kabupaten-kab-malang-2026-01-sd-2026-03-angkatan-2017.pdf"
    )
