"""stream_with_fallback over real HTTP: the next connection answers only if nothing was shown yet."""

import socket
from typing import Any

import pytest

from tavern.ai.chat import (
    AllProvidersFailed,
    ChatConnectionConfig,
    ConnectionUsed,
    ProviderStreamBroken,
    StreamFinished,
    TokenDelta,
    stream_with_fallback,
)
from tavern.ai.offline_provider import OfflineCard, OfflineConnection
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH, OpenAIWireServer

MESSAGES = [{"role": "user", "content": "Tell me about the harbour."}]


@pytest.fixture
def primary():
    with OpenAIWireServer() as server:
        yield server


@pytest.fixture
def backup():
    with OpenAIWireServer(model_ids=("llama-3.1-8b",)) as server:
        yield server


def connection(label: str, base_url: str, **overrides: Any) -> ChatConnectionConfig:
    settings: dict[str, Any] = {"api_key": "sk-test", "model": "gpt-4o-mini", "max_retries": 0}
    return ChatConnectionConfig(label=label, base_url=base_url, **(settings | overrides))


def down_connection(label: str) -> ChatConnectionConfig:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return connection(label, f"http://127.0.0.1:{port}/v1", model="llama-3.1-8b")


async def collect(events) -> list:
    return [event async for event in events]


def reply_text(events) -> str:
    return "".join(event.text for event in events if isinstance(event, TokenDelta))


async def test_first_connection_down_the_second_answers_and_is_named(backup):
    backup.script_reply("The harbour is quiet.")
    connections = [
        down_connection("Local llama"),
        connection("Backup", backup.base_url, model="llama-3.1-8b"),
    ]

    events = await collect(stream_with_fallback(connections, MESSAGES))

    assert events[0] == ConnectionUsed(label="Backup", model="llama-3.1-8b", base_url=backup.base_url)
    assert reply_text(events) == "The harbour is quiet."
    assert isinstance(events[-1], StreamFinished)


async def test_a_refused_key_passes_the_turn_to_the_next_connection(backup):
    with OpenAIWireServer(api_key="sk-right") as locked:
        connections = [
            connection("OpenRouter", locked.base_url, api_key="sk-wrong"),
            connection("Backup", backup.base_url),
        ]

        events = await collect(stream_with_fallback(connections, MESSAGES))

    assert events[0] == ConnectionUsed(label="Backup", model="gpt-4o-mini", base_url=backup.base_url)
    assert reply_text(events) == "You said: Tell me about the harbour."


async def test_the_first_connection_that_works_is_the_only_one_asked(primary, backup):
    connections = [connection("Primary", primary.base_url), connection("Backup", backup.base_url)]

    events = await collect(stream_with_fallback(connections, MESSAGES))

    assert events[0] == ConnectionUsed(label="Primary", model="gpt-4o-mini", base_url=primary.base_url)
    assert len(primary.requests_to(CHAT_COMPLETIONS_PATH)) == 1
    assert backup.requests == []


async def test_all_down_lists_every_connection_in_order(primary):
    primary.script_reply("", status=429)
    local = down_connection("Local llama")
    connections = [local, connection("OpenRouter", primary.base_url)]

    with pytest.raises(AllProvidersFailed) as failure:
        await collect(stream_with_fallback(connections, MESSAGES))

    assert failure.value.messages == (
        f"Local llama: could not connect to {local.base_url} (connection refused)",
        "OpenRouter: rate limited (429), try again in 1 s",
    )
    assert failure.value.message == (
        f"No connection answered. Local llama: could not connect to {local.base_url} (connection refused)."
        " OpenRouter: rate limited (429), try again in 1 s."
    )
    assert [item.kind for item in failure.value.failures] == ["connection", "rate_limited"]


async def test_no_connection_at_all_says_so():
    with pytest.raises(AllProvidersFailed) as failure:
        await collect(stream_with_fallback([], MESSAGES))

    assert failure.value.message == "No chat connection is configured."
    assert failure.value.failures == ()


async def test_a_reply_broken_mid_way_does_not_move_to_the_next_connection(primary, backup):
    primary.script_reply("The harbour sleeps under fog.", fail_after_chunks=3)
    connections = [connection("Primary", primary.base_url), connection("Backup", backup.base_url)]
    received = []

    with pytest.raises(ProviderStreamBroken) as broken:
        async for event in stream_with_fallback(connections, MESSAGES):
            received.append(event)

    assert received[0] == ConnectionUsed(label="Primary", model="gpt-4o-mini", base_url=primary.base_url)
    assert broken.value.partial_text == "The harbour sleeps "
    assert backup.requests == []


async def test_the_offline_demo_can_be_the_last_connection():
    card = OfflineCard(name="Mara", first_mes="*Mara looks up from her nets.* Evening, {{user}}.")
    offline = OfflineConnection(card=card, chat_id=1, turn=2, persona_name="Anna", tokens_per_second=0)

    events = await collect(stream_with_fallback([down_connection("Local llama"), offline], MESSAGES))

    assert events[0] == ConnectionUsed(label="Offline demo", model="offline-demo", base_url=None)
    assert "the harbour" in reply_text(events)
    assert events[-1].model == "offline-demo"
