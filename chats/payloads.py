"""The JSON shape of a message, shared by sockets, SSE and the REST API."""

from __future__ import annotations

from typing import Any

from .models import Message


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "position": message.position,
        "author": message.author,
        "character_id": message.character_id,
        "name": message.name,
        "content": message.content,
        "swipe_index": message.swipe_index,
        "swipe_count": message.swipe_count,
        "token_count": message.token_count,
        "is_hidden": message.is_hidden,
        "is_partial": message.is_partial,
        "client_id": message.client_id,
        "created_at": message.created_at.isoformat() if message.created_at else None,
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
    }
