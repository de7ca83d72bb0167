"""Writes for background jobs: create one with its input stored, and the transitions
the runner makes (tavern/jobs/runner.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from tavern.models import BackgroundJob, JobStatus
from tavern.realtime.push import user_event_send

from .progress import progress_clear

ERROR_MAX_CHARS = 2000


@transaction.atomic
def job_create(
    *,
    owner: AbstractBaseUser,
    kind: str,
    data: bytes,
    input_name: str,
    total: int,
    params: dict[str, Any] | None = None,
) -> BackgroundJob:
    """A queued job whose input survives until a worker runs it: the bytes go to the
    default storage (local files in development, S3 in production) under the job's key,
    and the job is sent to the worker once this transaction commits."""
    from tavern.tasks import job_run  # the task module imports the runner, which imports this one

    job = BackgroundJob.objects.create(
        owner=owner, kind=kind, params=params or {}, progress_total=total, input_name=input_name[:255]
    )
    job.input_file.save(_stored_name(input_name), ContentFile(data), save=False)
    job.save(update_fields=["input_file"])
    job_id = job.pk
    # robust: a broker outage must not undo the upload; the job stays queued and visible.
    transaction.on_commit(lambda: job_run.delay(job_id), robust=True)
    return job


def _stored_name(input_name: str) -> str:
    return get_valid_filename(input_name.rsplit("/", 1)[-1])[:100] or "input"


def job_finish(*, job: BackgroundJob, status: str, error: str = "", result: Any = None) -> BackgroundJob:
    """Record the outcome (in the caller's transaction: a success commits with its result)."""
    from django.contrib.contenttypes.models import ContentType

    job.status = status
    job.finished_at = timezone.now()
    fields = ["status", "finished_at"]
    if status == JobStatus.SUCCEEDED:
        job.progress_done = job.progress_total
        fields += ["progress_done", "progress_total"]
    if error:
        job.error = error[:ERROR_MAX_CHARS]
        fields.append("error")
    if result is not None:
        job.result_type = ContentType.objects.get_for_model(result)
        job.result_id = result.pk
        fields += ["result_type", "result_id"]
    job.save(update_fields=fields)
    user_event_send(
        user_id=job.owner_id, event_type="job_finished", payload={"job_id": job.pk, "status": status}
    )
    return job


def job_input_discard(*, job_id: int) -> None:
    """The job ended: its stored upload and live progress are no longer needed."""
    job = BackgroundJob.objects.filter(pk=job_id).only("input_file").first()
    if job is not None and job.input_file:
        job.input_file.delete(save=False)
        BackgroundJob.objects.filter(pk=job_id).update(input_file="")
    progress_clear(job_id)
