import logging

from celery import shared_task

from pillars import imports

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=600, time_limit=660)
def validate_pillar_import(batch_id: str) -> None:
    """Check an uploaded pillar file; a redelivery finds the batch claimed and does nothing."""
    imports.validate_batch(batch_id=batch_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=900, time_limit=960)
def commit_pillar_import(batch_id: str) -> None:
    """All the valid rows or none; a failure leaves the batch "failed" with its reason and a
    retry button (the transaction rolled back, so nothing is half-written)."""
    try:
        imports.commit_batch(batch_id=batch_id)
    except Exception as exc:
        logger.exception("pillar import %s failed", batch_id)
        imports.fail_batch(batch_id=batch_id, message=_reason(exc))


def _reason(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)
    if messages:
        return " ".join(str(m) for m in messages)
    return str(exc) or exc.__class__.__name__
