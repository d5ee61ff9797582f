"""Asking for the password (or an authenticator code) again before the actions that matter most:
exports of the register, giving roles and (de)activating accounts, deletes in bulk, API tokens.

This is allauth's re-authentication: the user confirms on allauth's page, then the suspended
request (a POST included) goes on. A confirmation counts for ACCOUNT_REAUTHENTICATION_TIMEOUT
seconds; signing in does not count, so a session left open on an office computer cannot export.
"""

from allauth.account.decorators import reauthentication_required


def _proceed(request) -> None:
    return None


_confirmed_or_raise = reauthentication_required(_proceed)


def require_reauthentication(request) -> None:
    """Raise allauth's ReauthenticationRequired unless the user confirmed recently.

    Called in a view after its permission and object checks (a refused user gets the 403 or
    404, not a password prompt) and only on the requests that act; allauth's middleware turns
    the exception into the confirmation page and resumes the request afterwards.
    """
    _confirmed_or_raise(request)
