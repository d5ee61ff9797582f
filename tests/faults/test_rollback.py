"""A task sent inside a transaction that rolls back never runs: tasks leave on commit
(`delay_on_commit`, reports' `_enqueue`), so a worker never looks for a row that was never
written."""

import pytest
from django.conf import settings
from django.db import transaction

from migrants.importer import import_upload
from migrants.models import ImportBatch
from reports.models import ReportJob
from tests.faults.conftest import NEEDS_SERVICES
from tests.faults.processes import Worker, django_env, wait_for
from tests.migrants.files import csv_bytes, row
from tests.reports.helpers import ask

pytestmark = NEEDS_SERVICES


class Abandoned(Exception):
    pass


def test_a_task_sent_in_a_transaction_that_rolls_back_never_runs(
    world, media, queue, runs, log, processes, test_database_url
):
    env = django_env(
        database_url=test_database_url,
        broker_url=settings.CELERY_BROKER_URL,
        queue=queue,
        FAULT_RUNS_FILE=str(runs),
    )
    processes.append(Worker(env, log=log))
    officer = world["officer_arjowilangun"]

    sent: dict = {}

    def abandoned_request() -> None:
        with transaction.atomic():
            sent["batch"] = import_upload(
                actor=officer, data=csv_bytes([row()]), filename="abandoned.csv"
            )
            sent["job"] = ask(officer)
            raise Abandoned

    with pytest.raises(Abandoned):
        abandoned_request()
    abandoned_batch, abandoned_job = sent["batch"], sent["job"]
    assert not ImportBatch.objects.filter(pk=abandoned_batch.pk).exists()
    assert not ReportJob.objects.filter(pk=abandoned_job.pk).exists()

    # Then the same, committed. One worker takes its queue in order: once these have run,
    # anything sent before them would have run too.
    batch = import_upload(actor=officer, data=csv_bytes([row()]), filename="kept.csv")
    job = ask(officer)
    wait_for(
        lambda: (
            ImportBatch.objects.get(pk=batch.pk).state == ImportBatch.State.VALIDATED
            and ReportJob.objects.get(pk=job.pk).state == ReportJob.State.DONE
        ),
        what="the committed upload to be checked and the report built",
    )

    ran = runs.read_text()
    assert f"migrants.tasks.validate_import {batch.pk}" in ran
    assert f"reports.tasks.build_report {job.pk}" in ran
    assert str(abandoned_batch.pk) not in ran
    assert str(abandoned_job.pk) not in ran
    assert len(ran.splitlines()) == 2
