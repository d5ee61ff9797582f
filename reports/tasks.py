"""Report tasks. Thin: the job table holds the state (reports.services).

build_report is acknowledged late, and (CELERY_TASK_REJECT_ON_WORKER_LOST) put back in the
queue when its worker dies: a second delivery finds the job running or done and returns at
once; the reaper (reap_stuck_reports, every few minutes) queues a job whose run died again, a
bounded number of times. The hard time limit is the reaper's threshold, so a run the reaper
puts back is no longer running. A job whose message never reached the broker (it was down)
stays queued, and the reaper sends it again.
"""

from celery import shared_task
from django.conf import settings

from reports import services


@shared_task(
    acks_late=True,
    soft_time_limit=max(settings.REPORT_TIME_LIMIT - 30, settings.REPORT_TIME_LIMIT * 9 // 10),
    time_limit=settings.REPORT_TIME_LIMIT,
)
def build_report(job_id: str) -> bool:
    return services.run_job(job_id)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180, ignore_result=True)
def reap_stuck_reports() -> dict[str, int]:
    """The reaper of every job table: report jobs, and the import batches (register and
    pillars) whose task was lost while the broker was down. One beat entry for all, so the
    installed schedules need no change."""
    from migrants.importer import resend_stalled as resend_register_imports
    from pillars.imports import resend_stalled as resend_pillar_imports

    counts = services.reap_stuck()
    counts["imports_resent"] = resend_register_imports() + resend_pillar_imports()
    return counts


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660, ignore_result=True)
def remove_old_reports() -> dict[str, int]:
    return services.remove_old()
