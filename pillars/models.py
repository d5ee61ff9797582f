"""The programme's pillars and what villages do in them.

Pillars are data: a programme variant holds ordered pillars, each of a `kind` that says which
register records its work (the four Desmigratif kinds, or `other` for pillars a later variant
adds, recorded as general activities). Every activity row carries its village and its pillar,
so "is this pillar active in this village" is one look at the rows' dates.
"""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from villages.models import Region


class ProgrammeVariant(models.Model):
    """A version of the programme (Desmigratif with four pillars, Desa Migran Emas, ...).

    Pillars are data, not code: the programme changes and administrators configure it.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("programme variant")
        verbose_name_plural = _("programme variants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PillarKind(models.TextChoices):
    """Which register records a pillar's work."""

    SERVICE_CENTRE = "service_centre", _("migration service centre")
    ENTERPRISE = "enterprise", _("productive enterprises")
    PARENTING = "parenting", _("community parenting")
    COOPERATIVE = "cooperative", _("cooperative / BUMDes")
    OTHER = "other", _("other activities")


class Pillar(models.Model):
    variant = models.ForeignKey(
        ProgrammeVariant,
        verbose_name=_("programme variant"),
        on_delete=models.PROTECT,
        related_name="pillars",
    )
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PillarKind.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pillar")
        verbose_name_plural = _("pillars")
        ordering = ["variant_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["variant", "code"], name="pillar_code_per_variant"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class ScopedQuerySet(models.QuerySet):
    """Rows that carry a `village`: the user's scope, living rows only."""

    village_path = "village"

    def for_user(self, user):
        from accounts.scope import scope_filter

        condition = scope_filter(user, self.village_path)
        if condition is None:
            return self.none()
        return self.filter(condition)

    def alive(self):
        return self.filter(deleted_at__isnull=True)


class VillageRecord(models.Model):
    """What every pillar record has: its village and pillar, who wrote it, soft deletion
    (a deleted record keeps its row and its audit trail)."""

    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )
    pillar = models.ForeignKey(
        Pillar, verbose_name=_("pillar"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True


# --- Pillar 1: migration service centre ----------------------------------------------------


class ServiceType(models.TextChoices):
    INFORMATION = "information", _("information")
    SAFE_MIGRATION = "safe_migration", _("safe-migration education")
    DOCUMENT_KTP = "document_ktp", _("document help: KTP")
    DOCUMENT_KK = "document_kk", _("document help: KK")
    DOCUMENT_PASSPORT = "document_passport", _("document help: passport recommendation")
    JOB_INFORMATION = "job_information", _("job information")
    COMPLAINT = "complaint", _("complaint intake")
    DEPARTURE_MONITORING = "departure_monitoring", _("departure monitoring")
    RETURN_MONITORING = "return_monitoring", _("return monitoring")
    FAMILY_HELP = "family_help", _("family help")
    REFERRAL = "referral", _("referral")


class ServiceLog(VillageRecord):
    date = models.DateField(_("date"))
    person = models.ForeignKey(
        "migrants.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
    )
    service_type = models.CharField(_("service"), max_length=24, choices=ServiceType.choices)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("officer"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("service log")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["village", "pillar", "date"], name="service_village")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_service_type_display()}"


class Outreach(VillageRecord):
    """A sosialisasi: an information event, with attendance by sex."""

    date = models.DateField(_("date"))
    topic = models.CharField(_("topic"), max_length=200)
    location = models.CharField(_("place"), max_length=200, blank=True)
    attendees_male = models.PositiveIntegerField(_("men attending"), default=0)
    attendees_female = models.PositiveIntegerField(_("women attending"), default=0)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("outreach event")
        verbose_name_plural = _("outreach events")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["village", "pillar", "date"], name="outreach_village")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.topic}"

    @property
    def attendees(self) -> int:
        return self.attendees_male + self.attendees_female


# --- Pillar 2: productive enterprises --------------------------------------------------------


