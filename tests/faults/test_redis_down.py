"""Redis stopped: the pages keep working, what was asked for in the meantime shows as
queued, and once Redis is back the reaper's pass sends it again and it runs. Nothing is lost:
the job tables, not the broker, hold the work (docs/operations.md)."""

import datetime
import subprocess
import sys
import time

from django.utils import timezone

from migrants.models import ImportBatch, Person
from reports.models import ReportFormat, ReportJob, ReportKind
from tests.faults.conftest import NEEDS_SERVICES
from tests.faults.processes import (
    ScratchRedis,
    WebServer,
    Worker,
    django_env,
    form_fields,
    session_for,
    wait_for,
)
from tests.migrants.factories import ARJOWILANGUN, person_form
from tests.migrants.files import csv_bytes, row
from tests.reports.helpers import last_month

pytestmark = NEEDS_SERVICES

# A page must answer within this long with Redis down (it hung for 20 s before the fix).
PATIENCE = 8.0


def timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, timeout=60, **kwargs)
    return response, time.monotonic() - started


def post_form(browser, base: str, path: str, data: dict, files=None):
    """Open the form's page (for its CSRF and one-time tokens), then send it."""
    page = browser.get(base + path, timeout=60)
    assert page.status_code == 200, (path, page.status_code)
    return timed(
        browser.post,
        base + path,
        data={**form_fields(page.text), **data},
        files=files,
        allow_redirects=False,
    )


def beat_sends_the_reaper(env: dict) -> None:
    """What celery beat does every few minutes: send the reaper's task to the workers."""
    script = (
        "import django; django.setup(); from desmigratif.celery import app; "
        "app.send_task('reports.tasks.reap_stuck_reports')"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)  # noqa: S603


def test_with_redis_down_the_pages_work_and_the_work_runs_when_it_is_back(
    world, media, queue, runs, log, processes, test_database_url
):
    redis = ScratchRedis()
    processes.append(redis)
    env = django_env(
        database_url=test_database_url,
        broker_url=redis.url,
        queue=queue,
        FAULT_RUNS_FILE=str(runs),
    )
    processes.append(Worker(env, log=log))
    web = WebServer(env, log=log)
    processes.append(web)
    base = web.base
    browser = session_for(world["officer_arjowilangun"], base)
    month = last_month().strftime("%Y-%m")
    report_form = {
        "kind": ReportKind.REGISTER,
        "format": ReportFormat.XLSX,
        "area": ARJOWILANGUN,
        "month_from": month,
        "month_to": month,
    }

    first = browser.get(base + "/register/", timeout=60, allow_redirects=False)
    assert first.status_code == 200, (first.status_code, first.headers.get("Location"))
    # Redis up: a report asked for on the page is built (and the web process now holds its
    # connections to Redis, as a running server does).
    response, _seconds = post_form(browser, base, "/unduhan/minta/", report_form)
    assert response.status_code == 302
    wait_for(
        lambda: ReportJob.objects.filter(state=ReportJob.State.DONE).count() == 1,
        what="the report asked for with Redis up",
    )
    assert browser.get(base + "/health/", timeout=60).status_code == 200

    redis.stop()

    people = Person.objects.count()
    for path in ("/register/", "/dasbor/", "/unduhan/", "/register/impor/"):
        response, seconds = timed(browser.get, base + path)
        assert response.status_code == 200, path
        assert seconds < PATIENCE, (path, seconds)
    response, seconds = post_form(
        browser, base, "/register/baru/", person_form(full_name="Warga Saat Redis Mati")
    )
    assert response.status_code == 302
    assert seconds < PATIENCE
    assert Person.objects.count() == people + 1
    response, seconds = post_form(
        browser, base, "/unduhan/minta/", {**report_form, "format": ReportFormat.PDF}
    )
    assert response.status_code == 302
    assert seconds < PATIENCE
    response, seconds = post_form(
        browser,
        base,
        "/register/impor/baru/",
        {},
        files={"file": ("register.csv", csv_bytes([row(), row()]), "text/csv")},
    )
    assert response.status_code == 302
    assert seconds < PATIENCE
    page = browser.get(base + "/dasbor/", timeout=60)
    response, seconds = timed(
        browser.post,
        base + "/dasbor/segarkan/",
        data=form_fields(page.text),
        allow_redirects=False,
    )
    assert response.status_code == 302
    assert seconds < PATIENCE

    # The work waits in the job tables, as the pages show it: queued, waiting to be checked.
    job = ReportJob.objects.get(format=ReportFormat.PDF)
    batch = ImportBatch.objects.get()
    assert job.state == ReportJob.State.QUEUED
    assert batch.state == ImportBatch.State.UPLOADED
    assert "PDF" in browser.get(base + f"/unduhan/{job.pk}/", timeout=60).text
    health = browser.get(base + "/health/", timeout=60)
    assert health.status_code == 503
    assert health.json()["broker"]["ok"] is False
    assert health.json()["database"]["ok"] is True

    redis.start()  # empty: whatever Redis held is gone, as after a crash without persistence
    # Time passes: the reaper sends again what has waited longer than its grace.
    ReportJob.objects.filter(pk=job.pk).update(created_at=minutes_ago(10))
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=minutes_ago(10))
    beat_sends_the_reaper(env)
    wait_for(
        lambda: (
            ReportJob.objects.get(pk=job.pk).state == ReportJob.State.DONE
            and ImportBatch.objects.get(pk=batch.pk).state == ImportBatch.State.VALIDATED
        ),
        what="the waiting report and import to run once Redis is back",
        seconds=120,
    )
    assert ReportJob.objects.get(pk=job.pk).attempts == 1
    ran = runs.read_text()
    assert ran.count(f"build_report {job.pk}") == 1
    assert ran.count(f"validate_import {batch.pk}") == 1
    wait_for(
        lambda: browser.get(base + "/health/", timeout=60).status_code == 200,
        what="the health check to be green again",
    )


def minutes_ago(minutes: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=minutes)
