"""Report jobs: requested, built once, downloaded by those whose scope covers them.

The job table, not Celery's result store, is the truth. A request is keyed (same report, same
key, one job, one file). The task claims its row with a conditional UPDATE and gives up at once
when the job is not queued, so a redelivered or duplicated message builds nothing; the file is
written under a temporary name and published by os.replace inside the same transaction as the
row's move to "done", conditional on the run still owning the row; a reaper puts back jobs
whose worker died, a bounded number of times.
"""

import datetime
import hashlib
import logging
import os
import re
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import FileResponse, Http404
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.permissions import Action, can
from accounts.scope import scope_prefix
from reports.models import ReportDownload, ReportFormat, ReportJob, ReportKind
from villages.models import Region

logger = logging.getLogger(__name__)

State = ReportJob.State
Level = Region.Level

# What a role needs to ask for a kind of report (which area is the scope's business).
KIND_ACTION: dict[str, Action] = {
    ReportKind.VILLAGE_MONTHLY: Action.VIEW_PILLARS,
    ReportKind.REGENCY_RECAP: Action.VIEW_PILLARS,
    ReportKind.NATIONAL_EVALUATION: Action.VIEW_PILLARS,
    ReportKind.PLACEMENTS: Action.VIEW_PILLARS,
    ReportKind.REGISTER: Action.EXPORT_REGISTER,
}
# The levels of area each kind is made for; None is the whole country.
KIND_LEVELS: dict[str, tuple[int | None, ...]] = {
    ReportKind.VILLAGE_MONTHLY: (Level.VILLAGE,),
    ReportKind.REGENCY_RECAP: (Level.REGENCY,),
    ReportKind.NATIONAL_EVALUATION: (None, Level.PROVINCE, Level.REGENCY),
    ReportKind.PLACEMENTS: (None, Level.PROVINCE, Level.REGENCY),
    ReportKind.REGISTER: (None, Level.PROVINCE, Level.REGENCY, Level.DISTRICT, Level.VILLAGE),
}
MAX_MONTHS: dict[str, int] = {ReportKind.VILLAGE_MONTHLY: 12}
DEFAULT_MAX_MONTHS = 60
FIRST_YEAR = 2016  # the pilots

FILE_PREFIX: dict[str, str] = {
    ReportKind.VILLAGE_MONTHLY: "laporan-bulanan-desa",
    ReportKind.REGENCY_RECAP: "rekap-kabupaten",
    ReportKind.NATIONAL_EVALUATION: "laporan-evaluasi",
    ReportKind.PLACEMENTS: "statistik-penempatan",
    ReportKind.REGISTER: "register-pmi",
}
CONTENT_TYPES = {
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
}

# A queued job whose message was lost (Redis flushed or down at the time) is sent again by the
# reaper after this long; the mark in the cache keeps a job that merely waits its turn from
# being sent again at every pass.
QUEUED_GRACE = datetime.timedelta(minutes=5)
PROGRESS_STEP = 5


# --- Who may ask for what -----------------------------------------------------------------------


def may_request_kind(user, kind: str) -> bool:
    action = KIND_ACTION.get(kind)
    return action is not None and can(user, action)


def requestable_kinds(user) -> list[str]:
    """The kinds the user may ask for, for some area of theirs (a village officer has no
    regency to ask a regency recap for)."""
    if not getattr(user, "is_authenticated", False):
        return []
    prefix = scope_prefix(user)
    own_level = 0 if prefix is None else prefix.count(".") + 1
    return [
        kind
        for kind in ReportKind.values
        if may_request_kind(user, kind)
        and any((level or 0) >= own_level for level in KIND_LEVELS[kind])
    ]


