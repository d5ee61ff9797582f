from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts import schema  # noqa: F401 (registers the API token's OpenAPI scheme)
        from desmigratif.middleware import note_sign_in

        # Like Django's own update_last_login: the session notes when its user signed in.
        user_logged_in.connect(note_sign_in, dispatch_uid="desmigratif_note_sign_in")
