"""Sending one request of the matrix as a persona, and saying what its answer should be."""

import re
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.security.matrix.leaks import body_text
from tests.security.matrix.table import ADMIN, ADMIN_STAFF, ANONYMOUS, API, PUBLIC, Url
from tests.security.matrix.world import NATIONAL, World, away_side, home_side

LOGIN = "login"  # a redirect to the sign-in page
# The officer whose API token a persona names "outside" (a national persona: nobody's).
OFFICER_OF_SIDE = {"A": "officer_arjowilangun", "K": "officer_kenanga"}


@dataclass
class Answer:
    url: str
    status: int
    location: str
    text: str
    asked: str  # what the request carried (query and body), for the leak check


def path_of(key: str, kwargs: dict) -> str:
    """The path of a named pattern, or of an unnamed one (`route:...`) filled by hand."""
    if not key.startswith("route:"):
        return reverse(key, kwargs=kwargs or None)
    route = key.removeprefix("route:")
    for name, value in kwargs.items():
        route = re.sub(rf"<(?:\w+:)?{name}>", str(value), route)
        route = re.sub(rf"\(\?P<{name}>[^()]*\)", str(value), route)
    return "/" + route.replace("^", "").replace("$", "")


def client_for(world: World, persona: str, entry: Url) -> Client:
    if entry.login == API:
        token = world.tokens.get(persona)
        return Client(HTTP_AUTHORIZATION=f"Token {token}") if token else Client()
    client = Client()
    session = world.sessions.get(persona)
    if session:
        client.cookies[settings.SESSION_COOKIE_NAME] = session
    return client


def side_for(persona: str, where: str) -> str:
    return home_side(persona) if where == "inside" else away_side(persona)


def send(world: World, persona: str, key: str, entry: Url, method: str, where: str) -> Answer:
    """One request, in a savepoint that is rolled back: every request sees the same world."""
    side = SimpleNamespace(**vars(world.sides[side_for(persona, where)]))
    # An API token is the persona's own inside its scope, someone else's outside it.
    owner = persona if where == "inside" else OFFICER_OF_SIDE.get(away_side(persona))
    side.token = world.token_digests.get(owner, "0" * 128)
    kwargs = entry.kwargs(side) if entry.kwargs else {}
    query = urlencode(entry.query(side)) if entry.query else ""
    data = entry.data(side) if entry.data else {}
    url = path_of(key, kwargs) + (f"?{query}" if query else "")
    client = client_for(world, persona, entry)
    with transaction.atomic():
        response = client.get(url) if method == "GET" else client.post(url, data)
        # Read the body inside the savepoint: a streamed export still queries as it goes.
        text = body_text(response)
        transaction.set_rollback(True)
    return Answer(
        url=url,
        status=response.status_code,
        location=response.get("Location", ""),
        text=text,
        asked=url + " " + " ".join(str(v) for v in data.values()),
    )


def expected(entry: Url, persona: str, method: str, where: str) -> frozenset[int] | str:
    """The answer the table asks for: a set of statuses, or LOGIN."""
    if entry.any_of:
        return entry.any_of
    who = entry.get if method == "GET" else entry.post
    anonymous = persona in ANONYMOUS
    if entry.login == API:
        if anonymous:
            return frozenset({401})
        # DRF authenticates and checks the role before it looks at the method.
        if persona not in (entry.get or frozenset()) | (entry.post or frozenset()):
            return frozenset({403})
        if who is None:
            return frozenset({405})
    elif entry.login == ADMIN and persona not in ADMIN_STAFF:
        # The admin sends anyone who is not active staff to its own sign-in page.
        return LOGIN
    elif who is None:
        if anonymous and not entry.method_first and entry.login != PUBLIC:
            return LOGIN
        return frozenset({405})
    elif anonymous and entry.login != PUBLIC:
        return LOGIN
    outside = where == "outside" and entry.scoped_for(method)
    missing = entry.missing if persona in NATIONAL and entry.missing is not None else None
    if outside and entry.scope_first:
        return frozenset({missing or entry.outside})
    if persona not in who:
        return frozenset({403})
    if outside:
        return frozenset({missing or entry.outside})
    return entry.ok


def login_path(entry: Url) -> str:
    return reverse("admin:login") if entry.login == ADMIN else reverse("account_login")


def judge(entry: Url, want, answer: Answer) -> str | None:
    """What is wrong with the answer, or None."""
    if answer.status >= 500:
        return f"server error {answer.status}"
    if want == LOGIN:
        if answer.status != 302 or not answer.location.startswith(login_path(entry)):
            return f"{answer.status} {answer.location!r}, expected a redirect to sign in"
        return None
    if answer.status not in want:
        return f"{answer.status} {answer.location!r}, expected {sorted(want)}"
    if answer.status == 302 and not entry.any_of:
        for page in (reverse("account_login"), reverse("admin:login")):
            if answer.location.startswith(page):
                return f"302 to sign in ({answer.location!r}), expected {sorted(want)}"
    return None
