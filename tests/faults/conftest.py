"""Fault tests: the real PostgreSQL, Redis and Celery worker, as CI runs them (issue 8).

They need CELERY_BROKER_URL and a PostgreSQL DATABASE_URL and skip otherwise. Workers and web
servers are processes of their own reading the test database, so the tests commit for real
(transaction=True) and start from the data migrations' rows (serialized_rollback). A test that
stops Redis or PostgreSQL starts its own on a spare port (tests/faults/processes.py).
"""

import uuid

import pytest
from django.conf import settings
from django.db import connection

from tests.faults.processes import artefact

READY = bool(settings.CELERY_BROKER_URL) and "postgresql" in settings.DATABASES["default"]["ENGINE"]
NEEDS_SERVICES = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(
        not READY, reason="needs CELERY_BROKER_URL and a PostgreSQL DATABASE_URL (as in CI)"
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(scope="module", autouse=True)
def _data_migrations_back_afterwards(django_db_blocker):
    """A transactional test ends by emptying every table; put the data migrations' rows back
    for the tests that run after this module (as tests/reports/test_worker.py does)."""
    yield
    contents = getattr(connection, "_test_serialized_contents", None)
    if READY and contents:
        with django_db_blocker.unblock():
            connection.creation.deserialize_db_from_string(contents)


@pytest.fixture
def test_database_url() -> str:
    """The test database, for the processes the test starts."""
    return settings.DATABASE_URL.rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def queue():
    """A queue of the test's own; the test process sends to it."""
    from desmigratif.celery import app

    name = f"fault-{uuid.uuid4().hex[:8]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = name
    yield name
    app.conf.task_default_queue = previous


@pytest.fixture
def runs(tmp_path):
    """The file where the workers note every task they start (tests/faults/worker_app.py)."""
    path = tmp_path / "runs.txt"
    path.touch()
    return path


@pytest.fixture
def log(request):
    """The output of the test's processes, kept as an artefact; empty at the start."""
    path = artefact(f"{request.node.name}.log")
    path.write_text("")
    return path


@pytest.fixture
def processes():
    """Whatever the test starts (workers, web servers, scratch services) is stopped after it,
    in reverse order, whatever happened."""
    started = []
    yield started
    for process in reversed(started):
        process.stop()
