"""Run the whole suite as the application's database role, under row-level security.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name> \\
        .venv/bin/python -m pytest -p tests.security.rls_app_role

The test database is made and migrated as the superuser, as usual; then every connection
switches to a role that is neither superuser nor the tables' owner, as in production
(docs/security.md, "Row-level security"). The tests' own set-up writes with the national scope,
like a management command; each request and task sets its user's, as it does in production.
What passes here works behind the second wall. Not a default: the tests that talk to a real
Celery worker (`celery_worker`) still run it as the superuser.
"""

import os

import pytest
from django.db import connection
from django.db.backends.signals import connection_created

ROLE = f"desmigratif_app_suite_{os.getpid()}"


def _become_the_application(sender, connection, **kwargs) -> None:
    if connection.vendor == "postgresql":
        with connection.connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {ROLE}")


@pytest.fixture(scope="session", autouse=True)
def _application_role(django_db_setup, django_db_blocker):
    from desmigratif import rls

    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE ROLE {ROLE} NOLOGIN")
            cursor.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
            # TRUNCATE only for the flush of transactional tests; production grants the rest.
            cursor.execute(
                "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public "
                f"TO {ROLE}"
            )
            cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")
            cursor.execute(f"SET ROLE {ROLE}")
        rls.set_process_scope(rls.NATIONAL)
        connection_created.connect(_become_the_application)
    yield
    with django_db_blocker.unblock():
        connection_created.disconnect(_become_the_application)
        rls.set_process_scope(rls.NO_ACCESS)
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
            cursor.execute(f"DROP OWNED BY {ROLE}")
            cursor.execute(f"DROP ROLE {ROLE}")


@pytest.fixture(autouse=True)
def _outside_any_request():
    """Each test starts outside any request: a streamed response an earlier test left unread
    (the test client closes it only once read) would otherwise leave its user's scope."""
    from desmigratif import rls

    rls.reset()