class Enterprise(VillageRecord):
    class Sector(models.TextChoices):
        AGRICULTURE = "agriculture", _("agriculture")
        LIVESTOCK = "livestock", _("livestock")
        FISHERY = "fishery", _("fishery")
        FOOD = "food", _("food and drink")
        CRAFT = "craft", _("crafts")
        TRADE = "trade", _("trade")
        SERVICES = "services", _("services")
        OTHER = "other", _("other")

    class State(models.TextChoices):
        RUNNING = "running", _("running")
        STOPPED = "stopped", _("stopped")

    class Revenue(models.TextChoices):
        UNDER_1M = "lt1", _("under Rp 1 million a month")
        FROM_1M = "1-5", _("Rp 1–5 million a month")
        FROM_5M = "5-25", _("Rp 5–25 million a month")
        OVER_25M = "gt25", _("over Rp 25 million a month")

    owner = models.ForeignKey(
        "migrants.Person",
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="enterprises",
    )
    name = models.CharField(_("name"), max_length=200)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices)
    products = models.CharField(_("products"), max_length=255, blank=True)
    start_date = models.DateField(_("started on"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.RUNNING
    )
    workers = models.PositiveIntegerField(_("workers"), default=1)
    revenue_band = models.CharField(
        _("monthly revenue"), max_length=5, choices=Revenue.choices, blank=True
    )
    export_ready = models.BooleanField(_("export-ready"), default=False)
    assistance = models.TextField(_("assistance received"), blank=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["village", "state"], name="enterprise_village")]

    def __str__(self) -> str:
        return self.name


class Training(VillageRecord):
    topic = models.CharField(_("topic"), max_length=200)
    organiser = models.CharField(_("organiser"), max_length=200)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"))
    participants = models.ManyToManyField(
        "migrants.Person",
        verbose_name=_("participants"),
        blank=True,
        related_name="trainings",
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("training")
        verbose_name_plural = _("trainings")
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["village", "pillar", "end_date"], name="training_village")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="training_dates_in_order"
            )
        ]

    def __str__(self) -> str:
        return self.topic


# --- Pillar 3: community parenting -----------------------------------------------------------


class ParentingGroup(VillageRecord):
    """A Rumah Belajar or parenting group."""

    name = models.CharField(_("name"), max_length=200)
    facilitators = models.CharField(
        _("facilitators"), max_length=255, help_text=_("Names, separated by commas.")
    )
    meeting_place = models.CharField(_("meeting place"), max_length=200, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("parenting group")
        verbose_name_plural = _("parenting groups")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ParentingSession(VillageRecord):
    group = models.ForeignKey(
        ParentingGroup, verbose_name=_("group"), on_delete=models.PROTECT, related_name="sessions"
    )
    date = models.DateField(_("date"))
    topic = models.CharField(_("topic"), max_length=200)
    children_attending = models.PositiveIntegerField(_("children attending"), default=0)
    adults_attending = models.PositiveIntegerField(_("parents and carers attending"), default=0)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("parenting session")
        verbose_name_plural = _("parenting sessions")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["village", "pillar", "date"], name="session_village")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.topic}"


class ChildQuerySet(ScopedQuerySet):
    def for_user(self, user):
        from accounts.permissions import Action, can

        if not can(user, Action.VIEW_CHILDREN):
            return self.none()
        return super().for_user(user)


