"""Push an event to every socket a user has open (``ws/notifications/``).

Call from services inside a transaction: the send waits for the commit, so a
rolled-back change never reaches a screen.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .groups import user_group


def user_event_send_now(*, user_id: int, event_type: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(
        user_group(user_id),
        {"type": "user.event", "event": {"type": event_type, **payload}},
    )


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
        if layer is not None:
            async_to_sync(layer.group_send)(
                user_group(user_id), {"type": "user.disconnect", "code": CLOSE_SIGNED_OUT}
            )

    transaction.on_commit(send)
