"""What runs by the calendar (django-celery-beat), and the monthly reports sent to subscribers.

`install_schedules()` writes the beat entries (a data migration calls it; it is safe to call
again: it updates the timings and leaves an entry an administrator switched off switched off).

On the 1st of each month `monthly_reports` asks for last month's regency recaps (one per
regency with active Desmigratif villages) and the national evaluation, as scheduled jobs shared
by everyone whose scope covers them; `notify_subscribers` (every few minutes) e-mails each
subscriber, once, a link to the jobs of their kinds and area once they are built.
"""

import datetime
import logging
from collections import defaultdict

from celery import shared_task
from django.apps import apps as django_apps
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Role, User
from reports import services
from reports.models import ReportFormat, ReportJob, ReportKind, ReportSubscription
from villages.models import Designation, Region

logger = logging.getLogger(__name__)

PREFIX = "SI-Desmigratif: "
SUMMARIES = PREFIX + "refresh the dashboards' summary tables"
REAPER = PREFIX + "re-queue stuck report jobs"
CLEANUP = PREFIX + "remove old report files"
MONTHLY = PREFIX + "monthly scheduled reports"
NOTIFY = PREFIX + "e-mail built scheduled reports to subscribers"
RETENTION = PREFIX + "anonymise records past the retention period"
NOTIFY_EVERY_MINUTES = 10

# A built scheduled job is announced within this long after it was built; each (job, user)
# pair is remembered in the cache for longer than that, so nobody gets the same link twice.
NOTIFY_WINDOW = datetime.timedelta(days=3)
NOTIFIED_TIMEOUT = int(datetime.timedelta(days=10).total_seconds())


# --- Beat entries ----------------------------------------------------------------------------


def _entries() -> list[dict]:
    minutes = settings.SUMMARY_REFRESH_MINUTES
    return [
        # A run that could not start before the next one is due is dropped (expire_seconds):
        # a worker that was down does not face a backlog of identical refreshes.
        {"name": SUMMARIES, "task": "dashboards.tasks.refresh_summaries",
         "interval": minutes, "expire_seconds": minutes * 60},
        {"name": REAPER, "task": "reports.tasks.reap_stuck_reports",
         "interval": 5, "expire_seconds": 5 * 60},
        {"name": NOTIFY, "task": "reports.schedules.notify_subscribers",
         "interval": NOTIFY_EVERY_MINUTES, "expire_seconds": NOTIFY_EVERY_MINUTES * 60},
        {"name": CLEANUP, "task": "reports.tasks.remove_old_reports",
         "crontab": {"minute": "30", "hour": "3"}},
        {"name": MONTHLY, "task": "reports.schedules.monthly_reports",
         "crontab": {"minute": "0", "hour": "2", "day_of_month": "1"}},
        # The personal-data law's retention rule (migrants.privacy): nightly, idempotent.
        {"name": RETENTION, "task": "migrants.privacy.anonymise_expired_records",
         "crontab": {"minute": "45", "hour": "3"}},
    ]  # fmt: skip


def install_schedules(apps=django_apps) -> list[str]:
    """Create or update the beat entries; returns their names. `apps` is the migration's
    registry when a data migration calls it."""
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    interval_schedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    crontab_schedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    periodic_tasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    names = []
    for entry in _entries():
        schedule = {"interval": None, "crontab": None, "solar": None, "clocked": None}
        if "interval" in entry:
            fields = {"every": entry["interval"], "period": "minutes"}
            schedule["interval"] = interval_schedule.objects.filter(**fields).order_by(
                "pk"
            ).first() or interval_schedule.objects.create(**fields)
        else:
            fields = {
                "minute": "*",
                "hour": "*",
                "day_of_week": "*",
                "day_of_month": "*",
                "month_of_year": "*",
                **entry["crontab"],
                "timezone": settings.TIME_ZONE,  # Asia/Jakarta: "02:00" is a Jakarta 02:00
            }
            schedule["crontab"] = crontab_schedule.objects.filter(**fields).order_by(
                "pk"
            ).first() or crontab_schedule.objects.create(**fields)
        periodic_task.objects.update_or_create(
            name=entry["name"],
            defaults={
                "task": entry["task"],
                "expire_seconds": entry.get("expire_seconds"),
                "one_off": False,
                **schedule,
            },
        )
        names.append(entry["name"])
    # Tell a running beat to reload its schedule (PeriodicTask.save does it, but a migration
    # works with historical models, which have no save() of their own).
    periodic_tasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})
    return names


