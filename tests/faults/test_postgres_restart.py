"""PostgreSQL restarted under a running web server and worker: both go on without a restart
of their own. Every open connection dies with the restart; the web process checks a reused
connection before each request (conn_health_checks) and the worker before each task (Celery's
Django fixup), and both open a new one."""

import subprocess

import psycopg
from django.conf import settings
from django.db import connection

from reports.models import ReportFormat, ReportKind
from tests.faults.conftest import NEEDS_SERVICES
from tests.faults.processes import (
    ScratchPostgres,
    WebServer,
    Worker,
    django_env,
    form_fields,
    session_for,
    wait_for,
)
from tests.migrants.factories import ARJOWILANGUN
from tests.reports.helpers import last_month

pytestmark = NEEDS_SERVICES


def copy_test_database(target: ScratchPostgres, name: str) -> None:
    """The test database as it is now (the world, the session) into the scratch cluster."""
    source = connection.settings_dict
    target._run("createdb", "-h", "127.0.0.1", "-p", str(target.port), "-U", "postgres", name)
    dump = subprocess.run(  # noqa: S603 (our own command line)
        [
            str(target.bin / "pg_dump"),
            "--no-owner",
            "--no-privileges",
            "-h",
            source["HOST"] or "127.0.0.1",
            "-p",
            str(source["PORT"] or 5432),
            "-U",
            source["USER"] or "postgres",
            source["NAME"],
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env={"PGPASSWORD": source["PASSWORD"] or ""},
    )
    subprocess.run(  # noqa: S603
        [str(target.bin / "psql"), "-q", "-o", "/dev/null", target.url(name)],
        input=dump.stdout,
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_the_app_recovers_from_a_postgresql_restart_without_its_own(
    world, media, queue, log, processes
):
    browser = session_for(world["officer_arjowilangun"], "http://127.0.0.1")
    postgres = ScratchPostgres()
    processes.append(postgres)
    copy_test_database(postgres, "desmigratif")
    database_url = postgres.url("desmigratif")
    env = django_env(database_url=database_url, broker_url=settings.CELERY_BROKER_URL, queue=queue)
    processes.append(Worker(env, log=log))
    web = WebServer(env, log=log)
    processes.append(web)
    base = web.base
    month = last_month().strftime("%Y-%m")

    def ask_for_a_report(format: str) -> None:
        page = browser.get(base + "/unduhan/minta/", timeout=60)
        assert page.status_code == 200
        data = {
            **form_fields(page.text),
            "kind": ReportKind.REGISTER,
            "format": format,
            "area": ARJOWILANGUN,
            "month_from": month,
            "month_to": month,
        }
        response = browser.post(base + "/unduhan/minta/", data=data, allow_redirects=False)
        assert response.status_code == 302

    def built(format: str) -> bool:
        with psycopg.connect(database_url) as scratch:
            row = scratch.execute(
                "SELECT state FROM reports_reportjob WHERE format = %s", [format]
            ).fetchone()
        return row is not None and row[0] == "done"

    assert browser.get(base + "/register/", timeout=60).status_code == 200
    ask_for_a_report(ReportFormat.XLSX)
    wait_for(lambda: built(ReportFormat.XLSX), what="the report before the restart")

    postgres.restart()

    # The very first request after the restart, on the web process's old connection.
    first = browser.get(base + "/register/", timeout=60, allow_redirects=False)
    assert first.status_code == 200
    health = browser.get(base + "/health/", timeout=60).json()
    assert health["database"]["ok"] is True
    # And the worker: its next task opens a new connection too.
    ask_for_a_report(ReportFormat.PDF)
    wait_for(lambda: built(ReportFormat.PDF), what="the report after the restart")
