"""Report jobs with real Celery workers on Redis and PostgreSQL (CI runs them): a report is
built by the worker; a worker killed in the middle of a build leaves a job that the reaper
puts back and a new worker completes exactly once."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from desmigratif.celery import app
from reports.models import ReportJob
from reports.tasks import build_report, reap_stuck_reports
from tests.reports.helpers import ask, files_of, fresh

# Decided before any fixture runs: a skipped test must not set up (and flush) a database.
READY = bool(settings.CELERY_BROKER_URL) and "postgresql" in settings.DATABASES["default"]["ENGINE"]

# Workers read what the test wrote: real commits. Each test starts from the data migrations'
# rows (serialized_rollback) and ends by emptying the tables.
pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(
        not READY, reason="needs CELERY_BROKER_URL and a PostgreSQL DATABASE_URL a worker can share"
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

State = ReportJob.State


@pytest.fixture(scope="module", autouse=True)
def _data_migrations_back_afterwards(django_db_blocker):
    """A transactional test ends by emptying every table. pytest-django runs such tests after
    those that use the `db` fixture, but before tests that reach the database only through
    request.getfixturevalue (it cannot see those coming); they would find the rows of the
    data migrations gone. Put them back once this module is done."""
    yield
    contents = getattr(connection, "_test_serialized_contents", None)
    if READY and contents:
        with django_db_blocker.unblock():
            connection.creation.deserialize_db_from_string(contents)


def wait_for(predicate, *, what: str, seconds: float = 90):
    """Poll until `predicate()` is true; a deadline, not a timing assertion."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_report_is_built_by_the_worker(world, celery_worker):
    job = ask(world["officer_arjowilangun"])  # autocommit: the message leaves at once
    wait_for(lambda: fresh(job).state in (State.DONE, State.FAILED), what="the build")
    job = fresh(job)
    try:
        assert job.state == State.DONE, job.error
        assert (job.attempts, job.progress) == (1, 100)
        assert files_of(job, settings.MEDIA_ROOT) == [Path(settings.MEDIA_ROOT) / job.file]
    finally:
        (Path(settings.MEDIA_ROOT) / job.file).unlink(missing_ok=True)


class Worker:
    """A worker of tests/reports/worker_app.py in a process group of its own, so that the
    whole of it (main process and pool child) can be killed at once, as an OOM kill or a
    pulled plug would."""

    def __init__(self, *, queue: str, media: Path, runs: Path, slow_seconds: float, log: Path):
        self.name = f"{queue}-{uuid.uuid4().hex[:4]}@localhost"
        env = dict(
            os.environ,
            CELERY_QUEUE=queue,
            MEDIA_ROOT=str(media),
            REPORT_TEST_RUNS_FILE=str(runs),
            REPORT_TEST_SLOW_SECONDS=str(slow_seconds),
        )
        test_db = connection.settings_dict["NAME"]
        env["DATABASE_URL"] = settings.DATABASE_URL.rsplit("/", 1)[0] + "/" + test_db
        celery = str(Path(sys.executable).with_name("celery"))
        self.process = subprocess.Popen(  # noqa: S603 (our own command line)
            [
                celery,
                "-A",
                "tests.reports.worker_app",
                "worker",
                "-Q",
                queue,
                "-n",
                self.name,
                "-c",
                "1",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
            ],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.name], timeout=1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the test worker did not start; see {log}")

    def kill(self) -> None:
        """SIGKILL to the whole worker: no shutdown, no acknowledgement, nothing cleaned."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def kill_child(self) -> None:
        """SIGKILL to the pool process only: the main process sees its child lost and (with
        task_reject_on_worker_lost) puts the message back in the queue at once."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        (child,) = children.read_text().split()
        os.kill(int(child), signal.SIGKILL)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.mark.parametrize("kill", ["worker", "child"])
def test_a_worker_killed_mid_job_leaves_a_job_completed_exactly_once(
    world, settings, tmp_path, kill
):
    queue = f"test-kill-{uuid.uuid4().hex[:8]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    runs = tmp_path / "runs.txt"
    log = Path(settings.BASE_DIR, "test-artifacts", f"worker-{queue}.log")
    log.parent.mkdir(exist_ok=True)
    workers = []
    try:
        # The first run of the job is slow enough to be killed mid-build; later ones are quick.
        first = Worker(queue=queue, media=media, runs=runs, slow_seconds=120, log=log)
        workers.append(first)
        job = ask(world["officer_arjowilangun"])
        wait_for(
            lambda: fresh(job).state == State.RUNNING and files_of(job, media),
            what="the first worker to start building",
        )
        if kill == "worker":
            first.kill()
            second = Worker(queue=queue, media=media, runs=runs, slow_seconds=120, log=log)
            workers.append(second)
        else:
            first.kill_child()
            # The message comes straight back, to the same worker's new pool process: it
            # finds the job running (its run is dead, but nothing can know that yet) and
            # gives up instead of building a second time.
            wait_for(lambda: "succeeded in" in log.read_text(), what="the redelivery")
            assert "succeeded in" in log.read_text()
            assert ": False" in log.read_text()

        job = fresh(job)
        assert (job.state, job.attempts) == (State.RUNNING, 1)  # as the dead run left it
        assert [p.name.endswith(".tmp") for p in files_of(job, media)] == [True]
        assert len(runs.read_text().splitlines()) == 1
        # The reaper's pass once the run is past its time limit (zero here, so: now).
        settings.REPORT_TIME_LIMIT = 0
        assert reap_stuck_reports()["requeued"] == 1
        wait_for(lambda: fresh(job).state in (State.DONE, State.FAILED), what="the rebuild")

        job = fresh(job)
        assert job.state == State.DONE, job.error
        assert job.attempts == 2
        assert files_of(job, media) == [media / job.file]  # one file, no temporary left
        assert len(runs.read_text().splitlines()) == 2  # killed once, built once

        # The dead worker's message may still come back (Redis redelivers unacknowledged
        # messages after the visibility timeout): it finds the job done and builds nothing.
        assert build_report.delay(str(job.pk)).get(timeout=60) is False
        assert len(runs.read_text().splitlines()) == 2
        assert (fresh(job).attempts, fresh(job).file) == (2, job.file)
    finally:
        app.conf.task_default_queue = previous_queue
        for worker in workers:
            worker.stop()
