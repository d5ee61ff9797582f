from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from villages.models import Region


class Role(models.TextChoices):
    VILLAGE_OFFICER = "village_officer", _("Village officer")
    VILLAGE_HEAD = "village_head", _("Village head")
    COORDINATOR = "coordinator", _("Regency coordinator")
    PROVINCE_VIEWER = "province_viewer", _("Province viewer")
    MINISTRY_ADMIN = "ministry_admin", _("Ministry administrator")
    EVALUATOR = "evaluator", _("Ministry evaluator")


# The region level each role is scoped to; None means the whole country.
ROLE_SCOPE_LEVEL: dict[str, int | None] = {
    Role.VILLAGE_OFFICER: Region.Level.VILLAGE,
    Role.VILLAGE_HEAD: Region.Level.VILLAGE,
    Role.COORDINATOR: Region.Level.REGENCY,
    Role.PROVINCE_VIEWER: Region.Level.PROVINCE,
    Role.MINISTRY_ADMIN: None,
    Role.EVALUATOR: None,
}
NATIONAL_ROLES = [role for role, level in ROLE_SCOPE_LEVEL.items() if level is None]


class UserQuerySet(models.QuerySet):
    def for_user(self, user) -> "UserQuerySet":
        """Accounts a user may see: those whose scope lies inside the viewer's own (a village's
        people see only themselves)."""
        from accounts.scope import region_scope_filter

        condition = region_scope_filter(user, "scope")
        if condition is None:
            return self.none()
        if user.role in (Role.VILLAGE_OFFICER, Role.VILLAGE_HEAD):
            return self.filter(pk=user.pk)
        return self.filter(condition)


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person who works in the system: one role, one scope (a region or the whole country)."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    scope = models.ForeignKey(
        Region,
        verbose_name=_("scope"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("A village, regency or province; empty for the whole country."),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    objects = ScopedUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_scope_matches_role",
                condition=(
                    (Q(role__in=NATIONAL_ROLES) & Q(scope__isnull=True))
                    | (~Q(role__in=NATIONAL_ROLES) & Q(scope__isnull=False))
                    # Superusers made by createsuperuser start without a role.
                    | (Q(role="") & Q(scope__isnull=True))
                ),
            ),
        ]

    def clean(self) -> None:
        super().clean()
        if not self.role:
            return
        level = ROLE_SCOPE_LEVEL[self.role]
        if level is None:
            if self.scope_id:
                raise ValidationError({"scope": _("This role covers the whole country.")})
            return
        if not self.scope_id:
            raise ValidationError({"scope": _("This role needs a region.")})
        if self.scope.level != level:
            raise ValidationError(
                {
                    "scope": _("This role needs a region at the level: %(level)s.")
                    % {"level": Region.Level(level).label}
                }
            )

    @property
    def is_national(self) -> bool:
        return self.role in NATIONAL_ROLES or (self.is_superuser and not self.role)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class AccountEvent(models.Model):
    """Who did what to an account: created, deactivated, reactivated. Never edited."""

    class Kind(models.TextChoices):
        CREATED = "created", _("account created")
        DEACTIVATED = "deactivated", _("account deactivated")
        REACTIVATED = "reactivated", _("account reactivated")
        INVITE_SENT = "invite_sent", _("password link sent")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")

    at = models.DateTimeField(_("when"), auto_now_add=True)
    actor = models.ForeignKey(
        User, verbose_name=_("by"), on_delete=models.PROTECT, related_name="account_actions"
    )
    user = models.ForeignKey(
        User, verbose_name=_("account"), on_delete=models.PROTECT, related_name="account_events"
    )
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("account event")
        verbose_name_plural = _("account events")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"
