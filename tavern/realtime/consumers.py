"""Sockets: what every Tavern socket does the same way, and ``ws/notifications/``.

`TavernSocket` authenticates (anonymous → 4401), caps the sockets a user holds
(→ 4429, WEBSOCKETS_PER_USER), answers a frame that is not a JSON object with an
error event instead of dying (1011), closes on binary frames (1003), and listens to
the user's own topic on the live bus (`tavern.realtime.push`), so that a ban or a new
password closes it (4403) on whichever process it is open.

Sockets use no channel layer: what reaches them comes through `tavern.realtime.bus`,
so a web process runs no channel-layer receive loop per socket."""

from __future__ import annotations

import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model

from tavern.json_input import JsonInputError, json_input_load

from .bus import Subscriber, bus
from .push import CLOSE_SIGNED_OUT, user_frame_read, user_topic
from .socket_limits import socket_admit, socket_release

CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY_SOCKETS = 4429


class TavernSocket(AsyncJsonWebsocketConsumer):
    user_id: int
    socket_id: str
    user_subscriber: Subscriber
    admitted = False
    closing = False

    async def admit(self) -> bool:
        """Call from connect() before accepting: the user, and room for one more socket.
        Once admitted, the socket hears its user's topic (a close sent from now on, by any
        process, reaches it)."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        self.user_id = user.pk
        self.socket_id = uuid.uuid4().hex
        if not await socket_admit(user_id=user.pk, socket_id=self.socket_id):
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return False
        self.admitted = True
        self.user_subscriber = Subscriber(deliver=self._user_frame, on_gap=self.user_events_missed)
        await bus().join(user_topic(user.pk), self.user_subscriber)
        return True

    async def disconnect(self, code: int) -> None:
        if self.admitted:
            self.admitted = False
            await bus().leave(user_topic(self.user_id), self.user_subscriber)
            await socket_release(user_id=self.user_id, socket_id=self.socket_id)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        # Once: a ban's close, a gap's and a refused frame's may all come at one socket.
        if self.closing:
            return
        self.closing = True
        await super().close(code=code, reason=reason)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if text_data is None:
            await self.close(code=CLOSE_UNSUPPORTED_DATA)
            return
        try:
            content = json_input_load(text_data)
        except JsonInputError as error:
            await self.send_error(
                "invalid", f"The event is not usable JSON: {error.message}.", field=error.path or None
            )
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error("invalid", "Each event is a JSON object with a 'type'.")
            return
        await self.receive_json(content)

    async def send_error(self, code: str, message: str, *, field: str | None = None, **extra: Any) -> None:
        payload: dict[str, Any] = {"type": "error", "code": code, "message": message, **extra}
        if field:
            payload["field"] = field
        await self.send_json(payload)

    # ------------------------------------------------------------ the user's topic

    async def _user_frame(self, frame: str) -> None:
        event, close = user_frame_read(frame)
        if close is not None:
            await self.close(code=close)
        elif event is not None:
            await self.user_event(event)

    async def user_event(self, event: dict[str, Any]) -> None:
        """An event pushed to the user: only the notifications socket shows them."""

    async def user_events_missed(self) -> None:
        """The bus lost Redis for a while: a close sent meanwhile may be lost with it. The
        socket closes; its client reconnects and is authenticated afresh."""
        await self.close(code=CLOSE_TRY_AGAIN_LATER)


class UserEventsConsumer(TavernSocket):
    """``ws/notifications/``: every event addressed to the logged-in user.

    Server events: hello (on connect), pong, the pushed events themselves (e.g.
    job_finished), and resync: events may have been missed (the server lost Redis for a
    while), so reload whatever they keep up to date (counts, job states)."""

    opened = False

    async def connect(self) -> None:
        if not await self.admit():
            return
        await self.accept()
        self.opened = True
        await self.send_json({"type": "hello", "user_id": self.user_id})

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def user_event(self, event: dict[str, Any]) -> None:
        # Before it opens, the client is not there yet: its `hello` is where it starts.
        if self.opened and not self.closing:
            await self.send_json(event)

    async def user_events_missed(self) -> None:
        """Stay open and say `resync`, unless the account was banned or its password
        changed meanwhile: the close that said so may be what was missed."""
        if not await _account_unchanged(self.scope["user"]):
            await self.close(code=CLOSE_SIGNED_OUT)
        elif self.opened and not self.closing:
            await self.send_json({"type": "resync"})


@database_sync_to_async
def _account_unchanged(user: Any) -> bool:
    """Still active, with the password it had when the socket was authenticated (every
    way of signing a socket in refuses a changed one)."""
    users = get_user_model()._default_manager
    return users.filter(pk=user.pk, is_active=True, password=user.password).exists()
