"""Refuse a request body over its endpoint's limit (tavern/http_limits.py) before Django
reads it.

Django's ASGIHandler reads the whole body into a temporary file before any Django
middleware runs, so this check wraps the ASGI application instead. A declared
Content-Length over the limit is answered 413 without a single `receive`. A body without
one is counted as it arrives: once past the limit the application hears that the client
is gone (Django drops what it read and answers nothing), and the client gets the 413.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from django.core.handlers.asgi import get_script_prefix

from tavern.http_limits import body_limit, size_text, too_large_content

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DISCONNECT: Message = {"type": "http.disconnect"}


class RequestBodyLimitMiddleware:
    """HTTP through `app` only with a body its endpoint takes; other scopes untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        limit = body_limit(method=method, path_info=_path_info(scope))
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _send_too_large(send, method=method, limit=limit)
            return
        body = _CountedBody(receive, limit)
        response = _ResponseWatch(send)
        await self.app(scope, body.receive, response.send)
        if body.over_limit and not response.started:
            await _send_too_large(send, method=method, limit=limit)


class _CountedBody:
    """`receive` that stops the body once it passes `limit`: the app then hears a disconnect."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self.limit = limit
        self.received = 0
        self.over_limit = False

    async def receive(self) -> Message:
        if self.over_limit:
            return DISCONNECT
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.over_limit = True
                return DISCONNECT
        return message


class _ResponseWatch:
    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _path_info(scope: Scope) -> str:
    """The path as Django resolves it: without the prefix the app is mounted under."""
    path: str = scope["path"]
    prefix = get_script_prefix(scope)
    return path.removeprefix(prefix) if prefix else path


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _send_too_large(send: Send, *, method: str, limit: int) -> None:
    if limit:
        message = f"This endpoint takes request bodies of at most {size_text(limit)}."
    else:
        message = f"A {method} request takes no body."
    content = too_large_content(message)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
