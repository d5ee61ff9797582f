import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class LanguageMiddleware:
    """Indonesian unless the user chose English with the switch (the language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, and many officials'
    browsers say English: the system must still open in Indonesian.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.languages else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


# --- Sign-in rules (issue 7): the session's absolute limit and the required MFA ----------------

# When the session's user signed in, and when the session was last written (seconds since the
# epoch): see note_sign_in and SessionLimitMiddleware.
SIGNED_IN_AT = "desmigratif_signed_in_at"
LAST_SEEN = "desmigratif_last_seen"
# A signed-in request writes the session, pushing its end SESSION_IDLE_MINUTES further, when the
# last write is older than this: not on every request (SESSION_SAVE_EVERY_REQUEST would cost a
# write per page), so the idle limit is exact to this many seconds.
TOUCH_SECONDS = 60

SESSION_ENDED = _("Your session has reached its time limit. Please sign in again.")
MFA_SET_UP = _(
    "Your role needs two-factor authentication. Set up an authenticator app on your phone "
    "to continue."
)

# What a user who must set up MFA may still open: the set-up itself (with the password check
# allauth asks for first), the recovery codes, signing out, the language switch, the health check.
MFA_SETUP_VIEWS = frozenset(
    {
        "mfa_index",
        "mfa_activate_totp",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "mfa_reauthenticate",
        "account_reauthenticate",
        "account_logout",
        "set_language",
        "health",
    }
)


def _is_api(request) -> bool:
    """The API answers in JSON, never with a redirect to a page."""
    return request.path_info.startswith("/api/")


def note_sign_in(sender, request, user, **kwargs) -> None:
    """Receiver of django.contrib.auth's user_logged_in (connected in accounts.apps), which every
    way of signing in sends (allauth, the admin through allauth, tests' force_login)."""
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now


class SessionLimitMiddleware:
    """Ends sessions: after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS after
    signing in however active they are (a session kept busy on a shared office computer must
    not live on for days).

    The idle limit is Django's own expiry (SESSION_COOKIE_AGE from the last write of the
    session); this renews it, at most once every TOUCH_SECONDS.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            session = request.session
            now = time.time()
            # A session from before this rule counts from now.
            signed_in_at = session.setdefault(SIGNED_IN_AT, now)
            if now - signed_in_at > settings.SESSION_MAX_HOURS * 3600:
                logout(request)
                if _is_api(request):
                    return JsonResponse({"detail": str(SESSION_ENDED)}, status=401)
                messages.info(request, SESSION_ENDED)
                return redirect_to_login(request.get_full_path())
            if now - session.get(LAST_SEEN, 0) >= TOUCH_SECONDS:
                session[LAST_SEEN] = now  # written with the response: the idle clock restarts
        return self.get_response(request)


class MfaRequiredMiddleware:
    """Sends a signed-in user whose role needs MFA (accounts.mfa) and who has no authenticator
    app to allauth's TOTP set-up before anything else, the admin included. The API answers such
    a session with a JSON 403; API tokens are refused by accounts.mfa.MfaTokenAuthentication."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from accounts.mfa import SET_UP_ON_WEBSITE, needs_mfa_setup

        if not needs_mfa_setup(request.user):
            return None
        if request.resolver_match.view_name in MFA_SETUP_VIEWS:
            return None
        if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return None
        if _is_api(request):
            return JsonResponse({"detail": str(SET_UP_ON_WEBSITE)}, status=403)
        messages.info(request, MFA_SET_UP)
        return redirect("mfa_activate_totp")
