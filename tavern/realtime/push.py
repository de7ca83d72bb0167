"""Push an event to every socket a user has open (``ws/notifications/``).

Call from services inside a transaction: the send waits for the commit, so a
rolled-back change never reaches a screen. What is pushed has happened already:
without Redis the sockets miss it (a log line says so) and nothing else fails.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .groups import user_group
from .redis import REDIS_ERRORS, redis_outage_log


def user_event_send_now(*, user_id: int, event_type: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            user_group(user_id),
            {"type": "user.event", "event": {"type": event_type, **payload}},
        )
    except REDIS_ERRORS as error:
        redis_outage_log("pushing an event to a user's sockets", error)


def user_event_send(*, user_id: int, event_type: str, payload: dict[str, Any]) -> None:
    transaction.on_commit(
        lambda: user_event_send_now(user_id=user_id, event_type=event_type, payload=payload)
    )


CLOSE_SIGNED_OUT = 4403


def user_sockets_close(*, user_id: int) -> None:
    """Close every socket the user has open, of any kind, on any process (after the
    commit): the account was banned or its password changed."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(
                user_group(user_id), {"type": "user.disconnect", "code": CLOSE_SIGNED_OUT}
            )
        except REDIS_ERRORS as error:
            # A banned user's chat socket still stores nothing (chats/consumers.py _SignedOut).
            redis_outage_log("closing a signed-out user's sockets", error)

    transaction.on_commit(send)
