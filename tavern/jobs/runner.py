"""Run one background job, exactly once, whatever the broker redelivers.

A job runs in two steps:

1. Claim (a short transaction under the job's row lock): a finished job, or one that
   another worker holds, is left alone; otherwise it becomes `running` and its
   attempt is counted. A job interrupted `MAX_ATTEMPTS` times (a worker killed each
   time) fails instead of coming back forever.
2. Work (one transaction, holding the row lock): the kind's work and the success are
   committed together, so a job that succeeded made its result exactly once and a job
   that failed left nothing half-made. Progress meanwhile goes to the cache
   (tavern/jobs/progress.py). A redelivered message finds the lock held (another
   worker is on it) or the job finished, and does nothing.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from tavern.errors import DomainRuleError
from tavern.models import BackgroundJob, JobStatus

from .progress import JobProgress, progress_read, progress_write
from .registry import job_kind_get
from .services import job_finish, job_input_discard

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
FAILED_ON_OUR_SIDE = "The job failed on our side. It has been logged; try again later."


class JobInputMissing(DomainRuleError):
    pass


def job_execute(*, job_id: int) -> str:
    """Run the job if it is still to be done; returns its status afterwards ("skipped"
    when another worker holds it or it had already ended)."""
    refused = _job_claim(job_id)
    if refused is not None:
        return refused
    try:
        status = _job_work(job_id)
    except DomainRuleError as error:
        status = _job_fail(job_id, error.message)
    except Exception:
        # A bug or an outage (the soft time limit included): logged, and the job ends
        # rather than being redelivered into the same failure.
        logger.exception("background job %s failed", job_id)
        status = _job_fail(job_id, FAILED_ON_OUR_SIDE)
    if status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        job_input_discard(job_id=job_id)
    return status


def _job_claim(job_id: int) -> str | None:
    """None when this worker may do the job; else what became of it."""
    with transaction.atomic():
        job = BackgroundJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.is_finished:
            return "skipped"
        if job.attempts >= MAX_ATTEMPTS:
            job_finish(
                job=job,
                status=JobStatus.FAILED,
                error=f"The job was interrupted {job.attempts} times and is not tried again.",
            )
            transaction.on_commit(lambda: job_input_discard(job_id=job_id))
            return JobStatus.FAILED
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = timezone.now()
        job.save(update_fields=["status", "attempts", "started_at"])
        total = job.progress_total
        transaction.on_commit(lambda: progress_write(job_id, 0, total))
    return None


def _job_work(job_id: int) -> str:
    with transaction.atomic():
        job = (
            BackgroundJob.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("owner")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.status != JobStatus.RUNNING:
            return "skipped"  # another worker holds it, or it ended meanwhile
        kind = job_kind_get(job.kind)
        progress = JobProgress(job.pk, job.progress_total)
        result = kind.run(job, _job_input(job), progress)
        job.progress_total = max(progress.total, job.progress_done)
        job_finish(job=job, status=JobStatus.SUCCEEDED, result=result)
    return JobStatus.SUCCEEDED


def _job_input(job: BackgroundJob) -> bytes:
    if not job.input_file:
        raise JobInputMissing("The uploaded file is no longer there; upload it again.")
    try:
        with job.input_file.open("rb") as stored:
            return stored.read()
    except FileNotFoundError:
        raise JobInputMissing("The uploaded file is no longer there; upload it again.") from None


def _job_fail(job_id: int, message: str) -> str:
    with transaction.atomic():
        job = BackgroundJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return "skipped"
        if not job.is_finished:
            live = progress_read(job_id)  # how far it got, for the user to see
            if live is not None:
                job.progress_done = min(live[0], job.progress_total)
                job.save(update_fields=["progress_done"])
            job_finish(job=job, status=JobStatus.FAILED, error=message)
        return job.status