def uninstall_schedules(apps=django_apps) -> None:
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    periodic_task.objects.filter(name__in=[entry["name"] for entry in _entries()]).delete()
    apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


# --- Who may subscribe to what ----------------------------------------------------------------


def subscribable_kinds(user: User) -> list[str]:
    """Regency recaps for those who oversee regencies (coordinators, province and national
    users); the national evaluation for national users."""
    if not user.is_active:
        return []
    kinds = []
    if user.is_national or user.role in (Role.COORDINATOR, Role.PROVINCE_VIEWER):
        kinds.append(ReportKind.REGENCY_RECAP)
    if user.is_national:
        kinds.append(ReportKind.NATIONAL_EVALUATION)
    return [kind for kind in kinds if services.may_request_kind(user, kind)]


@transaction.atomic
def subscriptions_set(*, user: User, wanted: set[tuple[str, str]]) -> list[ReportSubscription]:
    """The user's subscriptions become exactly `wanted` ((kind, format) pairs)."""
    allowed = set(subscribable_kinds(user))
    if any(kind not in allowed for kind, _format in wanted):
        raise PermissionDenied
    if any(fmt not in ReportFormat.values for _kind, fmt in wanted):
        raise ValidationError(_("Unknown format."))
    existing = {(s.kind, s.format): s for s in ReportSubscription.objects.filter(user=user)}
    stale = [s.pk for pair, s in existing.items() if pair not in wanted]
    ReportSubscription.objects.filter(pk__in=stale).delete()
    for kind, fmt in sorted(wanted - set(existing)):
        subscription = ReportSubscription(user=user, kind=kind, format=fmt)
        subscription.full_clean()
        subscription.save()
    return list(ReportSubscription.objects.filter(user=user).order_by("kind", "format"))


# --- The monthly reports -----------------------------------------------------------------------


