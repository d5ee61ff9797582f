from allauth.account.auth_backends import AuthenticationBackend


class ScopedAuthenticationBackend(AuthenticationBackend):
    """allauth's backend (username or e-mail), loading the user's scope region with the user:
    every page shows it, so it would otherwise cost a query on each request."""

    def get_user(self, user_id):
        from accounts.models import User

        user = User._default_manager.select_related("scope").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
