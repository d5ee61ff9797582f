import logging

from celery import shared_task
from django.core.cache import cache

from dashboards import summaries

logger = logging.getLogger(__name__)
LOCK = "dashboards:refresh-lock"


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=1500, time_limit=1560)
def refresh_summaries() -> int:
    """Rebuild the dashboards' summary tables (beat runs it every SUMMARY_REFRESH_MINUTES).
    Two refreshes never run at once: a second one returns at once (the first is as fresh)."""
    if not cache.add(LOCK, "1", timeout=1560):
        logger.info("summary refresh already running")
        return 0
    try:
        run = summaries.refresh_summaries()
        logger.info("summaries refreshed: %s facts in %s s", run.facts, run.seconds)
        return run.facts
    finally:
        cache.delete(LOCK)
