"""The Celery app of the workers started by tests/reports/test_worker.py: the project's app,
with the register builder counting its runs in REPORT_TEST_RUNS_FILE and making the first run
of each job last REPORT_TEST_SLOW_SECONDS (so a test can kill the worker in the middle of a
build, and the run after it is quick)."""

import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desmigratif.settings")
django.setup()

from desmigratif.celery import app  # noqa: E402
from reports import builders  # noqa: E402
from reports.models import ReportKind  # noqa: E402

_original = builders.BUILDERS[ReportKind.REGISTER]


def slow_register(job, path, progress):
    runs = os.environ.get("REPORT_TEST_RUNS_FILE")
    earlier = ""
    if runs:
        if os.path.exists(runs):
            with open(runs) as handle:
                earlier = handle.read()
        with open(runs, "a") as handle:
            handle.write(f"{job.pk} {os.getpid()}\n")
    first_run = str(job.pk) not in earlier
    seconds = float(os.environ.get("REPORT_TEST_SLOW_SECONDS") or 0) if first_run else 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        path.write_bytes(b"partial")  # a half-built file, as a real build leaves one
        progress(10)
        time.sleep(0.1)
    _original(job, path, progress)


builders.BUILDERS[ReportKind.REGISTER] = slow_register

__all__ = ["app"]
