"""Live progress of a running job.

A job does its work in one transaction (a failed import leaves nothing behind), so
progress written to the job's row would stay invisible until the end. While it runs,
progress goes to the cache (Redis) instead, where the job API reads it; the row gets
the final figures in the same commit as the result.
"""

from __future__ import annotations

from django.core.cache import cache

# Long enough to outlive any job (the worker's hard time limit is 30 minutes).
_TTL_SECONDS = 24 * 3600


def _key(job_id: int) -> str:
    return f"job-progress:{job_id}"


class JobProgress:
    """Handed to a job's work: call it with (done, total) as items are done. Writes at
    most about a hundred times a job, whatever the number of items."""

    def __init__(self, job_id: int, total: int) -> None:
        self.job_id = job_id
        self.done = 0
        self.total = total
        self._written = -1

    def __call__(self, done: int, total: int | None = None) -> None:
        if total is not None and total != self.total:
            self.total, self._written = total, -1
        self.done = min(done, self.total) if self.total else done
        step = max(1, self.total // 100)
        if self._written < 0 or self.done - self._written >= step or self.done == self.total:
            self._written = self.done
            progress_write(self.job_id, self.done, self.total)


def progress_write(job_id: int, done: int, total: int) -> None:
    cache.set(_key(job_id), (done, total), timeout=_TTL_SECONDS)


def progress_read(job_id: int) -> tuple[int, int] | None:
    value = cache.get(_key(job_id))
    if isinstance(value, list | tuple) and len(value) == 2:
        return int(value[0]), int(value[1])
    return None


def progress_clear(job_id: int) -> None:
    cache.delete(_key(job_id))
