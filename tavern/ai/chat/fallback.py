"""Try a user's connections in order until one answers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from tavern.ai.chat.config import ChatConnectionConfig, GenerationParams
from tavern.ai.chat.errors import AllProvidersFailed, ProviderRequestFailed
from tavern.ai.chat.stream import stream_chat
from tavern.ai.offline_provider import OfflineConnection, stream_offline_reply
from tavern.ai.reply_events import ConnectionUsed, StreamEvent

logger = logging.getLogger(__name__)

ChatConnection = ChatConnectionConfig | OfflineConnection


async def stream_with_fallback(
    connections: Sequence[ChatConnection],
    messages: Sequence[Mapping[str, Any]],
    params: GenerationParams | None = None,
) -> AsyncIterator[StreamEvent]:
    """The reply of the first connection that answers, after a ConnectionUsed naming it.

    A connection that fails before any text (refused key, unknown model, down,
    rate limited, timed out) passes the turn to the next one. Once one has
    answered, a failure raises ProviderStreamBroken: switching then would show
    the user a reply stitched from two models. When none answers, raises
    AllProvidersFailed with each connection's reason.
    """
    failures: list[ProviderRequestFailed] = []
    for connection in connections:
        base_url: str | None = None
        if isinstance(connection, OfflineConnection):
            events = stream_offline_reply(connection, messages)
        else:
            events = stream_chat(connection, messages, params)
            base_url = connection.base_url
        try:
            try:
                first = await anext(events)
            except ProviderRequestFailed as failure:
                logger.warning("chat connection failed before answering: %s", failure.message)
                failures.append(failure)
                continue
            yield ConnectionUsed(label=connection.label, model=connection.model, base_url=base_url)
            yield first
            async for event in events:
                yield event
            return
        finally:
            await events.aclose()
    raise AllProvidersFailed(failures)