class ChildEnrolment(VillageRecord):
    """A child of a migrant family in a group. Children's data: only roles that need it."""

    group = models.ForeignKey(
        ParentingGroup,
        verbose_name=_("group"),
        on_delete=models.PROTECT,
        related_name="enrolments",
    )
    child = models.ForeignKey(
        "migrants.Person",
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        related_name="enrolments",
    )
    enrolled_on = models.DateField(_("enrolled on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    objects = ChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrolled child")
        verbose_name_plural = _("enrolled children")
        ordering = ["-enrolled_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "child"],
                condition=Q(deleted_at__isnull=True),
                name="child_once_per_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.group} #{self.pk}"


# --- Pillar 4: cooperative / BUMDes / financial institution ---------------------------------


class Cooperative(VillageRecord):
    class Type(models.TextChoices):
        COOPERATIVE = "cooperative", _("cooperative")
        BUMDES = "bumdes", _("BUMDes")
        FINANCIAL = "financial", _("financial institution")
        OTHER = "other", _("other")

    class State(models.TextChoices):
        ACTIVE = "active", _("active")
        DORMANT = "dormant", _("dormant")
        DISSOLVED = "dissolved", _("dissolved")

    type = models.CharField(_("type"), max_length=12, choices=Type.choices)
    name = models.CharField(_("name"), max_length=200)
    legal_number = models.CharField(_("legal entity number"), max_length=100, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ACTIVE)

    class Meta:
        verbose_name = _("cooperative / BUMDes")
        verbose_name_plural = _("cooperatives / BUMDes")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CooperativeMember(VillageRecord):
    cooperative = models.ForeignKey(
        Cooperative,
        verbose_name=_("cooperative"),
        on_delete=models.PROTECT,
        related_name="members",
    )
    person = models.ForeignKey(
        "migrants.Person",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-joined_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cooperative", "person"],
                condition=Q(deleted_at__isnull=True),
                name="member_once_per_cooperative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.cooperative} #{self.pk}"


class CooperativePeriod(VillageRecord):
    """The figures of one month (the first day of the month)."""

    cooperative = models.ForeignKey(
        Cooperative,
        verbose_name=_("cooperative"),
        on_delete=models.PROTECT,
        related_name="periods",
    )
    period = models.DateField(_("month"))
    capital = models.DecimalField(
        _("capital (Rp)"), max_digits=15, decimal_places=0, validators=[MinValueValidator(0)]
    )
    loans_disbursed = models.DecimalField(
        _("loans disbursed in the month (Rp)"),
        max_digits=15,
        decimal_places=0,
        default=0,
        validators=[MinValueValidator(0)],
    )
    loans_outstanding = models.DecimalField(
        _("loans outstanding (Rp)"),
        max_digits=15,
        decimal_places=0,
        default=0,
        validators=[MinValueValidator(0)],
    )

    class Meta:
        verbose_name = _("monthly figures")
        verbose_name_plural = _("monthly figures")
        ordering = ["-period", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cooperative", "period"],
                condition=Q(deleted_at__isnull=True),
                name="figures_once_per_month",
            )
        ]
        indexes = [models.Index(fields=["village", "pillar", "period"], name="period_village")]

    def __str__(self) -> str:
        return f"{self.cooperative} {self.period:%Y-%m}"


# --- Other pillars (a later variant's) --------------------------------------------------------


class Activity(VillageRecord):
    """Work in a pillar that has no register of its own (a pillar of kind `other`)."""

    date = models.DateField(_("date"))
    title = models.CharField(_("activity"), max_length=200)
    participants = models.PositiveIntegerField(_("participants"), default=0)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["village", "pillar", "date"], name="activity_village")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.title}"


# --- Partners and referrals --------------------------------------------------------------------


