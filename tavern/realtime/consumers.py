"""Sockets: what every Tavern socket does the same way, and ``ws/notifications/``.

`TavernSocket` authenticates (anonymous → 4401), caps the sockets a user holds
(→ 4429, WEBSOCKETS_PER_USER), answers a frame that is not a JSON object with an
error event instead of dying (1011), closes on binary frames (1003), and joins the
user's own group, so that a ban or a new password closes it (4403)."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from tavern.json_input import JsonInputError, json_input_load

from .groups import user_group
from .socket_limits import socket_admit, socket_release

CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY_SOCKETS = 4429


class TavernSocket(AsyncJsonWebsocketConsumer):
    user_id: int
    admitted = False

    async def admit(self) -> bool:
        """Call from connect() before accepting: the user, and room for one more socket."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        self.user_id = user.pk
        if not await socket_admit(user_id=user.pk, channel_name=self.channel_name):
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return False
        self.admitted = True
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        return True

    async def disconnect(self, code: int) -> None:
        if self.admitted:
            await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)
            await socket_release(user_id=self.user_id, channel_name=self.channel_name)

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

    async def user_disconnect(self, message: dict[str, Any]) -> None:
        await self.close(code=message["code"])


class UserEventsConsumer(TavernSocket):
    """``ws/notifications/``: every event addressed to the logged-in user."""

    async def connect(self) -> None:
        if not await self.admit():
            return
        await self.accept()
        await self.send_json({"type": "hello", "user_id": self.user_id})

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def user_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
