"""Stopping a reply closes the HTTP stream at once, so the provider stops generating."""

import asyncio
import time
from contextlib import aclosing
from typing import Any

import pytest

from tavern.ai.chat import ChatConnectionConfig, ConnectionUsed, TokenDelta, stream_chat, stream_with_fallback
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH, OpenAIWireServer
from tavern.testing.sockets import EVENT_WAIT_SECONDS

MESSAGES = [{"role": "user", "content": "Tell me a long story."}]
LONG_REPLY = " ".join(f"word{number}" for number in range(200))


@pytest.fixture
def wire_server():
    with OpenAIWireServer() as server:
        yield server


def wire_connection(server: OpenAIWireServer, **overrides: Any) -> ChatConnectionConfig:
    settings: dict[str, Any] = {
        "label": "Wire",
        "base_url": server.base_url,
        "api_key": "sk-test",
        "model": "gpt-4o-mini",
        "max_retries": 2,
    }
    return ChatConnectionConfig(**(settings | overrides))


async def seen_closed_within(server: OpenAIWireServer, seconds: float) -> float | None:
    """Seconds until the server saw a stream closed by the client, or None: a wait that
    ends as soon as it is seen, generous for a busy machine."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if server.cancelled_streams:
            return time.monotonic() - started
        await asyncio.sleep(0.01)
    return None


async def test_cancelling_the_consumer_closes_the_stream(wire_server):
    wire_server.script_reply(LONG_REPLY, chunk_delay=0.02)
    received: list[str] = []
    third_word = asyncio.Event()

    async def consume() -> None:
        async for event in stream_chat(wire_connection(wire_server), MESSAGES):
            if isinstance(event, TokenDelta):
                received.append(event.text)
                if len(received) == 3:
                    third_word.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(third_word.wait(), timeout=EVENT_WAIT_SECONDS)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await seen_closed_within(wire_server, EVENT_WAIT_SECONDS) is not None
    assert wire_server.cancelled_streams == 1
    assert len(received) < len(LONG_REPLY.split())  # it stopped before the end
    assert len(wire_server.requests_to(CHAT_COMPLETIONS_PATH)) == 1  # a stop is never retried


async def test_leaving_the_loop_under_aclosing_closes_the_stream(wire_server):
    wire_server.script_reply(LONG_REPLY, chunk_delay=0.02)

    async with aclosing(stream_chat(wire_connection(wire_server), MESSAGES)) as events:
        async for event in events:
            if isinstance(event, TokenDelta):
                break

    assert await seen_closed_within(wire_server, EVENT_WAIT_SECONDS) is not None
    assert wire_server.cancelled_streams == 1


async def test_cancelling_through_fallback_closes_the_stream(wire_server):
    wire_server.script_reply(LONG_REPLY, chunk_delay=0.02)
    started = asyncio.Event()

    async def consume() -> None:
        async for event in stream_with_fallback([wire_connection(wire_server)], MESSAGES):
            if isinstance(event, ConnectionUsed):
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), timeout=EVENT_WAIT_SECONDS)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await seen_closed_within(wire_server, EVENT_WAIT_SECONDS) is not None
    assert wire_server.cancelled_streams == 1
