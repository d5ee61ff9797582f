"""A worker killed while it commits an import: the rows it had written vanish with its open
transaction (nothing half-written), and the import is then written exactly once - by the
same worker's next pool process when only that process died, or, when the whole worker died,
by another worker once the reaper sends the batch again."""

import pytest
from django.conf import settings

from migrants.importer import confirm_batch, import_upload, resend_stalled
from migrants.models import ImportBatch, Person, PersonHistory
from migrants.tasks import commit_import
from tests.faults.conftest import NEEDS_SERVICES
from tests.faults.processes import Worker, django_env, wait_for
from tests.migrants.files import csv_bytes, row

pytestmark = NEEDS_SERVICES

State = ImportBatch.State
ROWS = 3


def state_of(batch: ImportBatch) -> str:
    return ImportBatch.objects.values_list("state", flat=True).get(pk=batch.pk)


@pytest.mark.parametrize("kill", ["child", "worker"])
def test_a_worker_killed_mid_commit_leaves_nothing_and_the_retry_imports_once(
    world, media, queue, runs, log, processes, test_database_url, tmp_path, kill
):
    held = tmp_path / "held"
    env = django_env(
        database_url=test_database_url,
        broker_url=settings.CELERY_BROKER_URL,
        queue=queue,
        FAULT_RUNS_FILE=str(runs),
        FAULT_HOLD_FILE=str(held),
    )
    processes.append(Worker(env, log=log))
    officer = world["officer_arjowilangun"]
    people_before = Person.objects.count()

    batch = import_upload(
        actor=officer, data=csv_bytes([row() for _ in range(ROWS)]), filename="register.csv"
    )
    wait_for(lambda: state_of(batch) == State.VALIDATED, what="the check")
    assert confirm_batch(batch=batch, actor=officer)

    # The first try has written every row in its transaction, and waits there.
    wait_for(held.exists, what="the commit to write its rows")
    assert Person.objects.count() == people_before  # written, but not committed: invisible
    if kill == "child":
        processes[-1].kill_child()
    else:
        processes[-1].kill()

    if kill == "worker":
        # Nobody holds the batch any more: the reaper's pass sends it again, to a new worker.
        wait_for(
            lambda: state_of(batch) == State.COMMITTING and resend_stalled() == 1,
            what="the reaper to find the batch",
        )
        processes.append(Worker(env, log=log))
    wait_for(lambda: state_of(batch) in (State.COMMITTED, State.FAILED), what="the retry")

    batch.refresh_from_db()
    assert batch.state == State.COMMITTED, batch.message
    assert batch.attempts == 2  # killed once, written once
    assert Person.objects.count() == people_before + ROWS
    assert PersonHistory.objects.filter(batch=batch).count() == ROWS
    commits = [line for line in runs.read_text().splitlines() if "commit_import" in line]
    assert len(commits) == 2

    # The dead try's message may come back (Redis redelivers what was never acknowledged):
    # it finds the batch imported and writes nothing.
    commit_import.delay(str(batch.pk)).get(timeout=60)
    assert Person.objects.count() == people_before + ROWS
    assert ImportBatch.objects.get(pk=batch.pk).attempts == 2
