"""Reads for background jobs: only the owner sees a job; another user's looks missing."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import Http404

from tavern.models import BackgroundJob, JobStatus

from .progress import progress_read
from .registry import job_kind_get


def job_get_for_user(*, job_id: int, user: AbstractBaseUser) -> BackgroundJob:
    try:
        return BackgroundJob.objects.get(pk=job_id, owner_id=user.pk)
    except BackgroundJob.DoesNotExist:
        raise Http404 from None


def job_progress(job: BackgroundJob) -> tuple[int, int]:
    """(done, total): live from the cache while the job runs, else as stored."""
    if job.status == JobStatus.RUNNING:
        live = progress_read(job.pk)
        if live is not None:
            return live
    return job.progress_done, job.progress_total


def job_result_links(job: BackgroundJob) -> dict[str, str] | None:
    """Where the job's result can be seen (API and page), once it succeeded."""
    if job.status != JobStatus.SUCCEEDED or job.result_id is None:
        return None
    return job_kind_get(job.kind).links(job.result_id)


def job_label(job: BackgroundJob) -> str:
    try:
        return job_kind_get(job.kind).label
    except LookupError:
        return job.kind


def job_doing(job: BackgroundJob) -> str:
    try:
        return job_kind_get(job.kind).doing
    except LookupError:
        return "Working"
