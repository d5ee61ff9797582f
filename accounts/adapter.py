from allauth.account.adapter import DefaultAccountAdapter
from django.utils.translation import gettext_lazy as _


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # Shown when ACCOUNT_RATE_LIMITS["login_failed"] is reached: the limits only slow
        # sign-ins down, so say so rather than let an officer think the account is locked.
        "too_many_login_attempts": _(
            "Too many failed sign-in attempts. Wait a few minutes, then try again; your "
            "account is not blocked. Forgot your password? Use the link below."
        ),
    }

    def is_open_for_signup(self, request) -> bool:
        # Accounts are created by an administrator or a regency coordinator, never by sign-up.
        return False
