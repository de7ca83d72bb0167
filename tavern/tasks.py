from __future__ import annotations

from typing import Any

from celery import shared_task

from tavern.jobs.runner import job_execute
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
