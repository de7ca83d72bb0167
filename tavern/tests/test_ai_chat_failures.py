"""Failures over real HTTP: what the user is told, what is retried, what never is."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tavern.ai.chat import (
    ChatConnectionConfig,
    ProviderRequestFailed,
    ProviderStreamBroken,
    StreamFinished,
    TokenDelta,
    complete_chat,
    stream_chat,
)
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH, OpenAIWireServer

MESSAGES = [{"role": "user", "content": "Tell me about the harbour."}]


@pytest.fixture
def wire_server():
    with OpenAIWireServer() as server:
        yield server


def wire_connection(server: OpenAIWireServer, **overrides: Any) -> ChatConnectionConfig:
    settings: dict[str, Any] = {
        "label": "OpenRouter",
        "base_url": server.base_url,
        "api_key": "sk-test",
        "model": "gpt-4o-mini",
        "max_retries": 0,
    }
    return ChatConnectionConfig(**(settings | overrides))


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def collect(events) -> list:
    return [event async for event in events]


# --- before the first token: a clear message per cause -----------------------------


@pytest.mark.parametrize(
    ("status", "error_body", "kind", "reason"),
    [
        pytest.param(
            404,
            {
                "error": {
                    "message": "The model `gpt-9` does not exist",
                    "type": "invalid_request_error",
                    "code": "model_not_found",
                }
            },
            "model_not_found",
            "the model 'gpt-4o-mini' does not exist (404)",
            id="unknown-model",
        ),
        pytest.param(
            404,
            None,
            "not_found",
            "nothing answers at {base_url}/chat/completions (404); check the base URL",
            id="wrong-base-url",
        ),
        pytest.param(429, None, "rate_limited", "rate limited (429), try again in 1 s", id="rate-limited"),
        pytest.param(
            429,
            {
                "error": {
                    "message": "You exceeded your current quota",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                }
            },
            "no_credit",
            "the account has no credit left (429)",
            id="out-of-quota",
        ),
        pytest.param(
            402, None, "no_credit", "the account has no credit left (402)", id="openrouter-no-credit"
        ),
        pytest.param(
            500, None, "server_error", "the provider had an internal error (500)", id="internal-error"
        ),
        pytest.param(
            503, None, "server_error", "the provider is unavailable (503), try again later", id="overloaded"
        ),
        pytest.param(
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 8192 tokens.",
                    "type": "invalid_request_error",
                    "code": "context_length_exceeded",
                }
            },
            "context_too_long",
            "the prompt is longer than the model's context (400)",
            id="prompt-too-long",
        ),
        pytest.param(
            400,
            {"error": {"message": "temperature must be at most 2", "type": "invalid_request_error"}},
            "bad_request",
            "the request was refused (400): temperature must be at most 2",
            id="other-bad-request",
        ),
    ],
)
async def test_error_status_before_the_first_token_is_explained(
    wire_server, status, error_body, kind, reason
):
    wire_server.script_reply("", status=status, error_body=error_body)

    with pytest.raises(ProviderRequestFailed) as failure:
        await collect(stream_chat(wire_connection(wire_server), MESSAGES))

    expected_reason = reason.format(base_url=wire_server.base_url)
    assert failure.value.message == f"OpenRouter: {expected_reason}"
    assert (failure.value.kind, failure.value.status_code, failure.value.label) == (
        kind,
        status,
        "OpenRouter",
    )


async def test_a_refused_api_key_is_named_as_such():
    with OpenAIWireServer(api_key="sk-right") as server:
        with pytest.raises(ProviderRequestFailed) as failure:
            await collect(stream_chat(wire_connection(server, api_key="sk-wrong", max_retries=2), MESSAGES))

        assert failure.value.message == "OpenRouter: the API key was refused (401)"
        assert failure.value.kind == "auth"
        assert len(server.requests_to(CHAT_COMPLETIONS_PATH)) == 1  # a 401 is not retried


async def test_nothing_listening_is_connection_refused():
    port = closed_port()
    config = ChatConnectionConfig(
        label="Local llama", base_url=f"http://127.0.0.1:{port}/v1", model="llama-3.1-8b", max_retries=0
    )

    with pytest.raises(ProviderRequestFailed) as failure:
        await collect(stream_chat(config, MESSAGES))

    assert (
        failure.value.message
        == f"Local llama: could not connect to http://127.0.0.1:{port}/v1 (connection refused)"
    )
    assert failure.value.kind == "connection"


async def test_a_connection_whose_address_is_not_shown_fails_without_naming_it(wire_server):
    """A shared connection's users learn what went wrong, never where it points."""
    port = closed_port()
    refused = ChatConnectionConfig(
        label="House", base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=0, address_shown=False
    )
    wire_server.script_reply("", status=404)
    missing = wire_connection(wire_server, label="House", address_shown=False)

    with pytest.raises(ProviderRequestFailed) as not_listening:
        await collect(stream_chat(refused, MESSAGES))
    with pytest.raises(ProviderRequestFailed) as not_found:
        await collect(stream_chat(missing, MESSAGES))

    assert not_listening.value.message == "House: could not connect to the shared server (connection refused)"
    assert not_found.value.message == "House: nothing answers at the shared server (404)"


