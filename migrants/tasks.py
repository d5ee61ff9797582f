import logging

from celery import shared_task

from migrants import importer

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=600, time_limit=660)
def validate_import(batch_id: str) -> None:
    importer.validate_batch(batch_id=batch_id)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=900,
    time_limit=960,
    max_retries=2,
)
def commit_import(self, batch_id: str) -> None:
    """All the valid rows or none; a failure leaves the batch "failed" with its reason and a
    retry button (the transaction rolled back, so nothing is half-written)."""
    try:
        importer.commit_batch(batch_id=batch_id)
    except Exception as exc:
        logger.exception("import %s failed", batch_id)
        importer.fail_batch(batch_id=batch_id, message=str(exc) or exc.__class__.__name__)