def previous_month(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end


def request_monthly_reports(*, today: datetime.date) -> list[ReportJob]:
    """Last month's regency recaps and national evaluation, as scheduled jobs. In xlsx always
    (the monthly archive), and in PDF too where a subscriber covering the area wants it.
    Asking again (a second run, a redelivered message) joins the same jobs."""
    start, end = previous_month(today)
    regencies = sorted(
        {
            code[:5]
            for code in Designation.objects.filter(status=Designation.Status.ACTIVE).values_list(
                "village_id", flat=True
            )
        }
    )
    regencies = list(
        Region.objects.filter(
            code__in=regencies, level=Region.Level.REGENCY, retired_at__isnull=True
        ).values_list("code", flat=True)
    )
    subscriptions = list(
        ReportSubscription.objects.filter(user__is_active=True).select_related("user")
    )
    wanted: list[tuple[str, str | None, str]] = []
    for kind, areas in (
        (ReportKind.REGENCY_RECAP, regencies),
        (ReportKind.NATIONAL_EVALUATION, [None]),
    ):
        for area in areas:
            formats = {ReportFormat.XLSX.value} | {
                s.format for s in subscriptions if s.kind == kind and services.covers(s.user, area)
            }
            wanted += [(kind, area, fmt) for fmt in sorted(formats)]
    jobs = []
    for kind, area, fmt in wanted:
        try:
            jobs.append(
                services.request_report(
                    user=None,
                    kind=kind,
                    format=fmt,
                    scope_code=area,
                    period_start=start,
                    period_end=end,
                    scheduled=True,
                )
            )
        except ValidationError as exc:
            # One bad area (a region retired by a new edition) must not stop the others.
            logger.warning("scheduled %s %s %s not requested: %s", kind, area, fmt, exc)
    return jobs


def site_url() -> str:
    """The site's address for links in e-mails sent without a request: SITE_URL, else the
    first trusted origin (https://desmigratif.example.go.id), else the first allowed host."""
    url = getattr(settings, "SITE_URL", "") or next(iter(settings.CSRF_TRUSTED_ORIGINS), "")
    if not url:
        hosts = [h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")]
        url = f"http://{hosts[0] if hosts else 'localhost'}"
    return url.rstrip("/")


def _notified_key(job_id, user_id) -> str:
    return f"reports:notified:{job_id}:{user_id}"


def notify(*, now: datetime.datetime | None = None) -> int:
    """E-mail each subscriber the scheduled jobs of their kinds, formats and area that were
    built lately and not yet announced to them; returns the number of e-mails sent.

    A subscriber is written to once all their jobs of the round are finished (built or failed;
    the reaper ends the stuck ones), so a province gets one e-mail, not one per regency.
    """
    now = now or timezone.now()
    recent = ReportJob.objects.filter(
        scheduled=True, created_at__gte=now - NOTIFY_WINDOW - datetime.timedelta(days=1)
    ).select_related("scope")
    jobs = [
        job
        for job in recent
        if job.state in (ReportJob.State.QUEUED, ReportJob.State.RUNNING)
        or (
            job.state == ReportJob.State.DONE
            and job.file
            and job.finished_at
            and job.finished_at >= now - NOTIFY_WINDOW
        )
    ]
    if not jobs:
        return 0
    by_user: dict[int, list[ReportSubscription]] = defaultdict(list)
    for subscription in (
        ReportSubscription.objects.filter(user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
    ):
        by_user[subscription.user_id].append(subscription)
    sent = 0
    base = site_url()
    for subscriptions in by_user.values():
        user = subscriptions[0].user
        allowed = set(subscribable_kinds(user))
        wanted = {(s.kind, s.format) for s in subscriptions if s.kind in allowed}
        mine = [
            j for j in jobs if (j.kind, j.format) in wanted and services.covers(user, j.scope_id)
        ]
        if not mine or any(j.state != ReportJob.State.DONE for j in mine):
            continue
        claimed = [j for j in mine if cache.add(_notified_key(j.pk, user.pk), 1, NOTIFIED_TIMEOUT)]
        if not claimed:
            continue
        try:
            _send(user, claimed, base)
        except Exception:
            logger.exception("scheduled reports: e-mail to user %s failed", user.pk)
            cache.delete_many([_notified_key(j.pk, user.pk) for j in claimed])
            continue
        sent += 1
    return sent


def _send(user: User, jobs: list[ReportJob], base: str) -> None:
    jobs = sorted(jobs, key=lambda j: (j.kind != ReportKind.NATIONAL_EVALUATION, j.scope_id or ""))
    with translation.override(settings.LANGUAGE_CODE):
        items = [
            {
                "title": str(job),
                "area": job.scope.label if job.scope_id else _("National"),
                "format": job.get_format_display(),
                "url": base + reverse("reports:detail", args=[job.pk]),
            }
            for job in jobs
        ]
        context = {
            "user": user,
            "items": items,
            "keep_days": settings.REPORT_KEEP_DAYS,
            "subscriptions_url": base + reverse("subscriptions:list"),
        }
        subject = _("Monthly Desmigratif reports are ready")
        body = render_to_string("reports/subscriptions_email.txt", context)
    send_mail(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject,
        message=body,
        from_email=None,
        recipient_list=[user.email],
    )


# --- Tasks (thin) ---------------------------------------------------------------------------


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660, ignore_result=True)
def monthly_reports() -> int:
    jobs = request_monthly_reports(today=timezone.localdate())
    # With tasks inline (no broker) the jobs are built by now; with workers, the beat entry
    # of notify_subscribers finds them when they are done.
    notify_subscribers.delay_on_commit()
    return len(jobs)


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360, ignore_result=True)
def notify_subscribers() -> int:
    return notify()
