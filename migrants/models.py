import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from villages.models import Region


class Sex(models.TextChoices):
    MALE = "L", _("male")
    FEMALE = "P", _("female")


class Status(models.TextChoices):
    """Follows from the latest migration episode; kept by the services, never edited by hand."""

    FAMILY = "keluarga", _("family member")
    CPMI = "cpmi", _("CPMI (prospective)")
    PMI = "pmi", _("PMI (abroad)")
    PURNA = "purna", _("purna PMI (returned)")


class Verification(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    VERIFIED = "verified", _("verified")
    RETURNED = "returned", _("returned to the village")


class Education(models.TextChoices):
    NONE = "none", _("no schooling")
    SD = "sd", _("primary school (SD)")
    SMP = "smp", _("junior secondary (SMP)")
    SMA = "sma", _("senior secondary (SMA/SMK)")
    DIPLOMA = "diploma", _("diploma (D1-D4)")
    BACHELOR = "s1", _("bachelor (S1)")
    POSTGRADUATE = "s2", _("postgraduate (S2/S3)")


class MaritalStatus(models.TextChoices):
    SINGLE = "single", _("not married")
    MARRIED = "married", _("married")
    DIVORCED = "divorced", _("divorced")
    WIDOWED = "widowed", _("widowed")


class Relationship(models.TextChoices):
    """Relationship to the head of the household, as on the family card (KK)."""

    HEAD = "head", _("head of household")
    SPOUSE = "spouse", _("husband/wife")
    CHILD = "child", _("child")
    CHILD_IN_LAW = "child_in_law", _("son/daughter-in-law")
    GRANDCHILD = "grandchild", _("grandchild")
    PARENT = "parent", pgettext_lazy("household", "parent")
    PARENT_IN_LAW = "parent_in_law", _("parent-in-law")
    OTHER_FAMILY = "other_family", _("other family")
    OTHER = "other", _("other")


class Sector(models.TextChoices):
    FORMAL = "formal", _("formal")
    INFORMAL = "informal", _("informal")


class EmployerType(models.TextChoices):
    INDIVIDUAL = "individual", _("individual (household)")
    LEGAL_ENTITY = "legal_entity", _("legal entity (company)")


class PlacementScheme(models.TextChoices):
    G_TO_G = "g2g", _("G to G")
    G_TO_P = "g2p", _("G to P")
    P_TO_P = "p2p", _("P to P")
    UKPS = "ukps", _("UKPS (intra-company)")
    MANDIRI = "mandiri", _("Mandiri (independent)")


class ReturnReason(models.TextChoices):
    CONTRACT_ENDED = "contract_ended", _("contract ended")
    LEAVE = "leave", _("leave")
    DEPORTED = "deported", _("deported")
    PROBLEM = "problem", _("problem")
    DEATH = "death", _("death")


class Procedural(models.TextChoices):
    PROCEDURAL = "procedural", _("procedural")
    NON_PROCEDURAL = "non_procedural", _("non-procedural")
    UNKNOWN = "unknown", _("unknown")


class ProceduralSource(models.TextChoices):
    SELF_REPORTED = "self_reported", _("self-reported")
    OFFICER = "officer", _("officer assessment")
    NATIONAL_REGISTER = "national_register", _("national register match")


CHILD_AGE = 18


def child_cutoff(today: datetime.date | None = None) -> datetime.date:
    """People born after this date are children."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - CHILD_AGE)
    except ValueError:  # 29 February
        return today.replace(year=today.year - CHILD_AGE, day=28)


class PersonQuerySet(models.QuerySet):
    def for_user(self, user) -> "PersonQuerySet":
        """People of the user's scope; children only for roles that work with them."""
        from accounts.permissions import Action, can
        from accounts.scope import scope_filter

        condition = scope_filter(user, "village")
        if condition is None:
            return self.none()
        queryset = self.filter(condition)
        if not can(user, Action.VIEW_CHILDREN):
            queryset = queryset.filter(birth_date__lte=child_cutoff())
        return queryset

    def alive(self) -> "PersonQuerySet":
        """Not deleted (deleted records stay, for the history and for undo)."""
        return self.filter(deleted_at__isnull=True)

    def children(self) -> "PersonQuerySet":
        return self.filter(birth_date__gt=child_cutoff())


class Person(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    nik = models.CharField(
        _("NIK"),
        max_length=16,
        null=True,
        blank=True,
        unique=True,
        help_text=_("16-digit national ID number; leave empty if the person has none yet."),
    )
    no_kk = models.CharField(_("No. KK"), max_length=16, blank=True)
    full_name = models.CharField(_("full name"), max_length=150)
    name_key = models.CharField(max_length=150, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_place = models.CharField(_("place of birth"), max_length=100, blank=True)
    birth_date = models.DateField(_("date of birth"))
    # No index of its own: the composite indexes below start with the village code (with
    # pattern operators, so they serve both one village and a regency's prefix), and every
    # index costs the bulk import its share of the write time.
    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="persons",
        db_index=False,
    )
    dusun = models.CharField(_("dusun"), max_length=100, blank=True)
    rt = models.CharField(_("RT"), max_length=3, blank=True)
    rw = models.CharField(_("RW"), max_length=3, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    education = models.CharField(
        _("education"), max_length=10, choices=Education.choices, blank=True
    )
    marital_status = models.CharField(
        _("marital status"), max_length=10, choices=MaritalStatus.choices, blank=True
    )
    relationship = models.CharField(
        _("relationship to the household head"),
        max_length=15,
        choices=Relationship.choices,
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.FAMILY, editable=False
    )
    # Copied from the latest episode by the services, like the status, for fast filters.
    current_country = models.CharField(
        _("destination country"), max_length=2, blank=True, editable=False
    )
    current_procedural = models.CharField(
        _("procedural status"), max_length=20, blank=True, editable=False
    )
    verification = models.CharField(
        _("verification"),
        max_length=10,
        choices=Verification.choices,
        default=Verification.DRAFT,
        editable=False,
    )
    verification_note = models.TextField(_("verification note"), blank=True, editable=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_index=False,
    )
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    nik_warnings = models.JSONField(default=list, blank=True, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_index=False,
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
        editable=False,
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)
    # Set when the retention rule emptied a deleted record (migrants.privacy): what is left is
    # a tombstone without personal data, kept for the references to it.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            # Pattern operators, so "a regency's people with this status" is one range scan
            # on the region-code prefix (the default operators only serve equality there).
            models.Index(
                fields=["village", "status"],
                name="person_village_status",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(
                fields=["village", "verification"],
                name="person_village_verif",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(fields=["updated_at"], name="person_updated"),
            models.Index(fields=["village", "name_key"], name="person_village_name"),
            models.Index(fields=["no_kk"], name="person_no_kk"),  # households: equality only
            models.Index(fields=["name_key", "birth_date"], name="person_name_birth"),
        ]
        constraints = [
            models.CheckConstraint(
                name="person_status_valid", condition=Q(status__in=Status.values)
            ),
            models.CheckConstraint(name="person_sex_valid", condition=Q(sex__in=Sex.values)),
            models.CheckConstraint(
                name="person_verification_valid", condition=Q(verification__in=Verification.values)
            ),
            models.CheckConstraint(
                name="person_nik_not_blank", condition=Q(nik__isnull=True) | ~Q(nik="")
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def is_child(self) -> bool:
        return self.birth_date > child_cutoff()

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def age(self) -> int:
        today = timezone.localdate()
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    @property
    def masked_nik(self) -> str:
        from migrants.nik import mask

        return mask(self.nik or "")

    @property
    def masked_kk(self) -> str:
        from migrants.nik import mask

        return mask(self.no_kk)


class Episode(models.Model):
    """One migration of a person: from registration as CPMI to departure and return."""

    class Stage(models.TextChoices):
        PLANNED = "planned", _("registered, not departed")
        ABROAD = "abroad", _("abroad")
        RETURNED = "returned", _("returned")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="episodes"
    )
    destination_country = models.CharField(_("destination country"), max_length=2, blank=True)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    sector = models.CharField(_("sector"), max_length=10, choices=Sector.choices, blank=True)
    employer_type = models.CharField(
        _("employer type"), max_length=15, choices=EmployerType.choices, blank=True
    )
    placement_scheme = models.CharField(
        _("placement scheme"), max_length=10, choices=PlacementScheme.choices, blank=True
    )
    p3mi_name = models.CharField(_("placement agency (P3MI)"), max_length=200, blank=True)
    p3mi_licence = models.CharField(_("P3MI licence number"), max_length=100, blank=True)
    foreign_partner = models.CharField(_("foreign partner"), max_length=200, blank=True)
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    passport_number = models.CharField(_("passport number"), max_length=20, blank=True)
    passport_expiry = models.DateField(_("passport expiry"), null=True, blank=True)
    departure_date = models.DateField(_("departure date"), null=True, blank=True)
    return_date = models.DateField(_("return date"), null=True, blank=True)
    return_reason = models.CharField(
        _("return reason"), max_length=20, choices=ReturnReason.choices, blank=True
    )
    procedural_status = models.CharField(
        _("procedural status"),
        max_length=20,
        choices=Procedural.choices,
        default=Procedural.UNKNOWN,
    )
    procedural_source = models.CharField(
        _("source of the procedural status"),
        max_length=20,
        choices=ProceduralSource.choices,
        blank=True,
    )
    bpjs_member = models.BooleanField(_("BPJS Ketenagakerjaan member"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("migration episode")
        verbose_name_plural = _("migration episodes")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["departure_date"], name="episode_departure"),
            models.Index(fields=["return_date"], name="episode_return"),
            models.Index(fields=["destination_country"], name="episode_country"),
        ]
        constraints = [
            models.CheckConstraint(
                name="episode_return_after_departure",
                condition=Q(return_date__isnull=True)
                | (
                    Q(departure_date__isnull=False) & Q(return_date__gte=models.F("departure_date"))
                ),
            ),
            models.CheckConstraint(
                name="episode_contract_in_order",
                condition=Q(contract_start__isnull=True)
                | Q(contract_end__isnull=True)
                | Q(contract_end__gte=models.F("contract_start")),
            ),
            models.CheckConstraint(
                name="episode_procedural_valid",
                condition=Q(procedural_status__in=Procedural.values),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.destination_country or '?'}"

    @property
    def stage(self) -> str:
        if self.return_date:
            return self.Stage.RETURNED
        if self.departure_date:
            return self.Stage.ABROAD
        return self.Stage.PLANNED

    @property
    def country_name(self) -> str:
        from migrants.countries import country_name

        return country_name(self.destination_country) if self.destination_country else ""


class HistoryQuerySet(models.QuerySet):
    def for_user(self, user) -> "HistoryQuerySet":
        """History of the people the user may see (rows hold personal data too)."""
        visible = Person.objects.for_user(user).values("pk")
        return self.filter(person__in=visible)


class PersonHistory(models.Model):
    """Who changed what, when: written by the services (also by the bulk import), never edited.

    `village` is the person's village at the time, so each side of a transfer keeps its trace.
    """

    class Action(models.TextChoices):
        CREATED = "created", _("registered")
        UPDATED = "updated", _("changed")
        DELETED = "deleted", _("deleted")
        RESTORED = "restored", _("restored")
        TRANSFERRED_OUT = "transferred_out", _("moved to another village")
        TRANSFERRED_IN = "transferred_in", _("moved in from another village")
        MERGED = "merged", _("merged duplicate")
        EPISODE_ADDED = "episode_added", _("migration recorded")
        EPISODE_UPDATED = "episode_updated", _("migration changed")
        DEPARTED = "departed", _("departure recorded")
        RETURNED_HOME = "returned_home", _("return recorded")
        SUBMITTED = "submitted", _("submitted for verification")
        VERIFIED = "verified", _("verified")
        SENT_BACK = "sent_back", _("returned to the village")
        IMPORTED = "imported", _("imported")

    id = models.BigAutoField(primary_key=True)
    # Looked up by person through the (person, -at) index below; the village and the actor
    # are snapshots read with their row, never searched: no index of their own. Nor database
    # constraints: an audit entry records a fact of its time, regions are retired and users
    # deactivated but neither is ever deleted (PROTECT still guards the ORM), and checking
    # them would cost the bulk import 100,000 look-ups per 50,000 rows.
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="history", db_index=False
    )
    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    source = models.CharField(_("source"), max_length=10, default="web")
    # An audit reference, not a constraint: checking it would cost the bulk import a second
    # per 50,000 rows, and batches are never deleted.
    batch = models.ForeignKey(
        "ImportBatch",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    objects = HistoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["person", "-at"], name="history_person_at"),
            # Only imported rows carry a batch: a partial index stays small.
            models.Index(fields=["batch"], name="history_batch", condition=Q(batch__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"


class SensitiveAccess(models.Model):
    """A read of sensitive data: a full NIK or No. KK shown, a child's record or a case opened,
    a subject-access report made, an imported file downloaded: who, when, whose, why. Written
    once and never changed: the application has no page or admin that edits it, and on
    PostgreSQL a trigger refuses any UPDATE or DELETE (migrants.0008)."""

    class Kind(models.TextChoices):
        NIK_REVEAL = "nik_reveal", _("full NIK shown")
        KK_REVEAL = "kk_reveal", _("full No. KK shown")
        CHILD_RECORD = "child_record", _("child's record opened")
        CASE = "case", _("case opened")
        SUBJECT_ACCESS = "subject_access", _("subject-access report made")
        # An import's file as it was sent: the full numbers the importer typed.
        IMPORT_FILE = "import_file", _("imported file downloaded")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Empty for a case recorded without a person of the register.
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="accesses"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The record read when it is not the person's own page: "<app>.<model>:<pk>".
    record = models.CharField(max_length=60, blank=True)
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("sensitive access")
        verbose_name_plural = _("sensitive accesses")
        ordering = ["-at"]
        indexes = [models.Index(fields=["person", "-at"], name="access_person_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class DuplicateDismissal(models.Model):
    """Two records the coordinator checked and found to be different people."""

    first = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="dismissal_unique_pair"),
            models.CheckConstraint(
                name="dismissal_ordered_pair", condition=Q(first__lt=models.F("second"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_id} ≠ {self.second_id}"


class ImportBatchQuerySet(models.QuerySet):
    def for_user(self, user) -> "ImportBatchQuerySet":
        """Imports made inside the user's scope (an officer's own village, a coordinator's
        regency); national imports only for national users."""
        from accounts.scope import region_scope_filter

        condition = region_scope_filter(user, "scope")
        return self.none() if condition is None else self.filter(condition)


class ImportBatch(models.Model):
    """One uploaded file: validated, previewed, then committed in one transaction (or not)."""

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("waiting to be checked")
        VALIDATING = "validating", _("being checked")
        VALIDATED = "validated", _("checked, waiting for confirmation")
        REJECTED = "rejected", _("cannot be read")
        COMMITTING = "committing", _("being imported")
        COMMITTED = "committed", _("imported")
        FAILED = "failed", _("failed")
        UNDONE = "undone", _("undone")
        CANCELLED = "cancelled", _("cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    scope = models.ForeignKey(
        Region,
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The uploader's area when the file was uploaded."),
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("size"))
    kind = models.CharField(max_length=10, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.UPLOADED
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    # Per row: [row number, outcome, name, changed fields] for the preview.
    outcomes = models.JSONField(default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    validated_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="import_state_valid",
                condition=Q(
                    state__in=[
                        "uploaded",
                        "validating",
                        "validated",
                        "rejected",
                        "committing",
                        "committed",
                        "failed",
                        "undone",
                        "cancelled",
                    ]
                ),
            ),
            models.CheckConstraint(name="import_progress_range", condition=Q(progress__lte=100)),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_running(self) -> bool:
        return self.state in (self.State.UPLOADED, self.State.VALIDATING, self.State.COMMITTING)


class ImportProblem(models.Model):
    class Level(models.TextChoices):
        ERROR = "error", _("error")
        WARNING = "warning", _("warning")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField(_("row"))  # as the spreadsheet numbers it; 1 = header
    column = models.CharField(_("column"), max_length=60, blank=True)
    level = models.CharField(_("level"), max_length=7, choices=Level.choices)
    message = models.TextField(_("message"))

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["batch", "level", "row"], name="import_problem_row")]

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.message}"


class ImportChange(models.Model):
    """What an import did to one person, so the whole import can be undone."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="changes")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    created = models.BooleanField()
    # For an updated person: the fields as they were, and the episode as it was (or None
    # when the import added the episode).
    before = models.JSONField(default=dict, blank=True)
    episode = models.ForeignKey(
        Episode, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    episode_created = models.BooleanField(default=False)
    episode_before = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["batch", "person"], name="import_change_person")]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.person_id}"


class ExportLog(models.Model):
    """Every export of the register: who, when, which filters, how many rows, NIK shown."""

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    scope = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, related_name="+")
    format = models.CharField(max_length=5)
    filters = models.JSONField(default=dict, blank=True)
    rows = models.PositiveIntegerField(default=0)
    full_nik = models.BooleanField(default=False)
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.format} {self.rows}"


class CorrectionQuerySet(models.QuerySet):
    def for_user(self, user) -> "CorrectionQuerySet":
        """Requests about the people the user may see (deleted records included)."""
        return self.filter(person__in=Person.objects.for_user(user).values("pk"))


class CorrectionRequest(models.Model):
    """A data subject's request to correct their data (UU 27/2022 Ps. 6 and 30), recorded by
    the officer or coordinator. The change itself is made through the register's pages, so
    the history shows it; the request is then closed as done, or refused with the reason."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("requested")
        DONE = "done", _("done")
        REFUSED = "refused", _("refused")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="corrections"
    )
    received_on = models.DateField(_("received on"), default=timezone.localdate)
    wrong = models.TextField(_("what is wrong"))
    requested_change = models.TextField(_("requested change"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.REQUESTED
    )
    outcome = models.TextField(_("outcome"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = CorrectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["person", "-recorded_at"], name="correction_person")]
        constraints = [
            models.CheckConstraint(
                name="correction_state_valid",
                condition=Q(state__in=["requested", "done", "refused"]),
            ),
            models.CheckConstraint(
                name="correction_closed_when_decided",
                condition=(Q(state="requested") & Q(decided_at__isnull=True))
                | (~Q(state="requested") & Q(decided_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="correction_refusal_has_reason", condition=~Q(state="refused") | ~Q(outcome="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recorded_at:%Y-%m-%d} {self.get_state_display()}"
