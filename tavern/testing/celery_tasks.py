"""A task for the fault test of a worker killed mid-job (imported by that test's worker
only, with `celery worker --include`)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from celery import shared_task


@shared_task(name="tavern.testing.crash_once", acks_late=True, reject_on_worker_lost=True)
def crash_once(folder: str) -> str:
    """The first run dies as a killed worker process does (SIGKILL, mid-job); the retry
    writes `done`. Each run leaves a mark, so the test can count them."""
    marks = Path(folder)
    runs = len(list(marks.glob("run-*"))) + 1
    (marks / f"run-{runs}").write_text(str(os.getpid()))
    if runs == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    (marks / "done").write_text(str(runs))
    return "done"
