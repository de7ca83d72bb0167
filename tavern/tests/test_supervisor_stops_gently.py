"""Stopping `make run` signals each child's own process only: a Celery worker's pool
processes finish the job they are running (its warm shutdown) instead of being killed
under it, which logged WorkerLostError and queued the job again on every stop."""

import sys
import time

from tavern import supervisor
from tavern.supervisor import Child
from tavern.testing.waits import EVENT_WAIT_SECONDS

# A pool process: busy with a job until its parent says to finish; a SIGTERM of its own kills the job.
POOL_PROCESS = """
import pathlib, signal, sys, time
folder = pathlib.Path(sys.argv[1])
signal.signal(signal.SIGTERM, lambda *_: ((folder / "job-killed").write_text("x"), sys.exit(1)))
(folder / "job-started").write_text("x")
while not (folder / "finish").exists():
    time.sleep(0.01)
(folder / "job-finished").write_text("x")
"""

# The worker's main process: on SIGTERM it lets its pool process finish, then exits.
WORKER = f"""
import pathlib, signal, subprocess, sys, time
folder = pathlib.Path(sys.argv[1])
pool = subprocess.Popen([sys.executable, "-c", {POOL_PROCESS!r}, str(folder)])
def warm_shutdown(*_):
    (folder / "finish").write_text("x")
    sys.exit(pool.wait())
signal.signal(signal.SIGTERM, warm_shutdown)
while True:
    time.sleep(1)
"""


def test_a_worker_finishes_its_running_job_when_the_site_stops(tmp_path):
    child = Child("worker", [sys.executable, "-c", WORKER, str(tmp_path)])
    child.start(echo=False)
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while not (tmp_path / "job-started").exists():
        assert time.monotonic() < deadline, "the pool process did not start"
        time.sleep(0.01)

    supervisor._stop_children([child])

    assert (tmp_path / "job-finished").exists()
    assert not (tmp_path / "job-killed").exists()
    assert child.process.returncode == 0