def covers(user, scope_code: str | None) -> bool:
    """Whether the area `scope_code` (None: the country) lies inside the user's scope."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not user.role and not user.is_superuser:
        return False
    prefix = scope_prefix(user)
    if prefix is None:
        return True
    if not scope_code:
        return False
    return scope_code == prefix or scope_code.startswith(prefix + ".")


def level_problem(kind: str, scope: Region | None) -> str | None:
    """Why `kind` cannot be made for this area, or None."""
    level = scope.level if scope is not None else None
    if level in KIND_LEVELS.get(kind, ()):
        return None
    if kind == ReportKind.VILLAGE_MONTHLY:
        return _("The village monthly report is made for one village: choose a village.")
    if kind == ReportKind.REGENCY_RECAP:
        return _("The regency recap is made for a regency or city: choose one.")
    return _("This report is made for the country, a province or a regency/city.")


# --- The period -----------------------------------------------------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    following = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def month_count(start: datetime.date, end: datetime.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def normalise_period(
    kind: str, start: datetime.date | None, end: datetime.date | None
) -> tuple[datetime.date, datetime.date]:
    """Whole months, none in the future; the register export is always "as of today"."""
    today = timezone.localdate()
    if kind == ReportKind.REGISTER or start is None or end is None:
        if kind != ReportKind.REGISTER:
            raise ValidationError(_("Give the first and the last month of the period."))
        return month_start(today), month_end(today)
    start, end = month_start(start), month_end(end)
    if end < start:
        raise ValidationError(_("The period ends before it starts."))
    if start.year < FIRST_YEAR:
        raise ValidationError(
            _("The programme started in %(year)d; choose a later period.") % {"year": FIRST_YEAR}
        )
    if start > today:
        raise ValidationError(_("The period has not started yet."))
    end = min(end, month_end(today))
    limit = MAX_MONTHS.get(kind, DEFAULT_MAX_MONTHS)
    if month_count(start, end) > limit:
        raise ValidationError(
            _("Choose a period of at most %(months)d months for this report.") % {"months": limit}
        )
    return start, end


def idempotency_key(
    *,
    kind: str,
    format: str,
    scope_code: str | None,
    period_start: datetime.date,
    period_end: datetime.date,
    cohort_year: int | None,
    requester_scope: str,
    as_of: datetime.date | None,
) -> str:
    """Same report, same key. The requester's scope is part of it, so people of different
    scopes never share a file; `as_of` (today) is part of it while the period is not over,
    so a report of the running month is built again the next day rather than served stale."""
    parts = [
        kind,
        format,
        scope_code or "-",
        period_start.isoformat(),
        period_end.isoformat(),
        str(cohort_year or "-"),
        requester_scope,
        as_of.isoformat() if as_of else "-",
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


# --- Requesting --------------------------------------------------------------------------------


def request_report(
    *,
    user,
    kind: str,
    format: str,
    scope_code: str | None,
    period_start: datetime.date | None,
    period_end: datetime.date | None,
    cohort_year: int | None = None,
    scheduled: bool = False,
) -> ReportJob:
    """The job for this report, new or existing, queued to build when it needs building.

    Raises PermissionDenied when the user may not ask for this kind or this area, and
    ValidationError for a request that cannot be made (an area of the wrong level for the
    kind, a bad period). `user` may be None only for scheduled jobs.
    """
    if kind not in ReportKind.values:
        raise ValidationError(_("Unknown report."))
    if format not in ReportFormat.values:
        raise ValidationError(_("Unknown format."))
    scope_code = scope_code or None
    if user is None:
        if not scheduled:
            raise PermissionDenied
        requester_scope = "scheduled"
    else:
        if not may_request_kind(user, kind) or not covers(user, scope_code):
            raise PermissionDenied
        requester_scope = scope_prefix(user) or "national"
    scope = None
    if scope_code:
        scope = Region.objects.filter(code=scope_code, retired_at__isnull=True).first()
        if scope is None:
            raise ValidationError(_("Unknown area."))
    problem = level_problem(kind, scope)
    if problem:
        raise ValidationError(problem)
    if cohort_year is not None and not FIRST_YEAR <= int(cohort_year) <= 2100:
        raise ValidationError(_("Unknown cohort."))
    start, end = normalise_period(kind, period_start, period_end)
    today = timezone.localdate()
    key = idempotency_key(
        kind=kind,
        format=format,
        scope_code=scope_code,
        period_start=start,
        period_end=end,
        cohort_year=cohort_year,
        requester_scope=requester_scope,
        as_of=today if end >= today else None,
    )
    job = ReportJob.objects.filter(idempotency_key=key).first()
    if job is None:
        try:
            with transaction.atomic():
                job = ReportJob.objects.create(
                    kind=kind,
                    format=format,
                    scope=scope,
                    period_start=start,
                    period_end=end,
                    cohort_year=cohort_year,
                    idempotency_key=key,
                    requested_by=user,
                    scheduled=scheduled,
                )
        except IntegrityError:
            # Someone asked for the same report at the same moment: theirs is ours.
            job = ReportJob.objects.get(idempotency_key=key)
        else:
            _enqueue(job.pk)
            return job
    return _reuse(job)


def _reuse(job: ReportJob) -> ReportJob:
    """An existing job: a built file is returned as it is (kept a little longer), a failed job
    or one whose file is gone is queued again, a queued or running one is joined."""
    if job.state == State.DONE and file_path(job) is not None:
        keep_until = timezone.now() + datetime.timedelta(days=settings.REPORT_KEEP_DAYS)
        ReportJob.objects.filter(pk=job.pk, state=State.DONE).update(expires_at=keep_until)
        job.expires_at = keep_until
        return job
    if job.state in (State.DONE, State.FAILED):
        _requeue(job, from_state=job.state)
        job.refresh_from_db()
    return job


def _requeue(job: ReportJob, *, from_state: str) -> bool:
    moved = ReportJob.objects.filter(pk=job.pk, state=from_state).update(
        state=State.QUEUED,
        error="",
        attempts=0,
        progress=0,
        file="",
        size=0,
        created_at=timezone.now(),
        started_at=None,
        finished_at=None,
        expires_at=None,
    )
    if moved:
        _enqueue(job.pk)
    return bool(moved)


def retry_report(*, user, job: ReportJob) -> ReportJob:
    """Queue a failed job again (or one whose file was removed): the retry button."""
    if not may_request_kind(user, job.kind) or not covers(user, job.scope_id):
        raise PermissionDenied
    if job.state == State.FAILED or (job.state == State.DONE and file_path(job) is None):
        _requeue(job, from_state=job.state)
        job.refresh_from_db()
    return job


def enqueued_key(job_id) -> str:
    return f"report-enqueued:{job_id}"


def _enqueue(job_id) -> None:
    """Send the build once the job row is committed (a worker must find it). When the broker
    cannot be reached the job stays queued, unmarked, and the reaper sends it again."""

    def send() -> None:
        from desmigratif.celery import send as send_task
        from reports.tasks import build_report

        if send_task(build_report, (str(job_id),)):
            cache.set(enqueued_key(job_id), time.time(), timeout=24 * 3600)

    transaction.on_commit(send)


# --- Files and downloads ------------------------------------------------------------------------


def reports_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "reports"


def final_path(job: ReportJob) -> Path:
    """Where the job's file is published: one name per job, whatever the number of tries."""
    return (
        reports_root() / f"{job.created_at:%Y}" / f"{job.created_at:%m}" / f"{job.pk}.{job.format}"
    )


