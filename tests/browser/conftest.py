"""Fixtures of the browser tests: one headless chromium for the session, a fresh context (no
cookies) per journey, with axe-core loaded into every document."""

import os

import pytest

from tests.browser.pages import AXE, CHROMIUM, IN_CI, MISSING, Journey


# Package scope: Playwright's event loop, and the flag below, end with the browser tests rather
# than running on under the rest of the suite (a deploy check would inherit the flag).
@pytest.fixture(scope="package")
def chromium():
    if MISSING:
        if IN_CI:
            pytest.fail(f"browser tests cannot run in CI: {MISSING}")
        pytest.skip(f"browser tests: {MISSING}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django refuses ORM calls from a
    # thread with a running loop unless told that the caller is synchronous, as the tests are.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def journey(chromium, live_server, request):
    """A new tab of a new browser profile; `journey(name)` opens it."""
    contexts = []

    def open_tab(name: str) -> Journey:
        context = chromium.new_context(
            accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="id-ID"
        )
        context.add_init_script(path=str(AXE))
        context.set_default_timeout(20_000)
        contexts.append(context)
        return Journey(context.new_page(), live_server.url, name)

    yield open_tab
    for context in contexts:
        context.close()


@pytest.fixture(autouse=True)
def _files_in_a_temporary_folder(settings, tmp_path, request):
    # Uploads and report files of a test stay in its own folder, except where a real worker
    # (another process, with the settings of its environment) writes them.
    if not request.node.get_closest_marker("celery_worker"):
        settings.MEDIA_ROOT = tmp_path / "media"


# The test database's contents after the migrations (their data rows included), as
# pytest-django serialized them for `serialized_rollback`.
SERIALIZED: dict[str, str] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    from django.db import connection

    SERIALIZED["default"] = getattr(connection, "_test_serialized_contents", "")


@pytest.fixture(autouse=True)
def _data_migrations_rows(django_db_blocker):
    """serialized_rollback puts the data migrations' rows back before each transactional test
    from an attribute of the connection object pytest-django serialized on. With Playwright's
    sync API running, the tests were seen to get another connection object, without it, so the
    rows were gone after the first browser test. Give it back, and the rows with it."""
    from django.db import connection

    if SERIALIZED.get("default") and not hasattr(connection, "_test_serialized_contents"):
        with django_db_blocker.unblock():
            connection._test_serialized_contents = SERIALIZED["default"]
            connection.creation.deserialize_db_from_string(SERIALIZED["default"])


@pytest.fixture(scope="package", autouse=True)
def _data_migrations_back_afterwards(django_db_blocker):
    """A transactional test ends by emptying every table; tests run after this package that
    reach the database only through request.getfixturevalue would find the data migrations'
    rows gone (see tests/reports/test_worker.py). Put them back once the package is done."""
    yield
    from django.db import connection, connections

    if SERIALIZED.get("default"):
        with django_db_blocker.unblock():
            connection.creation.deserialize_db_from_string(SERIALIZED["default"])
    # The tests' own connection (see above): closed, or PostgreSQL would refuse to drop the
    # test database at the end of the session while it is open.
    connections.close_all()
