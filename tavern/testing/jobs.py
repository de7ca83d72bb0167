"""Waiting for a background job in tests that run a real worker.

The wait ends when the job does; the limit is generous so that only a broken job (or
a missing worker) ever reaches it, never a busy machine."""

from __future__ import annotations

import time

from tavern.models import BackgroundJob

JOB_WAIT_SECONDS = 120.0
_POLL_SECONDS = 0.1


def job_wait_finished(job_id: int, *, timeout: float = JOB_WAIT_SECONDS) -> BackgroundJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = BackgroundJob.objects.get(pk=job_id)
        if job.is_finished and not job.input_file:  # ended, and its upload let go of
            return job
        time.sleep(_POLL_SECONDS)
    raise AssertionError(f"job {job_id} did not finish within {timeout:.0f} s (no worker running?)")
