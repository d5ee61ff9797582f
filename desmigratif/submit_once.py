"""A form sent twice (a double click, a second tap on a slow connection) makes one record.

Every form rendered with the base form include (`includes/form_fields.html`) carries a one-time
token, `{% submit_once_field %}`. `SubmitOnceMiddleware` takes the token of a POST with
`cache.add`, which succeeds for one request only (atomic in Redis, and within one process in
the local-memory cache). The request that took it runs as usual; when it answers with a
redirect (the form was saved), the token remembers where to. A second POST of the same token
runs nothing: it waits for the first to finish and is sent where the first one went, the
record it made. When the first answers anything else (the form had errors, a file download),
the token is given back, so sending again does what it always did.

Several web processes share the tokens only through a shared cache (CACHE_URL, Redis); when
the cache cannot be reached the guard steps aside rather than refuse the form.
`static/js/submit-once.js` also ignores a second click in the browser, as a courtesy: the
server does not rely on it.
"""

import logging
import secrets
import time

from django import template
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

FIELD = "_submit_once"
TIMEOUT = 3600  # how long a token remembers where its form went
PENDING = "-"
WAIT_SECONDS = 20.0  # how long a second POST waits for the first to finish
POLL_SECONDS = 0.1
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

register = template.Library()


@register.simple_tag
def submit_once_field() -> str:
    """The hidden one-time token of this rendering of the form."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_token())


def new_token() -> str:
    return secrets.token_urlsafe(18)


def _key(request, token: str) -> str:
    # The user's id is part of the key: a token answers only the person it was given to.
    user = getattr(request, "user", None)
    owner = user.pk if user is not None and user.is_authenticated else "-"
    return f"submit-once:{owner}:{token}"


class SubmitOnceMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        key = getattr(request, "_submit_once_key", None)
        if key is not None:
            self._remember(key, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or not request.content_type.startswith(FORM_TYPES):
            return None
        token = request.POST.get(FIELD, "")
        if not token or len(token) > 64:
            return None
        key = _key(request, token)
        try:
            first = cache.add(key, PENDING, timeout=TIMEOUT)
        except Exception:
            logger.warning("submit-once: the cache cannot be reached", exc_info=True)
            return None
        if first:
            request._submit_once_key = key
            return None
        return self._again(request, key)

    def _remember(self, key: str, response) -> None:
        try:
            if response.status_code in (301, 302, 303) and response.get("Location"):
                cache.set(key, response["Location"], timeout=TIMEOUT)
            else:
                cache.delete(key)  # not saved: sending the form again must work again
        except Exception:
            logger.warning("submit-once: the cache cannot be reached", exc_info=True)

    def _again(self, request, key: str):
        """The same form again: where the first one went, once it is there."""
        deadline = time.monotonic() + WAIT_SECONDS
        location = PENDING
        while time.monotonic() < deadline:
            try:
                location = cache.get(key, PENDING)
            except Exception:
                location = PENDING
                break
            if location != PENDING:
                break
            time.sleep(POLL_SECONDS)
        if location == PENDING:
            # The first is still at work (or its answer was lost): show the form's page again
            # rather than save it a second time.
            location = request.get_full_path()
        logger.info("submit-once: a form sent again went to %s", location)
        messages.info(request, _("This form had already been sent; it was saved once."))
        return HttpResponseRedirect(location)
