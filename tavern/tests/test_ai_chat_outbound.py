"""A chat connection's requests pass the outbound guard: a refused address fails
before any byte is sent, is not retried, says what to do, and lets the next
connection answer."""

from typing import Any

import pytest

from tavern.ai.chat import (
    ChatConnectionConfig,
    ConnectionUsed,
    ProviderRequestFailed,
    StreamFinished,
    stream_chat,
    stream_with_fallback,
)
from tavern.testing.openai_wire_server import OpenAIWireServer

MESSAGES = [{"role": "user", "content": "Tell me about the harbour."}]
ALLOW_HINT = "an operator can allow local model servers with OUTBOUND_ALLOW_PRIVATE_NETWORKS"


@pytest.fixture
def wire_server():
    with OpenAIWireServer() as server:
        yield server


def connection(label: str, base_url: str, **overrides: Any) -> ChatConnectionConfig:
    settings: dict[str, Any] = {"api_key": "sk-test", "model": "gpt-4o-mini", "max_retries": 2}
    return ChatConnectionConfig(label=label, base_url=base_url, **(settings | overrides))


async def test_a_refused_address_fails_at_once_without_retrying(settings, wire_server):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    config = connection("Wire", wire_server.base_url)

    with pytest.raises(ProviderRequestFailed) as failure:
        [event async for event in stream_chat(config, MESSAGES)]

    assert (failure.value.kind, failure.value.status_code) == ("address_refused", None)
    assert failure.value.message == (
        f"Wire: this server does not connect to {wire_server.base_url}: "
        f"127.0.0.1 is a private or local address (loopback); {ALLOW_HINT}"
    )
    assert wire_server.requests == []


async def test_a_refused_shared_connection_names_neither_its_url_nor_its_address(settings, wire_server):
    """A shared connection's users learn it is refused, not where it points."""
    settings.OUTBOUND_ALLOWED_HOSTS = []
    config = connection("House", wire_server.base_url, address_shown=False)

    with pytest.raises(ProviderRequestFailed) as failure:
        [event async for event in stream_chat(config, MESSAGES)]

    assert (failure.value.kind, failure.value.message) == (
        "address_refused",
        "House: this server does not connect to the shared server",
    )
    assert wire_server.requests == []


async def test_the_next_connection_answers_when_one_is_refused(settings, wire_server):
    # Both reach the same server: by address (refused) and by a name the operator allowed.
    settings.OUTBOUND_ALLOWED_HOSTS = ["localhost"]
    wire_server.script_reply("The harbour is quiet.")
    connections = [
        connection("Internal", wire_server.base_url),
        connection("Allowed", f"http://localhost:{wire_server.port}/v1"),
    ]

    events = [event async for event in stream_with_fallback(connections, MESSAGES)]

    assert events[0] == ConnectionUsed(
        label="Allowed", model="gpt-4o-mini", base_url=f"http://localhost:{wire_server.port}/v1"
    )
    assert isinstance(events[-1], StreamFinished)
    [request] = wire_server.requests
    assert request.headers["host"] == f"localhost:{wire_server.port}"


async def test_private_networks_allowed_reach_a_local_server(settings, wire_server):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True

    events = [event async for event in stream_chat(connection("Local", wire_server.base_url), MESSAGES)]

    assert isinstance(events[-1], StreamFinished)
    assert len(wire_server.requests) == 1
