"""Response headers that Django's SecurityMiddleware does not set.

- `Permissions-Policy`: the application uses no camera, microphone, location, payment or other
  powerful browser feature, so a page (or anything injected into it) may not ask for one.
- `Cache-Control: no-store` on every response to a signed-in user. Nearly every page behind the
  login shows personal data (names, NIKs, children's records, cases, exports, report files), and
  a list of the few that do not would silently go stale the day one of them starts to. The rule
  is therefore "signed in means not stored": no copy in the browser's cache, on a shared
  computer at the village office, or in a proxy. Static files never pass through here (the web
  server or `runserver`'s static handler serves them), and they hold no personal data. A
  request that carries an API token counts as signed in too.
- `Cross-Origin-Resource-Policy: same-origin`: another site may not embed our responses.

The Content-Security-Policy comes from django-csp (settings.CONTENT_SECURITY_POLICY); HSTS,
`X-Content-Type-Options`, `Referrer-Policy` and `Cross-Origin-Opener-Policy` from Django's
SecurityMiddleware; `X-Frame-Options: DENY` from the clickjacking middleware.
"""

from django.conf import settings
from django.utils.cache import add_never_cache_headers

# Only features a browser recognises: an unknown name is logged as an error in its console.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
)


def holds_personal_data(request) -> bool:
    """Whether the response may show personal data: it was made for a signed-in user."""
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    # The API authenticates its token inside the view; the header is the request's own.
    return "HTTP_AUTHORIZATION" in request.META


class SecurityHeadersMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if holds_personal_data(request):
            add_never_cache_headers(response)
        return response
