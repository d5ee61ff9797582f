"""A poison job - an import whose commit kills its worker every time - fails after its bounded
tries, with the reason on the batch, while the jobs queued behind it still complete."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from migrants.importer import MAX_COMMIT_ATTEMPTS, confirm_batch, import_upload
from migrants.models import ImportBatch, Person
from reports.models import ReportJob
from tests.faults.conftest import NEEDS_SERVICES
from tests.faults.processes import Worker, django_env, wait_for
from tests.migrants.files import csv_bytes, row
from tests.reports.helpers import ask

pytestmark = NEEDS_SERVICES

State = ImportBatch.State


def test_a_poison_job_fails_after_its_tries_and_the_others_complete(
    world, media, queue, runs, log, processes, test_database_url
):
    env = django_env(
        database_url=test_database_url,
        broker_url=settings.CELERY_BROKER_URL,
        queue=queue,
        FAULT_RUNS_FILE=str(runs),
    )
    worker = Worker(env, log=log)
    processes.append(worker)
    officer = world["officer_arjowilangun"]
    people_before = Person.objects.count()

    poison = import_upload(actor=officer, data=csv_bytes([row()]), filename="poison.csv")
    good = import_upload(actor=officer, data=csv_bytes([row(), row()]), filename="good.csv")
    wait_for(
        lambda: (
            ImportBatch.objects.filter(pk__in=[poison.pk, good.pk], state=State.VALIDATED).count()
            == 2
        ),
        what="both files to be checked",
    )
    # The poison first, then the others behind it in the same queue.
    assert confirm_batch(batch=poison, actor=officer)
    assert confirm_batch(batch=good, actor=officer)
    job = ask(officer)

    wait_for(
        lambda: (
            ImportBatch.objects.get(pk=poison.pk).state == State.FAILED
            and ImportBatch.objects.get(pk=good.pk).state == State.COMMITTED
            and ReportJob.objects.get(pk=job.pk).state == ReportJob.State.DONE
        ),
        what="the poison to fail and the others to complete",
        seconds=150,
    )
    poison.refresh_from_db()
    assert poison.attempts == MAX_COMMIT_ATTEMPTS + 1  # three tries killed, the fourth gives up
    with translation.override(settings.LANGUAGE_CODE):  # the worker writes in the default language
        assert poison.message == _(
            "The import stopped %(count)d times before it finished; it was not retried again."
        ) % {"count": MAX_COMMIT_ATTEMPTS}
    assert Person.objects.count() == people_before + 2  # the good file's rows only
    commits = [
        line for line in runs.read_text().splitlines() if f"commit_import {poison.pk}" in line
    ]
    assert len(commits) == MAX_COMMIT_ATTEMPTS + 1
    assert worker.process.poll() is None  # the worker itself lives on
