"""Headers of the static files WhiteNoise serves.

WhiteNoise answers /static/ before the rest of the middleware runs (it sits right after
SecurityMiddleware, which still adds HSTS, nosniff, Referrer-Policy and COOP), so the headers of
desmigratif.headers and django-csp are not on these responses. A stylesheet or a script ignores
a Content-Security-Policy of its own, but a static SVG or HTML file opened directly is a page:
it gets a policy that lets it run nothing, sandboxed. Cross-Origin-Resource-Policy keeps
another site from embedding our files, as for every other response.

Pages keep their own policy (settings.CONTENT_SECURITY_POLICY): static files are served from
our own origin, which its `'self'` allows.
"""

STATIC_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; font-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"
)


def add_static_headers(headers, path: str, url: str) -> None:
    """WHITENOISE_ADD_HEADERS_FUNCTION: called once per file when WhiteNoise indexes it."""
    headers["Content-Security-Policy"] = STATIC_POLICY
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