def file_path(job: ReportJob) -> Path | None:
    """The job's published file, if it is still on disk."""
    if not job.file:
        return None
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / job.file).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def download_filename(job: ReportJob) -> str:
    """`laporan-evaluasi-nasional-2026-10.xlsx`: what the report is, where, when."""
    area = slugify(job.scope.label) if job.scope_id else "nasional"
    if job.kind == ReportKind.REGISTER:
        day = timezone.localtime(job.finished_at) if job.finished_at else timezone.localtime()
        period = f"{day:%Y-%m-%d}"
    elif (job.period_start.year, job.period_start.month) == (
        job.period_end.year,
        job.period_end.month,
    ):
        period = f"{job.period_start:%Y-%m}"
    else:
        period = f"{job.period_start:%Y-%m}-sd-{job.period_end:%Y-%m}"
    parts = [FILE_PREFIX.get(job.kind, "laporan"), area or "wilayah", period]
    if job.cohort_year:
        parts.append(f"angkatan-{job.cohort_year}")
    name = re.sub(r"-+", "-", "-".join(parts))
    return f"{name}.{job.format}"


def get_job_for_user_or_404(user, pk) -> ReportJob:
    try:
        uuid.UUID(str(pk))
    except ValueError:
        raise Http404 from None
    job = (
        ReportJob.objects.for_user(user)
        .select_related("scope", "requested_by")
        .filter(pk=pk)
        .first()
    )
    if job is None:
        raise Http404
    return job


