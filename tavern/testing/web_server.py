"""Tavern's real web server (tavern/http_server.py, as `make run` starts it) in a
subprocess, for tests that speak to it over the wire.

It listens on a free loopback port with the test settings, this run's test database
and Redis; `start` returns once `/healthz` answers. Waits are generous and end on the
event: only a broken server ever waits them out.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from django.conf import settings
from django.db import connection

START_SECONDS = 120.0
STOP_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url() -> str:
    """This run's test database (as pytest-django named it) as a DATABASE_URL for another process."""
    db = connection.settings_dict
    if db["NAME"] != db.get("TEST", {}).get("NAME"):
        # pytest-django sets the test database up only when a collected test asks for it.
        raise RuntimeError("No test database: mark the tests that use the server `django_db`.")
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host, port, name = db["HOST"] or "", db["PORT"] or "5432", quote(db["NAME"], safe="")
    if host.startswith("/"):  # a Unix socket folder (the embedded server) goes in the query
        return f"postgres://{credentials}@:{port}/{name}?host={quote(host, safe='/')}"
    return f"postgres://{credentials}@{host}:{port}/{name}"


class WebServer:
    """`with WebServer(log_path=..., env={...}) as server:` serves on `server.port`."""

    def __init__(self, *, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tavern.settings.test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "tavern.http_server", "-b", "127.0.0.1", "-p", str(self.port)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [*command, "tavern.asgi:application"],
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_SECONDS
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"the web server exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the web server did not answer /healthz in time:\n{self.log()}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_SECONDS)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/healthz", timeout=5) as response:  # noqa: S310 - loopback
                return bool(response.status == 200)
        except OSError:
            return False

    def __enter__(self) -> WebServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
