from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from tavern.jobs.runner import job_execute
from tavern.models import BackgroundJob, JobStatus
from tavern.realtime.push import user_event_send_now

# Below the worker's hard limit (CELERY_TASK_TIME_LIMIT), so a job that runs too long
# ends as failed with a message instead of being killed mid-write.
JOB_SOFT_TIME_LIMIT = 25 * 60


@shared_task(name="tavern.user_event_deliver", ignore_result=False)
def user_event_deliver(user_id: int, event_type: str, payload: dict[str, Any]) -> str:
    """Push an event to a user's open sockets from a worker (e.g. a job that finished)."""
    user_event_send_now(user_id=user_id, event_type=event_type, payload=payload)
    return event_type


@shared_task(
    name="tavern.job_run",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=JOB_SOFT_TIME_LIMIT,
)
def job_run(job_id: int) -> str:
    """Run a background job. Idempotent: a redelivered message (the worker was lost, the
    broker retried) finds the job finished or held by another worker and does nothing."""
    return job_execute(job_id=job_id)


QUEUED_JOB_RESEND_AFTER = timedelta(minutes=2)


@shared_task(name="tavern.jobs_resend_queued", acks_late=True, reject_on_worker_lost=True)
def jobs_resend_queued() -> int:
    """Beat job: send again the jobs still queued a while after they were made (the broker
    was down when they were committed, or their message was lost). Harmless for the others:
    a job runs once, whoever claims it first (tavern/jobs/runner.py)."""
    stale = list(
        BackgroundJob.objects.filter(
            status=JobStatus.QUEUED, created_at__lt=timezone.now() - QUEUED_JOB_RESEND_AFTER
        ).values_list("pk", flat=True)[:500]
    )
    for job_id in stale:
        job_run.delay(job_id)
    return len(stale)
