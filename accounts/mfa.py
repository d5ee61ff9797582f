"""Two-factor authentication (TOTP, allauth.mfa): who must have it before using the system.

allauth offers MFA but enforces nothing; desmigratif.middleware.MfaRequiredMiddleware sends the
pages to the set-up page and MfaTokenAuthentication refuses the API's tokens. The roles that see
more than one village's people must use it; village officers and heads may.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from rest_framework.exceptions import PermissionDenied

from accounts.models import Role
from desmigratif import rls

MFA_ROLES = frozenset({Role.COORDINATOR, Role.PROVINCE_VIEWER, Role.EVALUATOR, Role.MINISTRY_ADMIN})

SET_UP_ON_WEBSITE = _(
    "Your account needs two-factor authentication. Sign in on the website and set up an "
    "authenticator app before using the API."
)


def mfa_required_for(user) -> bool:
    """True when the user's role must sign in with a second factor (superusers too)."""
    if not settings.MFA_REQUIRED or not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or user.role in MFA_ROLES


def has_totp(user) -> bool:
    # ScopedAuthenticationBackend loads the answer with the user: no query on each page.
    loaded = getattr(user, "has_totp", None)
    if loaded is not None:
        return bool(loaded)
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def needs_mfa_setup(user) -> bool:
    """True for a signed-in user who must have an authenticator app and has none yet."""
    return mfa_required_for(user) and not has_totp(user)


class MfaTokenAuthentication(TokenAuthentication):
    """knox's API tokens, refused (403) while the owner's account lacks the required MFA: a
    token made before the rule, or by a user whose role changed, must not bypass it."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            if needs_mfa_setup(result[0]):
                raise PermissionDenied(SET_UP_ON_WEBSITE)
            # The middleware saw an anonymous request: the second wall learns the user here.
            rls.enter_user_scope(result[0])
        return result
