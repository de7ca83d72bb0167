"""WebSocket clients for tests that hold on a busy machine.

`TestSocket` is channels' `WebsocketCommunicator` with waits measured in tens of
seconds instead of one: a loaded laptop may take a second to authenticate a
socket, and a test waits on the event, never on the clock. Every socket a test
opens is remembered and closed when the test ends (root conftest), so no
consumer is left listening on the live bus when its event loop closes.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.testing import WebsocketCommunicator

from tavern.testing.waits import EVENT_WAIT_SECONDS

__all__ = ["EVENT_WAIT_SECONDS", "TestSocket", "sockets_close_all"]

_open: list[TestSocket] = []


class TestSocket(WebsocketCommunicator):
    __test__ = False  # not a pytest test class

    def __init__(self, application: Any, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(application, path, headers=headers)
        _open.append(self)

    async def connect(self, timeout: float = EVENT_WAIT_SECONDS) -> tuple[bool, Any]:
        return await super().connect(timeout=timeout)

    async def receive_json_from(self, timeout: float = EVENT_WAIT_SECONDS) -> Any:
        return await super().receive_json_from(timeout=timeout)

    async def receive_from(self, timeout: float = EVENT_WAIT_SECONDS) -> Any:
        return await super().receive_from(timeout=timeout)

    async def receive_output(self, timeout: float = EVENT_WAIT_SECONDS) -> Any:
        return await super().receive_output(timeout=timeout)

    async def disconnect(self, code: int = 1000, timeout: float = EVENT_WAIT_SECONDS) -> None:
        if not self.future.done():
            await super().disconnect(code=code, timeout=timeout)

    async def next_of(self, kind: str, *, allow_errors: bool = False) -> dict[str, Any]:
        """The next event of type `kind`, skipping others (an error fails the test unless allowed)."""
        while True:
            event = await self.receive_json_from()
            if event["type"] == kind:
                return event
            assert allow_errors or event["type"] != "error", event

    async def until(self, kind: str, *, count: int = 1) -> list[dict[str, Any]]:
        """Every event up to and including the `count`-th of type `kind` (no errors allowed)."""
        seen: list[dict[str, Any]] = []
        while sum(1 for event in seen if event["type"] == kind) < count:
            event = await self.receive_json_from()
            assert event["type"] != "error" or kind == "error", event
            seen.append(event)
        return seen

    async def closed_with(self) -> int:
        """The close code the server sends next (events before it are skipped)."""
        while True:
            output = await self.receive_output()
            if output["type"] == "websocket.close":
                return int(output.get("code", 1000))


async def sockets_close_all() -> None:
    """End every socket the test opened and left open (root conftest, at teardown)."""
    while _open:
        socket = _open.pop()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await socket.disconnect()
