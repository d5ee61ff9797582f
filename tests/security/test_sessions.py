"""Sessions (issue 7): they end after inactivity, at an absolute limit and with the browser, and
users see and end their own."""

import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from desmigratif.middleware import LAST_SEEN, SIGNED_IN_AT, TOUCH_SECONDS
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent
LOGIN = reverse("account_login")
REGISTER = reverse("migrants:register")
SESSIONS = reverse("usersessions_list")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def settings_in_a_fresh_process(**env: str) -> dict[str, str]:
    """The values settings.py gives with this environment (and none of the session's)."""
    names = [
        "SESSION_COOKIE_AGE",
        "SESSION_MAX_HOURS",
        "MFA_REQUIRED",
    ]
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS", "MFA_REQUIRED")
    }
    code = "from django.conf import settings; " + "; ".join(
        f"print('{name}', settings.{name})" for name in names
    )
    result = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**clean, "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    values = {}
    for line in result.stdout.splitlines():
        name, _space, value = line.partition(" ")
        if name in names:
            values[name] = value
    return values


def sign_in(username: str, *, agent: str = "Firefox", ip: str = "10.9.0.1") -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    response = client.post(LOGIN, {"login": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


# --- Inactivity -----------------------------------------------------------------------------------


def test_by_default_a_session_lasts_30_idle_minutes_and_12_hours_and_mfa_is_on():
    values = settings_in_a_fresh_process()
    assert values == {
        "SESSION_COOKIE_AGE": str(30 * 60),
        "SESSION_MAX_HOURS": "12",
        "MFA_REQUIRED": "True",
    }


def test_the_environment_sets_the_limits():
    values = settings_in_a_fresh_process(
        SESSION_IDLE_MINUTES="10", SESSION_MAX_HOURS="8", MFA_REQUIRED="false"
    )
    assert values["SESSION_COOKIE_AGE"] == str(10 * 60)
    assert values["SESSION_MAX_HOURS"] == "8"
    assert values["MFA_REQUIRED"] == "False"


def _last_seen_seconds_ago(client: Client, seconds: float) -> None:
    session = client.session
    session[LAST_SEEN] = time.time() - seconds
    session.save()


def test_a_request_pushes_the_end_of_the_session_further(world):
    client = sign_in("officer_arjowilangun")
    _last_seen_seconds_ago(client, TOUCH_SECONDS + 1)
    key = client.session.session_key
    soon = timezone.now() + datetime.timedelta(minutes=1)
    Session.objects.filter(pk=key).update(expire_date=soon)
    assert client.get(REGISTER).status_code == 200
    assert Session.objects.get(pk=key).expire_date > soon


def test_the_session_is_not_written_on_every_request(world):
    client = sign_in("officer_arjowilangun")
    _last_seen_seconds_ago(client, 1)
    key = client.session.session_key
    soon = timezone.now() + datetime.timedelta(minutes=1)
    Session.objects.filter(pk=key).update(expire_date=soon)
    assert client.get(REGISTER).status_code == 200
    assert Session.objects.get(pk=key).expire_date == soon


def test_an_idle_session_is_over(world):
    client = sign_in("officer_arjowilangun")
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get(REGISTER)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_the_session_cookie_ends_with_the_browser(world):
    client = Client()
    response = client.post(LOGIN, {"login": "officer_arjowilangun", "password": PASSWORD})
    cookie = response.cookies["sessionid"]
    assert not cookie["expires"]
    assert not cookie["max-age"]
    assert cookie["httponly"]


# --- The absolute limit ---------------------------------------------------------------------------


def test_signing_in_notes_the_time(world):
    client = sign_in("officer_arjowilangun")
    assert SIGNED_IN_AT in client.session


def test_a_session_from_before_the_rule_counts_from_its_next_request(world, officer_arjowilangun):
    session = officer_arjowilangun.session
    del session[SIGNED_IN_AT]
    session.save()
    assert officer_arjowilangun.get(REGISTER).status_code == 200
    assert SIGNED_IN_AT in officer_arjowilangun.session


def _signed_in_hours_ago(client: Client, hours: float) -> None:
    session = client.session
    session[SIGNED_IN_AT] = time.time() - hours * 3600
    session.save()


def test_an_active_session_ends_at_the_absolute_limit(world, officer_arjowilangun, settings):
    _signed_in_hours_ago(officer_arjowilangun, settings.SESSION_MAX_HOURS + 0.1)
    response = officer_arjowilangun.get(REGISTER)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    # Signed out for good, not only redirected.
    assert officer_arjowilangun.get(REGISTER).url.startswith(LOGIN)
    assert "_auth_user_id" not in officer_arjowilangun.session


def test_the_limit_is_said_on_the_sign_in_page(world, officer_arjowilangun, settings):
    _signed_in_hours_ago(officer_arjowilangun, settings.SESSION_MAX_HOURS + 0.1)
    page = officer_arjowilangun.get(REGISTER, follow=True)
    shown = [str(message) for message in page.context["messages"]]
    assert any("batas waktu" in message for message in shown)


def test_a_session_within_the_limit_goes_on(world, officer_arjowilangun, settings):
    _signed_in_hours_ago(officer_arjowilangun, settings.SESSION_MAX_HOURS - 0.5)
    assert officer_arjowilangun.get(REGISTER).status_code == 200


def test_the_api_says_so_in_json(world, officer_arjowilangun, settings):
    _signed_in_hours_ago(officer_arjowilangun, settings.SESSION_MAX_HOURS + 0.1)
    response = officer_arjowilangun.get(reverse("api:village-list"))
    assert response.status_code == 401
    assert "batas waktu" in response.json()["detail"]


# --- Users see and end their own sessions ---------------------------------------------------------


def test_the_sessions_page_needs_a_sign_in(anonymous, db):
    assert anonymous.get(SESSIONS).url.startswith(LOGIN)


def test_a_user_sees_their_own_sessions_only(world):
    office = sign_in("officer_arjowilangun", agent="Firefox office", ip="10.9.0.1")
    sign_in("officer_arjowilangun", agent="Chrome phone", ip="10.9.0.2")
    sign_in("head_arjowilangun", agent="Edge of the head", ip="10.9.0.3")

    page = office.get(SESSIONS)
    assert page.status_code == 200
    agents = {session.user_agent for session in page.context["sessions"]}
    assert agents == {"Firefox office", "Chrome phone"}
    html = page.content.decode()
    assert "Edge of the head" not in html
    assert "10.9.0.3" not in html


def test_a_user_ends_their_other_sessions_and_only_theirs(world):
    office = sign_in("officer_arjowilangun", agent="Firefox office")
    phone = sign_in("officer_arjowilangun", agent="Chrome phone")
    head = sign_in("head_arjowilangun", agent="Edge of the head")

    response = office.post(SESSIONS)
    assert response.status_code == 302
    assert phone.get(REGISTER).url.startswith(LOGIN)
    assert office.get(REGISTER).status_code == 200
    assert head.get(REGISTER).status_code == 200
    assert set(
        UserSession.objects.filter(user=world["officer_arjowilangun"]).values_list(
            "user_agent", flat=True
        )
    ) == {"Firefox office"}


def test_the_top_bar_links_to_the_sessions(world, officer_arjowilangun):
    html = officer_arjowilangun.get(REGISTER).content.decode()
    assert f'href="{SESSIONS}"' in html
    assert f'href="{reverse("mfa_index")}"' in html
