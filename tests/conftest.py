"""Named personas and the small region world they live in.

The world is the demo's: the 2016 pilots Kenanga (Indramayu) and Kuripan (Wonosobo) and Kab.
Malang's Arjowilangun, Sumberpetung (Kalipare), Balearjo and Brongkal (Pagelaran).
"""

import pytest
from django.test import Client

from accounts.models import Role, User
from villages.demo import seed_demo
from villages.services import regions_load

PASSWORD = "test-password-123"

# The regions of the demo villages and their ancestors, plus one undesignated village.
WORLD_REGIONS = {
    "32": "JAWA BARAT",
    "32.12": "KAB. INDRAMAYU",
    "32.12.16": "Sindang",
    "32.12.16.2004": "Kenanga",
    "33": "JAWA TENGAH",
    "33.07": "KAB. WONOSOBO",
    "33.07.10": "Watumalang",
    "33.07.10.2004": "Kuripan",
    "35": "JAWA TIMUR",
    "35.07": "KAB. MALANG",
    "35.07.11": "Kalipare",
    "35.07.11.2003": "Sumberpetung",
    "35.07.11.2008": "Arjowilangun",
    "35.07.11.2001": "Kalipare",
    "35.07.33": "Pagelaran",
    "35.07.33.2004": "Balearjo",
    "35.07.33.2006": "Brongkal",
    "35.73": "KOTA MALANG",
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 is slow by design; the tests check who may do what, not hashing strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    """Regions, the six designated villages and the demo users (password PASSWORD)."""
    regions_load(regions=WORLD_REGIONS, edition="test", source="tests")
    users = {user.username: user for user in seed_demo(password=PASSWORD)}
    users["officer_brongkal"] = _user("officer_brongkal", Role.VILLAGE_OFFICER, "35.07.33.2006")
    users["deactivated_officer"] = _user(
        "deactivated_officer", Role.VILLAGE_OFFICER, "35.07.11.2008", is_active=False
    )
    _with_authenticator_apps(users.values())
    return users


def _with_authenticator_apps(users) -> None:
    """The authenticator app (TOTP) that the roles above a village must have (issue 7;
    tests/security checks what happens without it)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts.mfa import MFA_ROLES

    for user in users:
        if user.role in MFA_ROLES or user.is_superuser:
            TOTP.activate(user, generate_totp_secret())


def _user(username: str, role: str, scope: str | None, **extra) -> User:
    user = User(
        username=username, email=f"{username}@example.org", role=role, scope_id=scope, **extra
    )
    user.set_password(PASSWORD)
    user.save()
    return user


def _client_for(user: User) -> Client:
    """The persona's browser as after signing in and confirming the password (issue 7: exports
    and account changes ask for it again; tests/security checks that rule)."""
    import time

    client = Client()
    client.force_login(user)
    session = client.session
    # What allauth's re-authentication records (allauth.account.internal.flows.login).
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


@pytest.fixture
def anonymous() -> Client:
    return Client()


@pytest.fixture
def officer_arjowilangun(world) -> Client:
    return _client_for(world["officer_arjowilangun"])


@pytest.fixture
def officer_brongkal(world) -> Client:
    return _client_for(world["officer_brongkal"])


@pytest.fixture
def officer_kenanga(world) -> Client:
    return _client_for(world["officer_kenanga"])


@pytest.fixture
def head_arjowilangun(world) -> Client:
    return _client_for(world["head_arjowilangun"])


@pytest.fixture
def coordinator_malang(world) -> Client:
    return _client_for(world["coordinator_malang"])


@pytest.fixture
def coordinator_indramayu(world) -> Client:
    return _client_for(world["coordinator_indramayu"])


@pytest.fixture
def province_jatim(world) -> Client:
    return _client_for(world["province_jatim"])


@pytest.fixture
def evaluator(world) -> Client:
    return _client_for(world["evaluator"])


@pytest.fixture
def ministry_admin(world) -> Client:
    return _client_for(world["admin"])


# --- Celery -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _celery_inline_unless_asked(request):
    """Tasks run inline in tests, except in those marked `celery_worker`, which talk to the
    real worker started by `celery_worker` (only when CELERY_BROKER_URL is set)."""
    from desmigratif.celery import app

    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real worker process on the configured broker, reading a queue of its own and using
    the test database. Skips the test when no broker is configured."""
    import os
    import subprocess
    import sys
    import time
    import uuid
    from pathlib import Path

    from django.conf import settings
    from django.db import connection

    from desmigratif.celery import app

    if not settings.CELERY_BROKER_URL:
        pytest.skip("CELERY_BROKER_URL is not set: no real worker to test against")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    name = f"{queue}@localhost"
    env = dict(os.environ, CELERY_QUEUE=queue)
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock():
            test_db = connection.settings_dict["NAME"]
        env["DATABASE_URL"] = settings.DATABASE_URL.rsplit("/", 1)[0] + "/" + test_db
    log = Path(settings.BASE_DIR, "test-artifacts", f"worker-{queue}.log")
    log.parent.mkdir(exist_ok=True)
    celery = str(Path(sys.executable).with_name("celery"))
    process = subprocess.Popen(  # noqa: S603 (our own command line)
        [
            celery,
            "-A",
            "desmigratif",
            "worker",
            "-Q",
            queue,
            "-n",
            name,
            "-c",
            "1",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name], timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the test worker did not start; see {log}")
        yield {"name": name, "queue": queue, "process": process}
    finally:
        app.conf.task_default_queue = previous_queue
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
