"""The Celery app of the workers the fault tests start: the project's app, with three hooks
switched on from the environment.

- FAULT_RUNS_FILE: every task the worker starts is written there ("name first-argument pid"),
  so a test can tell what ran, and how often.
- FAULT_HOLD_FILE: the first try of a register import's commit stops once its rows are written,
  inside the open transaction, writes this file and waits to be killed.
- A register import whose file name starts with "poison" kills its worker process (SIGKILL)
  every time its rows are written, as a file that runs a worker out of memory would.
"""

import os
import signal
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desmigratif.settings")
django.setup()

from celery import signals  # noqa: E402

from desmigratif.celery import app  # noqa: E402
from migrants import importer  # noqa: E402

_execute_plan = importer.execute_plan


@signals.task_prerun.connect
def _note_run(sender=None, args=None, **kwargs) -> None:
    runs = os.environ.get("FAULT_RUNS_FILE")
    if runs:
        first = args[0] if args else "-"
        with open(runs, "a") as handle:
            handle.write(f"{sender.name} {first} {os.getpid()}\n")


def execute_plan(*, plan, batch, actor):
    counts = _execute_plan(plan=plan, batch=batch, actor=actor)
    # The rows are written, the transaction is still open.
    if batch.filename.startswith("poison"):
        os.kill(os.getpid(), signal.SIGKILL)
    hold = os.environ.get("FAULT_HOLD_FILE")
    attempts = type(batch).objects.filter(pk=batch.pk).values_list("attempts", flat=True).get()
    if hold and attempts == 1:
        Path(hold).write_text(f"{os.getpid()}\n")
        time.sleep(600)
    return counts


importer.execute_plan = execute_plan

__all__ = ["app"]
