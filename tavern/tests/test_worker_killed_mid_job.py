"""A worker process killed in the middle of a job loses nothing (L3): the job goes back
on the queue and runs again, on a real prefork worker over the real broker."""

import subprocess
import sys
import time

import pytest
from django.conf import settings

from tavern.celery import app
from tavern.testing.web_server import database_url

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 120.0


@pytest.fixture
def prefork_worker(tmp_path):
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tavern",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            "--include=tavern.testing.celery_tasks",
            f"--queues={settings.CELERY_TASK_DEFAULT_QUEUE}",
            f"--hostname=killed-job-test-{tmp_path.name}@%h",
        ],
        cwd=settings.BASE_DIR,
        env={
            **__import__("os").environ,
            "DJANGO_SETTINGS_MODULE": "tavern.settings.test",
            "DATABASE_URL": database_url(),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield tmp_path
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def test_a_job_whose_worker_process_was_killed_runs_again(prefork_worker):
    marks = prefork_worker / "marks"
    marks.mkdir()

    app.send_task("tavern.testing.crash_once", args=[str(marks)], queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    deadline = time.monotonic() + WAIT_SECONDS
    while not (marks / "done").exists():
        assert time.monotonic() < deadline, (prefork_worker / "worker.log").read_text()[-3000:]
        time.sleep(0.1)

    assert (marks / "done").read_text() == "2"
    first, second = (marks / "run-1").read_text(), (marks / "run-2").read_text()
    assert first != second  # the killed process, then a new one


@pytest.mark.parametrize(
    "name", ["characters.character_embed", "characters.embed_stale", "chats.chat_memory_update"]
)
def test_idempotent_jobs_go_back_on_the_queue_when_their_worker_dies(name):
    import characters.tasks  # noqa: F401 - registers the tasks
    import chats.tasks  # noqa: F401

    task = app.tasks[name]

    assert (task.acks_late, task.reject_on_worker_lost) == (True, True)
