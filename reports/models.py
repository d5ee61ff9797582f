"""Report jobs: the job table, not Celery's result store, is the truth about a report.

A job is requested for a kind, a scope (a region, or the country), a period and a format; the
Celery task claims its row, builds the file under a temporary name and publishes it atomically.
A job that is done is never built again; a retried job never yields two files.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from villages.models import Region


class ReportKind(models.TextChoices):
    VILLAGE_MONTHLY = "village_monthly", _("village monthly report")
    REGENCY_RECAP = "regency_recap", _("regency recap")
    NATIONAL_EVALUATION = "national_evaluation", _("national evaluation report")
    PLACEMENTS = "placements", _("placement statistics")
    REGISTER = "register", _("register export (masked)")


class ReportFormat(models.TextChoices):
    XLSX = "xlsx", "Excel (xlsx)"
    PDF = "pdf", "PDF"


class ReportJobQuerySet(models.QuerySet):
    def for_user(self, user):
        """Jobs whose scope lies inside the user's scope (a national job: national users)."""
        from accounts.scope import region_scope_filter

        condition = region_scope_filter(user, "scope")
        if condition is None:
            return self.none()
        if condition == Q():
            return self
        return self.filter(condition)


class ReportJob(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", pgettext_lazy("report state", "running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("report"), max_length=24, choices=ReportKind.choices)
    format = models.CharField(_("format"), max_length=4, choices=ReportFormat.choices)
    # The area the report covers; null = the whole country.
    scope = models.ForeignKey(
        Region,
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    cohort_year = models.PositiveSmallIntegerField(_("cohort"), null=True, blank=True)
    # Same request, same key: a double click or a second request of a running report joins
    # the existing job instead of building the file twice.
    idempotency_key = models.CharField(max_length=64, unique=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(_("reason"), blank=True)
    file = models.CharField(max_length=255, blank=True)  # path under MEDIA_ROOT once published
    size = models.PositiveBigIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    scheduled = models.BooleanField(_("scheduled"), default=False)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = ReportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "started_at"], name="reportjob_state")]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="report_period_order"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_progress_max"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start:%Y-%m}–{self.period_end:%Y-%m}"


class ReportDownload(models.Model):
    """Every download of a report file: who, when."""

    job = models.ForeignKey(ReportJob, on_delete=models.CASCADE, related_name="downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=8, default="web")  # web / api

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.job_id} {self.at:%Y-%m-%d %H:%M}"


class ReportSubscription(models.Model):
    """A user who receives the monthly scheduled report of a kind, by e-mail (a link)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    kind = models.CharField(
        _("report"),
        max_length=24,
        choices=[
            (ReportKind.REGENCY_RECAP, ReportKind.REGENCY_RECAP.label),
            (ReportKind.NATIONAL_EVALUATION, ReportKind.NATIONAL_EVALUATION.label),
        ],
    )
    format = models.CharField(
        _("format"), max_length=4, choices=ReportFormat.choices, default=ReportFormat.XLSX
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "format"], name="subscription_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.format}"
