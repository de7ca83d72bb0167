"""Push to every socket a user has open, on every process, through the live bus
(`tavern.realtime.bus`, topic `user.<id>`): an event for their ``ws/notifications/``
sockets, or the word that closes all their sockets (a ban, a new password).

Call from services inside a transaction: the send waits for the commit, so a
rolled-back change never reaches a screen. What is pushed has happened already:
without Redis the sockets miss it (a log line says so) and nothing else fails.

A frame on a user's topic is one of (`user_frame_read` tells them apart)::

    {"event": {"type": ..., ...}}   forwarded as is by the notifications sockets
    {"close": 4403}                 every socket of the user closes with that code
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from .bus import publish_sync

CLOSE_SIGNED_OUT = 4403


def user_topic(user_id: int) -> str:
    return f"user.{user_id}"


def user_event_send_now(*, user_id: int, event_type: str, payload: dict[str, Any]) -> None:
    publish_sync(user_topic(user_id), {"event": {"type": event_type, **payload}})


def user_event_send(*, user_id: int, event_type: str, payload: dict[str, Any]) -> None:
    transaction.on_commit(
        lambda: user_event_send_now(user_id=user_id, event_type=event_type, payload=payload)
    )


def user_sockets_close(*, user_id: int) -> None:
    """Close every socket the user has open, of any kind, on any process (after the
    commit): the account was banned or its password changed. Without Redis the close is
    lost, and a banned user's chat socket still stores nothing (chats.turns SignedOut)."""
    transaction.on_commit(lambda: publish_sync(user_topic(user_id), {"close": CLOSE_SIGNED_OUT}))


def user_frame_read(frame: str) -> tuple[dict[str, Any] | None, int | None]:
    """(event to forward, close code) of a frame from a user's topic; one of them is None."""
    message = json.loads(frame)
    close = message.get("close")
    if isinstance(close, int):
        return None, close
    event = message.get("event")
    return (event if isinstance(event, dict) else None), None
