from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import ROLE_SCOPE_LEVEL, AccountEvent, Role, User
from accounts.permissions import Action, can, grantable_roles
from villages.models import Region

# Roles that work in the Django admin (scoped there like everywhere else).
STAFF_ROLES = {Role.COORDINATOR, Role.MINISTRY_ADMIN}


def _check_grant(*, actor: User, role: str, scope: Region | None) -> None:
    if not can(actor, Action.MANAGE_USERS) or role not in grantable_roles(actor):
        raise PermissionDenied
    if scope is not None and not Region.objects.for_user(actor).filter(code=scope.code).exists():
        raise PermissionDenied
    if ROLE_SCOPE_LEVEL[role] is None and not actor.is_national:
        raise PermissionDenied


@transaction.atomic
def user_invite(
    *,
    actor: User,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    scope: Region | None,
    set_password_base_url: str,
) -> User:
    """Create an account without a password and e-mail its holder a link to set one."""
    _check_grant(actor=actor, role=role, scope=scope)
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        scope=scope,
        is_staff=role in STAFF_ROLES,
    )
    user.set_unusable_password()
    user.full_clean()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("An account with this e-mail address already exists.")})
    user.save()
    AccountEvent.objects.create(
        actor=actor,
        user=user,
        kind=AccountEvent.Kind.CREATED,
        detail={"role": role, "scope": scope.code if scope else None},
    )
    from accounts.tasks import send_invite

    send_invite.delay_on_commit(user.pk, set_password_base_url)
    AccountEvent.objects.create(actor=actor, user=user, kind=AccountEvent.Kind.INVITE_SENT)
    return user


def invite_send(*, user: User, base_url: str) -> None:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "link": base_url.rstrip("/") + path,
        "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    send_mail(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + _("Your SI-Desmigratif account"),
        message=render_to_string("accounts/email/invite.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def user_set_active(*, actor: User, user: User, active: bool) -> User:
    _check_grant(actor=actor, role=user.role, scope=user.scope)
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    AccountEvent.objects.create(
        actor=actor,
        user=user,
        kind=AccountEvent.Kind.REACTIVATED if active else AccountEvent.Kind.DEACTIVATED,
    )
    return user