# --- retries happen only before the reply starts ----------------------------------


async def test_a_transient_500_is_retried_and_the_retry_answers(wire_server):
    wire_server.script_reply("", status=500)
    wire_server.script_reply("The harbour sleeps.")

    events = await collect(stream_chat(wire_connection(wire_server, max_retries=1), MESSAGES))

    assert "".join(event.text for event in events if isinstance(event, TokenDelta)) == "The harbour sleeps."
    requests = wire_server.requests_to(CHAT_COMPLETIONS_PATH)
    assert [request.headers["x-stainless-retry-count"] for request in requests] == ["0", "1"]


async def test_a_429_retry_waits_as_long_as_retry_after_says(wire_server):
    wire_server.script_reply("", status=429)  # the wire server sends Retry-After: 1
    wire_server.script_reply("The harbour sleeps.")
    started = time.monotonic()

    result = await complete_chat(wire_connection(wire_server, max_retries=1), MESSAGES)

    assert result.text == "The harbour sleeps."
    assert time.monotonic() - started >= 0.95


async def test_failure_after_the_first_token_is_broken_with_the_partial_text_and_not_retried(wire_server):
    wire_server.script_reply("The harbour sleeps under fog.", fail_after_chunks=2)
    wire_server.script_reply("A retry would have said this.")
    received: list[str] = []

    with pytest.raises(ProviderStreamBroken) as broken:
        async for event in stream_chat(wire_connection(wire_server, max_retries=2), MESSAGES):
            received.append(event.text)

    assert received == ["The ", "harbour "]
    assert broken.value.partial_text == "The harbour "
    assert (
        broken.value.message == "OpenRouter: the reply broke off after 12 characters (the connection dropped)"
    )
    assert broken.value.cause is not None
    assert len(wire_server.requests_to(CHAT_COMPLETIONS_PATH)) == 1
    assert wire_server.pending_replies == 1


async def test_a_drop_after_the_headers_but_before_any_text_fails_the_request(wire_server):
    wire_server.script_reply("Never sent.", fail_after_chunks=0)

    with pytest.raises(ProviderRequestFailed) as failure:
        await collect(stream_chat(wire_connection(wire_server, max_retries=2), MESSAGES))

    assert failure.value.message == "OpenRouter: the connection dropped"
    # The client retries only until the response headers arrive; this stream had begun.
    assert len(wire_server.requests_to(CHAT_COMPLETIONS_PATH)) == 1


# --- timeouts ------------------------------------------------------------------------


async def test_a_silent_stream_times_out_with_the_configured_seconds(wire_server):
    # The first word comes after 3 s: a client that waited for it would have no failure
    # to report, so the failure itself shows the 0.3 s limit held (ten times the margin).
    wire_server.script_reply("Too slow.", chunk_delay=3.0)

    with pytest.raises(ProviderRequestFailed) as failure:
        await collect(stream_chat(wire_connection(wire_server, timeout_seconds=0.3, max_retries=2), MESSAGES))

    assert failure.value.message == "OpenRouter: timed out after 0.3 s"
    assert failure.value.kind == "timeout"
    assert len(wire_server.requests_to(CHAT_COMPLETIONS_PATH)) == 1


@contextmanager
def silent_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """Accepts connections and reads requests, and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()
        listener.close()


async def test_no_answer_before_the_headers_is_retried_then_times_out():
    with silent_server() as (port, accepted):
        config = ChatConnectionConfig(
            label="Hung",
            base_url=f"http://127.0.0.1:{port}/v1",
            model="m",
            timeout_seconds=0.2,
            max_retries=1,
        )

        with pytest.raises(ProviderRequestFailed) as failure:
            await collect(stream_chat(config, MESSAGES))

        assert failure.value.message == "Hung: timed out after 0.2 s"
        assert len(accepted) == 2  # the first attempt and one retry, each on a new connection


async def test_complete_chat_returns_text_reason_and_usage(wire_server):
    wire_server.script_reply("The harbour sleeps.")

    result = await complete_chat(wire_connection(wire_server), MESSAGES)

    assert (result.text, result.finish_reason, result.model) == ("The harbour sleeps.", "stop", "gpt-4o-mini")
    assert result.usage is not None
    assert result.usage.estimated is False


async def test_stream_finished_is_the_last_event(wire_server):
    events = await collect(stream_chat(wire_connection(wire_server), MESSAGES))

    assert isinstance(events[-1], StreamFinished)
    assert sum(isinstance(event, StreamFinished) for event in events) == 1
