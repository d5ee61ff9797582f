from allauth.account.auth_backends import AuthenticationBackend
from django.db.models import Exists, OuterRef


class ScopedAuthenticationBackend(AuthenticationBackend):
    """allauth's backend (username or e-mail), loading with the user its scope region and
    whether it has an authenticator app: every page shows the one and the MFA rule checks the
    other (accounts.mfa), so each would otherwise cost a query on each request."""

    def get_user(self, user_id):
        from allauth.mfa.models import Authenticator

        from accounts.models import User

        totp = Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
        user = (
            User._default_manager.select_related("scope")
            .annotate(has_totp=Exists(totp))
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
