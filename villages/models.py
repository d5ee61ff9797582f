from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

CODE_MAX_LENGTH = 13  # PP.KK.CC.DDDD
_KEEP_UPPER = {"DKI", "DI", "DIY"}


class RegionQuerySet(models.QuerySet):
    def under(self, code: str) -> "RegionQuerySet":
        """Every region below `code` (not itself): a prefix range scan on the primary key."""
        return self.filter(code__startswith=code + ".")

    def active(self) -> "RegionQuerySet":
        return self.filter(retired_at__isnull=True)

    def for_user(self, user) -> "RegionQuerySet":
        """Regions inside the user's scope, the scope itself included."""
        from accounts.scope import scope_prefix

        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        prefix = scope_prefix(user)
        if prefix is None:
            return self
        return self.filter(Q(code=prefix) | Q(code__startswith=prefix + "."))


class Region(models.Model):
    """A region of the Kemendagri tree. The code is the key, so records keep pointing at it
    across editions, and "everything under a code" is a prefix on a foreign-key column."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("province")
        REGENCY = 2, _("regency/city")
        DISTRICT = 3, _("district")
        VILLAGE = 4, _("village")

    code = models.CharField(_("code"), max_length=CODE_MAX_LENGTH, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    introduced_in = models.CharField(_("introduced in edition"), max_length=60)
    retired_in = models.CharField(_("retired in edition"), max_length=60, blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "name"], name="region_level_name")]
        constraints = [
            models.CheckConstraint(
                name="region_level_range", condition=Q(level__gte=1) & Q(level__lte=4)
            ),
            models.CheckConstraint(
                name="region_parent_except_province",
                condition=Q(level=1, parent__isnull=True) | Q(level__gt=1, parent__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})"

    @property
    def label(self) -> str:
        """The official name, readable: 'KAB. MALANG' becomes 'Kab. Malang'."""
        if not self.name.isupper():
            return self.name
        return " ".join(w if w in _KEEP_UPPER else w.capitalize() for w in self.name.split())

    @property
    def kind_label(self) -> str:
        segment = self.code.split(".")[-1]
        if self.level == self.Level.REGENCY:
            return _("city") if int(segment) >= 71 else _("regency")
        if self.level == self.Level.VILLAGE:
            return _("urban village") if segment.startswith("1") else _("village")
        return self.get_level_display()

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    def ancestor_codes(self) -> list[str]:
        parts = self.code.split(".")
        return [".".join(parts[:i]) for i in range(1, len(parts))]


class RegionEdition(models.Model):
    """One run of `load_regions`: which edition, and what it changed."""

    label = models.CharField(_("edition"), max_length=60)
    source = models.CharField(_("source"), max_length=255)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    retired = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("region edition")
        verbose_name_plural = _("region editions")
        ordering = ["-loaded_at"]

    def __str__(self) -> str:
        return self.label


class DesignationQuerySet(models.QuerySet):
    def for_user(self, user) -> "DesignationQuerySet":
        from accounts.scope import scope_filter

        condition = scope_filter(user, "village")
        return self.none() if condition is None else self.filter(condition)


class Designation(models.Model):
    """A village designated Desmigratif, in a cohort, following one programme variant."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        INACTIVE = "inactive", _("inactive")
        GRADUATED = "graduated", _("graduated")

    village = models.OneToOneField(
        Region,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="designation",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )
    cohort_year = models.PositiveSmallIntegerField(
        _("cohort year"), validators=[MinValueValidator(2016), MaxValueValidator(2100)]
    )
    variant = models.ForeignKey(
        "pillars.ProgrammeVariant",
        verbose_name=_("programme variant"),
        on_delete=models.PROTECT,
        related_name="designations",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    decree_reference = models.CharField(_("decree reference"), max_length=200, blank=True)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned officers"),
        blank=True,
        related_name="designations",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = DesignationQuerySet.as_manager()

    class Meta:
        verbose_name = _("Desmigratif village")
        verbose_name_plural = _("Desmigratif villages")
        ordering = ["village_id"]
        indexes = [models.Index(fields=["cohort_year", "status"], name="designation_cohort")]
        constraints = [
            models.CheckConstraint(
                name="designation_cohort_range",
                condition=Q(cohort_year__gte=2016) & Q(cohort_year__lte=2100),
            ),
            models.CheckConstraint(
                name="designation_status_valid",
                condition=Q(status__in=["active", "inactive", "graduated"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village.label} ({self.cohort_year})"