def download_response(*, job: ReportJob, user, via: str = "web") -> FileResponse:
    """The file as an attachment, logged; 404 unless the job is done, in the user's scope and
    its file still there."""
    if not ReportJob.objects.for_user(user).filter(pk=job.pk).exists():
        raise Http404
    if not may_request_kind(user, job.kind):
        raise PermissionDenied
    path = file_path(job) if job.state == State.DONE else None
    if path is None:
        raise Http404
    handle = path.open("rb")
    ReportDownload.objects.create(job=job, user=user, via=via[:8])
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=download_filename(job),
        content_type=CONTENT_TYPES.get(job.format, "application/octet-stream"),
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- Building (the Celery task's body) -----------------------------------------------------------


class _Run:
    """One claimed run of a job: its attempt and start time identify it, so a stale run (a
    worker thought dead, a duplicate delivery) can neither report progress, nor publish, nor
    fail the job once another run owns the row."""

    def __init__(self, job_id, attempt: int, started_at: datetime.datetime) -> None:
        self.job_id, self.attempt, self.started_at = job_id, attempt, started_at
        self.token = uuid.uuid4().hex[:12]
        self.last_progress = 0

    def rows(self):
        return ReportJob.objects.filter(
            pk=self.job_id, state=State.RUNNING, attempts=self.attempt, started_at=self.started_at
        )

    def progress(self, value: int) -> None:
        value = max(0, min(int(value), 99))  # 100 comes with publishing
        if value < self.last_progress + PROGRESS_STEP:
            return
        self.last_progress = value
        self.rows().update(progress=value)


def claim(job_id) -> _Run | None:
    """Take the queued job for this run, or None when it is not queued (done, failed, or
    running elsewhere): a redelivered or duplicate message then does nothing."""
    now = timezone.now()
    claimed = ReportJob.objects.filter(
        pk=job_id, state=State.QUEUED, attempts__lt=settings.REPORT_MAX_ATTEMPTS
    ).update(
        state=State.RUNNING,
        attempts=F("attempts") + 1,
        started_at=now,
        finished_at=None,
        progress=0,
        error="",
    )
    if not claimed:
        attempts = (
            ReportJob.objects.filter(pk=job_id, state=State.QUEUED)
            .values_list("attempts", flat=True)
            .first()
        )
        if attempts is not None:  # queued, but tried too often already
            ReportJob.objects.filter(pk=job_id, state=State.QUEUED).update(
                state=State.FAILED, error=stopped_message(attempts), finished_at=now
            )
        return None
    attempt = ReportJob.objects.filter(pk=job_id).values_list("attempts", flat=True).get()
    return _Run(job_id, attempt, now)


def stopped_message(attempts: int) -> str:
    return _(
        "The report stopped after %(count)d tries without finishing (the server may have run "
        "out of memory or been restarted). Try again later, or choose a smaller area or a "
        "shorter period."
    ) % {"count": attempts}


def run_job(job_id) -> bool:
    """Claim, build, publish. True when this run published the file."""
    from celery.exceptions import SoftTimeLimitExceeded

    from reports.builders import BUILDERS
    from reports.builders.base import ReportError

    run = claim(job_id)
    if run is None:
        return False
    job = ReportJob.objects.select_related("scope").get(pk=job_id)
    final = final_path(job)
    temporary = final.with_name(f".{job.pk}.{run.token}.tmp")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        # Reports circulate in the programme's language, whoever asked for them.
        with translation.override(settings.LANGUAGE_CODE):
            builder = BUILDERS.get(job.kind)
            if builder is None:
                raise ReportError(_("This report cannot be built yet."))
            builder(job, temporary, run.progress)
            if not temporary.is_file():
                raise RuntimeError("the builder wrote no file")
            return _publish(run, temporary, final)
    except SoftTimeLimitExceeded:
        with translation.override(settings.LANGUAGE_CODE):
            reason = _(
                "The report took longer than %(minutes)d minutes and was stopped. Choose a "
                "smaller area or a shorter period, or try again later."
            ) % {"minutes": max(settings.REPORT_TIME_LIMIT // 60, 1)}
        _fail(run, temporary, reason)
    except ReportError as exc:
        _fail(run, temporary, exc.message)
    except Exception:
        logger.exception("report %s failed", job_id)
        with translation.override(settings.LANGUAGE_CODE):
            reason = _(
                "The report could not be built because of an error on the server. Try again; "
                "if it fails again, tell the administrator."
            )
        _fail(run, temporary, reason)
    return False


def _publish(run: _Run, temporary: Path, final: Path) -> bool:
    """Move the file to its name and the job to "done" together, if this run still owns the
    job; otherwise throw the file away. The row's UPDATE holds its lock until the commit, so
    a reaper or another run waits for it and then sees the job done."""
    size = temporary.stat().st_size
    now = timezone.now()
    with transaction.atomic():
        published = run.rows().update(
            state=State.DONE,
            file=final.relative_to(Path(settings.MEDIA_ROOT)).as_posix(),
            size=size,
            progress=100,
            finished_at=now,
            expires_at=now + datetime.timedelta(days=settings.REPORT_KEEP_DAYS),
            error="",
        )
        if published:
            os.replace(temporary, final)
    if not published:
        temporary.unlink(missing_ok=True)
        return False
    # Temporary files of earlier runs of this job (a worker killed mid-way) are of no use now.
    for stale in final.parent.glob(f".{run.job_id}.*.tmp"):
        stale.unlink(missing_ok=True)
    return True


def _fail(run: _Run, temporary: Path, reason: str) -> None:
    temporary.unlink(missing_ok=True)
    run.rows().update(
        state=State.FAILED, error=reason[:2000], finished_at=timezone.now(), progress=0
    )


# --- Housekeeping (beat tasks) -------------------------------------------------------------------


def reap_stuck() -> dict[str, int]:
    """Jobs running past the time limit (their worker died) go back to the queue, or fail
    after REPORT_MAX_ATTEMPTS tries; queued jobs whose message was lost are sent again."""
    now = timezone.now()
    limit = now - datetime.timedelta(seconds=settings.REPORT_TIME_LIMIT)
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    stuck = ReportJob.objects.filter(state=State.RUNNING, started_at__lt=limit).values_list(
        "pk", "attempts", "started_at"
    )
    for pk, attempts, started_at in list(stuck):
        same_run = ReportJob.objects.filter(pk=pk, state=State.RUNNING, started_at=started_at)
        if attempts >= settings.REPORT_MAX_ATTEMPTS:
            with translation.override(settings.LANGUAGE_CODE):
                reason = stopped_message(attempts)
            counts["failed"] += same_run.update(
                state=State.FAILED, error=reason, finished_at=now, progress=0
            )
        elif same_run.update(state=State.QUEUED, progress=0):
            counts["requeued"] += 1
            _enqueue(pk)
    waiting = ReportJob.objects.filter(
        state=State.QUEUED, created_at__lt=now - QUEUED_GRACE
    ).values_list("pk", flat=True)
    for pk in list(waiting):
        sent = cache.get(enqueued_key(pk))
        if sent is None or sent < time.time() - QUEUED_GRACE.total_seconds():
            counts["resent"] += 1
            _enqueue(pk)
    return counts


def remove_old() -> dict[str, int]:
    """Delete the files of jobs past their keeping date (the job row stays, without a file)
    and temporary files left by runs that died."""
    now = timezone.now()
    counts = {"files": 0, "temporary": 0}
    expired = (
        ReportJob.objects.filter(expires_at__lt=now).exclude(file="").values_list("pk", "file")
    )
    root = Path(settings.MEDIA_ROOT).resolve()
    for pk, name in list(expired):
        path = (root / name).resolve()
        if root in path.parents:
            path.unlink(missing_ok=True)
        counts["files"] += ReportJob.objects.filter(pk=pk, file=name).update(file="", size=0)
    old = time.time() - 2 * settings.REPORT_TIME_LIMIT
    directory = reports_root()
    if directory.is_dir():
        for temporary in directory.rglob(".*.tmp"):
            try:
                if temporary.stat().st_mtime < old:
                    temporary.unlink()
                    counts["temporary"] += 1
            except FileNotFoundError:
                continue
    return counts