class Partner(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerProgramme(models.Model):
    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="programmes"
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner programme")
        verbose_name_plural = _("partner programmes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Referral(VillageRecord):
    """A person or an enterprise referred to a partner programme: referred -> accepted ->
    disbursed, or rejected."""

    class Stage(models.TextChoices):
        REFERRED = "referred", _("referred")
        ACCEPTED = "accepted", _("accepted")
        DISBURSED = "disbursed", _("disbursed")
        REJECTED = "rejected", _("rejected")

    programme = models.ForeignKey(
        PartnerProgramme,
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    person = models.ForeignKey(
        "migrants.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    stage = models.CharField(
        _("stage"), max_length=10, choices=Stage.choices, default=Stage.REFERRED
    )
    referred_on = models.DateField(_("referred on"))
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    disbursed_on = models.DateField(_("disbursed on"), null=True, blank=True)
    rejected_on = models.DateField(_("rejected on"), null=True, blank=True)
    amount_requested = models.DecimalField(
        _("amount requested (Rp)"),
        max_digits=15,
        decimal_places=0,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    amount_disbursed = models.DecimalField(
        _("amount disbursed (Rp)"),
        max_digits=15,
        decimal_places=0,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-referred_on", "-id"]
        indexes = [
            models.Index(fields=["village", "pillar", "referred_on"], name="referral_village")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(enterprise__isnull=False),
                name="referral_has_someone",
            ),
            models.CheckConstraint(
                condition=~Q(stage="disbursed")
                | Q(disbursed_on__isnull=False, amount_disbursed__isnull=False),
                name="referral_disbursed_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} #{self.pk}"


# --- Cases and complaints (sensitive) --------------------------------------------------------


class CaseQuerySet(ScopedQuerySet):
    def for_user(self, user):
        from accounts.permissions import Action, can

        if not can(user, Action.VIEW_CASES):
            return self.none()
        return super().for_user(user)


class Case(VillageRecord):
    class Type(models.TextChoices):
        WANTS_HOME = "wants_home", _("wants to go home")
        FAILED_DEPARTURE = "failed_departure", _("failed to depart")
        UNPAID_WAGES = "unpaid_wages", _("unpaid wages")
        SOCIAL_SECURITY = "social_security", _("social security")
        DEATH = "death", _("death")
        ILLNESS = "illness", _("illness")
        DEPORTATION = "deportation", _("deportation / repatriation")
        JOB_SCAM = "job_scam", _("job scam")
        TRAFFICKING = "trafficking", _("trafficking")
        PLACEMENT_FEES = "placement_fees", _("placement fees")
        OTHER = "other", _("other")

    class Channel(models.TextChoices):
        WALK_IN = "walk_in", _("came to the office")
        PHONE = "phone", pgettext_lazy("complaint channel", "phone")
        MESSAGE = "message", _("WhatsApp / message")
        LETTER = "letter", _("letter")
        SOCIAL_MEDIA = "social_media", _("social media")
        AGENCY = "agency", _("referred by an agency")

    class Resolution(models.TextChoices):
        OPEN = "open", _("open")
        IN_PROGRESS = "in_progress", _("being handled")
        RESOLVED = "resolved", _("resolved")
        UNRESOLVED = "unresolved", _("closed, not resolved")

    person = models.ForeignKey(
        "migrants.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    case_type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    country = models.CharField(_("country"), max_length=2, blank=True)
    procedural_status = models.CharField(
        _("procedural"),
        max_length=16,
        choices=[
            ("procedural", _("procedural")),
            ("non_procedural", _("non-procedural")),
            ("unknown", _("unknown")),
        ],
        default="unknown",
    )
    reported_on = models.DateField(_("reported on"))
    summary = models.TextField(_("what happened"))
    resolution = models.CharField(
        _("resolution"), max_length=12, choices=Resolution.choices, default=Resolution.OPEN
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases and complaints")
        ordering = ["-reported_on", "-id"]
        indexes = [models.Index(fields=["village", "pillar", "reported_on"], name="case_village")]

    def __str__(self) -> str:
        return f"{self.get_case_type_display()} #{self.pk}"


class CaseStep(models.Model):
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="steps"
    )
    date = models.DateField(_("date"))
    action = models.CharField(_("what was done"), max_length=255)
    notes = models.TextField(_("notes"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("handling step")
        verbose_name_plural = _("handling steps")
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.action}"


# --- Monthly village report -------------------------------------------------------------------


class MonthlyReportQuerySet(models.QuerySet):
    def for_user(self, user):
        from accounts.scope import scope_filter

        condition = scope_filter(user, "village")
        return self.none() if condition is None else self.filter(condition)


class MonthlyReport(models.Model):
    """The laporan bulanan: the month's figures (taken from the data when submitted) and the
    officer's narrative; draft -> submitted -> verified, or returned with a comment."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        VERIFIED = "verified", _("verified")
        RETURNED = "returned", _("returned for correction")

    village = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    narrative = models.TextField(_("narrative"), blank=True)
    obstacles = models.TextField(_("obstacles"), blank=True)
    plans = models.TextField(_("plans for next month"), blank=True)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    review_comment = models.TextField(_("coordinator's comment"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = MonthlyReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-month", "village_id"]
        constraints = [
            models.UniqueConstraint(fields=["village", "month"], name="report_once_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="report_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.village_id} {self.month:%Y-%m}"

    def clean(self) -> None:
        if self.month and self.month.day != 1:
            raise ValidationError({"month": _("Give the first day of the month.")})

    @property
    def month_end(self) -> datetime.date:
        following = (self.month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        return following - datetime.timedelta(days=1)


# --- Audit ---------------------------------------------------------------------------------------


class AuditQuerySet(models.QuerySet):
    def for_user(self, user):
        from accounts.scope import scope_filter

        condition = scope_filter(user, "village")
        return self.none() if condition is None else self.filter(condition)


class AuditEntry(models.Model):
    """Who created, changed or deleted which pillar record, when, and what changed."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("changed")
        DELETED = "deleted", _("deleted")
        SUBMITTED = "submitted", _("submitted")
        VERIFIED = "verified", _("verified")
        RETURNED = "returned", _("returned")
        IMPORTED = "imported", _("imported")

    at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_constraint=False,
    )
    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    model = models.CharField(_("record type"), max_length=40)
    object_id = models.CharField(max_length=40)
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_id", "-at"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.model} {self.get_action_display()}"


# --- Imports of the list-like registers ---------------------------------------------------------


class PillarImportQuerySet(models.QuerySet):
    def for_user(self, user):
        from accounts.scope import scope_filter

        condition = scope_filter(user, "village")
        return self.none() if condition is None else self.filter(condition)


class PillarImport(models.Model):
    """One uploaded spreadsheet of enterprises, cooperative members or parenting attendance for
    one village: checked, previewed, then committed in one transaction (or not at all)."""

    class Target(models.TextChoices):
        ENTERPRISES = "enterprises", _("enterprises")
        MEMBERS = "members", _("cooperative members")
        ATTENDANCE = "attendance", _("parenting sessions (attendance)")

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("waiting to be checked")
        VALIDATING = "validating", _("being checked")
        CHECKED = "checked", _("checked, waiting for confirmation")
        REJECTED = "rejected", _("cannot be imported")
        COMMITTING = "committing", _("being imported")
        COMMITTED = "committed", _("imported")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    target = models.CharField(_("register"), max_length=12, choices=Target.choices)
    village = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    file = models.FileField(_("file"), upload_to="imports/pillars/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("size"))
    kind = models.CharField(max_length=10, blank=True)  # xlsx or csv, as read
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.UPLOADED
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    # [{"row": n, "column": "...", "level": "error" | "warning", "message": "..."}]; row 1 is
    # the header (problems of the file as a whole).
    problems = models.JSONField(_("problems"), default=list, blank=True)
    # Per row: [row number, outcome, what the row is about] for the preview.
    outcomes = models.JSONField(default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    objects = PillarImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("pillar import")
        verbose_name_plural = _("pillar imports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["village", "-created_at"], name="pillar_import_village")]
        constraints = [
            models.CheckConstraint(
                name="pillar_import_state_valid",
                condition=Q(
                    state__in=[
                        "uploaded",
                        "validating",
                        "checked",
                        "rejected",
                        "committing",
                        "committed",
                        "failed",
                        "cancelled",
                    ]
                ),
            ),
            models.CheckConstraint(
                name="pillar_import_target_valid",
                condition=Q(target__in=["enterprises", "members", "attendance"]),
            ),
            models.CheckConstraint(
                name="pillar_import_progress_range", condition=Q(progress__lte=100)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_running(self) -> bool:
        return self.state in (self.State.UPLOADED, self.State.VALIDATING, self.State.COMMITTING)
