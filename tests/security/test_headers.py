"""Security headers and the Content-Security-Policy (issue 7, item 2).

Every page a persona can reach is found by following the links of the rendered pages (so a new
page is covered the day it is linked), and each one must carry the policy, be kept out of the
browser's cache, and hold no inline script, event handler or style, which the policy would
block.
"""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from knox.models import AuthToken
from rest_framework.test import APIClient

from dashboards.summaries import refresh_summaries
from desmigratif.headers import SecurityHeadersMiddleware
from migrants.demo import seed_register
from pillars.demo import seed_pillars
from tests.reports.helpers import ask

POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "font-src": {"'self'"},
    "connect-src": {"'self'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
    "base-uri": {"'none'"},
    "object-src": {"'none'"},
}

# Where each persona starts besides the home page: places not linked from every page.
STARTS = [
    "/",
    "/dasbor/",
    "/unduhan/",
    "/unduhan/minta/",
    "/akun/token-api/",
    "/api/docs/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/admin/",
]
# Links not followed: files, actions that ask before they act, leaving the session.
NOT_FOLLOWED = re.compile(
    r"\.(xlsx|csv|pdf)$|/unduh/|/berkas/|format=|logout|/tampilkan/|/hapus/|/cabut/|/batal/"
    r"|/urungkan/|/i18n/|/static/|/api/(?!docs/)|/admin/.+/(delete|history)/|/admin/logout/"
)
MAX_PAGES = 400


def policy_of(response) -> dict[str, set[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


class InlineCode(HTMLParser):
    """What a strict policy blocks: inline <script> (data in `json_script` is not code), event
    handler attributes, javascript: links, <style> elements and style attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        code = attributes.get("type") != "application/json"
        if tag == "script" and "src" not in attributes and code:
            self.found.append(f"<script> without src: {attributes}")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name == "style":
                self.found.append(f"style attribute on <{tag}>")
            elif name.startswith("on"):
                self.found.append(f"{name} handler on <{tag}>")
            elif name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.found.append(f"javascript: {name} on <{tag}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def shape(url: str) -> str:
    """One page per kind: `/register/<uuid>/` once, whichever person, and a list once, whatever
    its filters (the same template renders them all)."""
    path = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "U", url)
    return re.sub(r"\d+", "N", path.split("?")[0])


def crawl(client: Client) -> dict[str, HttpResponse]:
    """The HTML pages reachable from STARTS by links, one of each shape."""
    pages, seen, queue = {}, set(), list(STARTS)
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        if shape(url) in seen:
            continue
        seen.add(shape(url))
        response = client.get(url, follow=True)
        if not response["Content-Type"].startswith("text/html"):
            continue
        pages[url] = response
        for href in re.findall(r'<a\b[^>]*\bhref="([^"#]+)', response.content.decode()):
            link = urljoin(url, href.replace("&amp;", "&"))
            if link.startswith("/") and not NOT_FOLLOWED.search(link):
                queue.append(link)
    return pages


@pytest.fixture
def demo_data(world):
    """The demo's register, pillar work and dashboard figures: pages with something in them."""
    seed_register()
    seed_pillars()
    refresh_summaries()
    # A report job, so its page is among those walked.
    ask(world["coordinator_malang"])
    return world


PERSONAS = [
    "officer_arjowilangun",
    "head_arjowilangun",
    "coordinator_malang",
    "province_jatim",
    "evaluator",
    "ministry_admin",
]


def problems(response) -> list[str]:
    found = inline_code(response.content.decode())
    if policy_of(response) != POLICY:
        found.append(f"policy {response.get('Content-Security-Policy')!r}")
    if "no-store" not in response.get("Cache-Control", ""):
        found.append("stored in caches")
    if response.get("X-Frame-Options") != "DENY":
        found.append("may be framed")
    return found


def test_no_page_any_persona_reaches_has_inline_code_and_each_carries_the_headers(
    request, demo_data
):
    # One walk per persona in one test: the demo data takes longer to write than to read.
    walks = {persona: crawl(request.getfixturevalue(persona)) for persona in PERSONAS}

    assert {p: len(pages) for p, pages in walks.items() if len(pages) < 15} == {}
    assert {
        p for p, pages in walks.items() if not any(u.startswith("/dasbor/") for u in pages)
    } == set()
    assert len([url for url in walks["ministry_admin"] if url.startswith("/admin/")]) >= 20
    found = {
        (persona, url): issues
        for persona, pages in walks.items()
        for url, response in pages.items()
        if (issues := problems(response))
    }
    assert found == {}


def test_the_admin_pages_whose_package_templates_had_inline_code_have_none(ministry_admin):
    # django-celery-beat's and django-import-export's templates are replaced by ours.
    for url in ("/admin/django_celery_beat/periodictask/add/", "/admin/migrants/person/export/"):
        response = ministry_admin.get(url)
        assert response.status_code == 200
        assert problems(response) == []


def test_the_sign_in_page_carries_the_policy_without_unsafe_sources(anonymous, world):
    response = anonymous.get("/accounts/login/")

    assert response.status_code == 200
    assert policy_of(response) == POLICY
    assert "unsafe" not in response["Content-Security-Policy"]
    assert inline_code(response.content.decode()) == []


def test_the_api_docs_page_runs_from_files_under_the_policy(coordinator_malang):
    response = coordinator_malang.get("/api/docs/")

    assert response.status_code == 200
    assert policy_of(response) == POLICY
    assert inline_code(response.content.decode()) == []
    # Its start-up script is a same-origin file, allowed by script-src 'self'.
    assert coordinator_malang.get("/api/docs/", {"script": ""}).status_code == 200


def test_pages_may_not_be_framed_by_any_site(anonymous, world):
    response = anonymous.get("/accounts/login/")

    assert response["X-Frame-Options"] == "DENY"
    assert policy_of(response)["frame-ancestors"] == {"'none'"}


def test_links_to_other_sites_carry_no_address_of_ours(anonymous, world):
    response = anonymous.get("/accounts/login/")

    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_may_not_use_the_camera_microphone_or_location(anonymous, world):
    policy = anonymous.get("/accounts/login/")["Permissions-Policy"]

    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_a_signed_in_users_pages_are_never_stored(officer_arjowilangun):
    response = officer_arjowilangun.get("/register/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_files_for_a_signed_in_user_are_never_stored(coordinator_malang):
    response = coordinator_malang.get("/register/impor/template.xlsx")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_api_answers_to_a_token_are_never_stored(world):
    _token, secret = AuthToken.objects.create(user=world["officer_arjowilangun"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")

    response = client.get("/api/villages/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_static_files_stay_cacheable(world):
    request = RequestFactory().get("/static/css/app.css")
    request.user = world["officer_arjowilangun"]
    middleware = SecurityHeadersMiddleware(lambda request: HttpResponse("body {}"))

    response = middleware(request)

    assert "Cache-Control" not in response


def test_error_pages_in_production_carry_the_policy(settings, officer_arjowilangun):
    settings.DEBUG = False

    response = officer_arjowilangun.get("/no-such-page/")

    assert response.status_code == 404
    assert policy_of(response) == POLICY
    assert inline_code(response.content.decode()) == []
