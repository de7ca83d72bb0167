"""stream_chat over real HTTP: text in order, usage (reported or counted), the request we send."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tavern.ai.chat import (
    ChatConnectionConfig,
    GenerationParams,
    ProviderRequestFailed,
    ReasoningDelta,
    StreamFinished,
    TokenDelta,
    TokenUsage,
    chat_request_arguments,
    complete_chat,
    stream_chat,
)
from tavern.ai.tokenizer import count_message_tokens, count_tokens
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH, OpenAIWireServer
from tavern.testing.waits import EVENT_WAIT_SECONDS

MESSAGES = [
    {"role": "system", "content": "You are Seraphina, guardian of the Eldoria forest."},
    {"role": "user", "content": "What lies beyond the river?"},
]


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
        "max_retries": 0,
    }
    return ChatConnectionConfig(**(settings | overrides))


async def collect(events) -> list:
    return [event async for event in events]


# --- a server that streams exactly the chunks a test gives ---------------------


class _ScriptedSSEServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, chunks: list[Any], refuse_stream_options: bool) -> None:
        self.chunks = chunks
        self.refuse_stream_options = refuse_stream_options
        self.bodies: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", 0), _ScriptedSSEHandler)


class _ScriptedSSEHandler(BaseHTTPRequestHandler):
    """Streams the server's chunks as SSE, for shapes OpenAIWireServer does not send
    (reasoning fields, no usage at all, errors inside the stream)."""

    server: _ScriptedSSEServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        if self.server.refuse_stream_options and "stream_options" in body:
            error = {
                "error": {
                    "message": "Unrecognized request argument supplied: stream_options",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }
            self._send(400, "application/json", json.dumps(error).encode())
            return
        events = [f"data: {json.dumps(chunk)}\n\n" for chunk in self.server.chunks]
        self._send(200, "text/event-stream", "".join([*events, "data: [DONE]\n\n"]).encode())

    def _send(self, status: int, content_type: str, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def scripted_sse_server(
    chunks: list[Any], *, refuse_stream_options: bool = False
) -> Iterator[_ScriptedSSEServer]:
    server = _ScriptedSSEServer(chunks, refuse_stream_options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=EVENT_WAIT_SECONDS)


def sse_connection(server: _ScriptedSSEServer) -> ChatConnectionConfig:
    return ChatConnectionConfig(
        label="Scripted",
        base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
        model="local-model",
        max_retries=0,
    )


def chunk(delta: dict[str, Any] | None = None, *, finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "local-model",
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish_reason}],
    }


# --- tokens and usage ------------------------------------------------------------


async def test_tokens_arrive_in_order_then_finished(wire_server):
    wire_server.script_reply("Beyond the river lies the Whispering Marsh.")

    events = await collect(stream_chat(wire_connection(wire_server), MESSAGES))

    assert [event.text for event in events[:-1]] == [
        "Beyond ",
        "the ",
        "river ",
        "lies ",
        "the ",
        "Whispering ",
        "Marsh.",
    ]
    assert all(isinstance(event, TokenDelta) for event in events[:-1])
    finished = events[-1]
    assert isinstance(finished, StreamFinished)
    assert finished.finish_reason == "stop"
    assert finished.model == "gpt-4o-mini"


async def test_usage_reported_by_the_provider_is_passed_on(wire_server):
    reply = "Beyond the river lies the Whispering Marsh."
    wire_server.script_reply(reply)

    events = await collect(stream_chat(wire_connection(wire_server), MESSAGES))

    assert events[-1].usage == TokenUsage(
        prompt_tokens=count_message_tokens(MESSAGES),
        completion_tokens=count_tokens(reply),
        estimated=False,
    )
    assert wire_server.requests_to(CHAT_COMPLETIONS_PATH)[0].body["stream_options"] == {"include_usage": True}


async def test_usage_is_counted_and_marked_estimated_when_the_provider_sends_none():
    chunks = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Mist, "}),
        chunk({"content": "and older things."}),
        chunk(finish_reason="stop"),
    ]
    with scripted_sse_server(chunks) as server:
        events = await collect(stream_chat(sse_connection(server), MESSAGES))

    assert events[-1] == StreamFinished(
        finish_reason="stop",
        usage=TokenUsage(
            prompt_tokens=count_message_tokens(MESSAGES),
            completion_tokens=count_tokens("Mist, and older things."),
            estimated=True,
        ),
        model="local-model",
    )


async def test_all_zero_usage_placeholder_counts_as_no_usage():
    chunks = [
        chunk({"content": "Mist."}),
        chunk(finish_reason="stop")
        | {"usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}},
    ]
    with scripted_sse_server(chunks) as server:
        events = await collect(stream_chat(sse_connection(server), MESSAGES))

    assert events[-1].usage == TokenUsage(
        prompt_tokens=count_message_tokens(MESSAGES), completion_tokens=count_tokens("Mist."), estimated=True
    )


async def test_a_server_refusing_stream_options_is_asked_again_without_them():
    chunks = [chunk({"content": "Mist."}), chunk(finish_reason="stop")]
    with scripted_sse_server(chunks, refuse_stream_options=True) as server:
        events = await collect(stream_chat(sse_connection(server), MESSAGES))

    assert [type(event) for event in events] == [TokenDelta, StreamFinished]
    assert events[-1].usage.estimated is True
    assert ["stream_options" in body for body in server.bodies] == [True, False]


async def test_an_empty_stream_is_a_failure_before_any_text():
    with scripted_sse_server([]) as server, pytest.raises(ProviderRequestFailed) as failure:
        await collect(stream_chat(sse_connection(server), MESSAGES))

    assert failure.value.kind == "protocol"
    assert failure.value.message == "Scripted: the server's answer is an empty stream"


@pytest.mark.parametrize("odd", [["a", "list"], "text", 42, None], ids=["list", "string", "number", "null"])
async def test_a_stream_event_that_is_not_an_object_is_a_protocol_failure(odd):
    with scripted_sse_server([odd]) as server, pytest.raises(ProviderRequestFailed) as failure:
        await collect(stream_chat(sse_connection(server), MESSAGES))

    assert failure.value.kind == "protocol"


async def test_fields_sent_as_null_or_of_the_wrong_type_are_left_out():
    chunks = [
        {
            "model": None,
            "choices": [{"index": 0, "delta": {"content": None, "refusal": None}}],
            "usage": None,
        },
        {"choices": [{"index": 0, "delta": {"content": 7}}, "junk", {"index": 1, "delta": {"content": "x"}}]},
        chunk({"content": "Hello"}),
        chunk(finish_reason="stop"),
    ]
    with scripted_sse_server(chunks) as server:
        events = await collect(stream_chat(sse_connection(server), MESSAGES))

    assert [event for event in events if isinstance(event, TokenDelta)] == [TokenDelta("Hello")]
    assert events[-1].finish_reason == "stop"


async def test_an_error_event_inside_the_stream_fails_with_its_message():
    chunks = [{"error": {"message": "Upstream provider overloaded", "code": 502}}]
    with scripted_sse_server(chunks) as server, pytest.raises(ProviderRequestFailed) as failure:
        await collect(stream_chat(sse_connection(server), MESSAGES))

    assert failure.value.kind == "provider_error"
    assert failure.value.message == "Scripted: the provider reported an error: Upstream provider overloaded"


# --- reasoning ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["reasoning_content", "reasoning"], ids=["deepseek-vllm-llamacpp", "openrouter-ollama"]
)
async def test_reasoning_is_a_separate_event_and_not_part_of_the_text(field):
    chunks = [
        chunk({"role": "assistant", "content": None, field: "The user asks about "}),
        chunk({"content": None, field: "the river."}),
        chunk({"content": "The marsh, "}),
        chunk({"content": "traveller."}),
        chunk(finish_reason="stop"),
    ]
    with scripted_sse_server(chunks) as server:
        events = await collect(stream_chat(sse_connection(server), MESSAGES))

    assert events[:-1] == [
        ReasoningDelta("The user asks about "),
        ReasoningDelta("the river."),
        TokenDelta("The marsh, "),
        TokenDelta("traveller."),
    ]
    assert events[-1].usage == TokenUsage(
        prompt_tokens=count_message_tokens(MESSAGES),
        completion_tokens=count_tokens("The marsh, traveller.")
        + count_tokens("The user asks about the river."),
        reasoning_tokens=count_tokens("The user asks about the river."),
        estimated=True,
    )


async def test_complete_chat_keeps_text_and_reasoning_apart():
    chunks = [
        chunk({"reasoning_content": "Short answer."}),
        chunk({"content": "The marsh."}),
        chunk(finish_reason="length"),
    ]
    with scripted_sse_server(chunks) as server:
        result = await complete_chat(sse_connection(server), MESSAGES)

    assert (result.text, result.reasoning, result.finish_reason, result.model) == (
        "The marsh.",
        "Short answer.",
        "length",
        "local-model",
    )


# --- the request -------------------------------------------------------------------


async def test_samplers_go_as_openai_fields_or_in_the_body_and_none_is_not_sent(wire_server):
    params = GenerationParams(
        temperature=0.8,
        top_p=0.95,
        top_k=40,
        min_p=0.05,
        repetition_penalty=1.1,
        stop=["\nAnna:"],
        max_tokens=200,
        seed=7,
    )

    await collect(stream_chat(wire_connection(wire_server), MESSAGES, params))

    body = wire_server.requests_to(CHAT_COMPLETIONS_PATH)[0].body
    assert body == {
        "model": "gpt-4o-mini",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.8,
        "top_p": 0.95,
        "stop": ["\nAnna:"],
        "max_tokens": 200,
        "seed": 7,
        "top_k": 40,
        "min_p": 0.05,
        "repetition_penalty": 1.1,
    }


async def test_max_reply_tokens_of_the_connection_applies_when_params_set_none(wire_server):
    wire_server.script_reply("One two three four five six seven eight nine ten.")

    events = await collect(stream_chat(wire_connection(wire_server, max_reply_tokens=3), MESSAGES))

    assert wire_server.requests_to(CHAT_COMPLETIONS_PATH)[0].body["max_tokens"] == 3
    assert events[-1].finish_reason == "length"
    assert "".join(event.text for event in events[:-1]) == "One two three"


def test_api_openai_com_gets_max_completion_tokens():
    config = ChatConnectionConfig(label="OpenAI", base_url="https://api.openai.com/v1", model="o3-mini")

    arguments = chat_request_arguments(config, MESSAGES, GenerationParams(max_tokens=50))

    assert arguments == {"model": "o3-mini", "messages": MESSAGES, "max_completion_tokens": 50}


async def test_key_and_extra_headers_are_sent_and_the_servers_environment_is_not(wire_server, monkeypatch):
    monkeypatch.setenv("OPENAI_ORG_ID", "org-of-the-tavern-server")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-of-the-tavern-server")
    config = wire_connection(
        wire_server,
        api_key="sk-or-user",
        extra_headers={"HTTP-Referer": "https://tavern.test", "X-Title": "Tavern"},
    )

    await collect(stream_chat(config, MESSAGES))

    headers = wire_server.requests_to(CHAT_COMPLETIONS_PATH)[0].headers
    assert headers["authorization"] == "Bearer sk-or-user"
    assert headers["http-referer"] == "https://tavern.test"
    assert headers["x-title"] == "Tavern"
    assert "openai-organization" not in headers
    assert "openai-project" not in headers


async def test_a_connection_without_key_sends_a_placeholder_not_the_servers_key(wire_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-of-the-tavern-server")

    await collect(stream_chat(wire_connection(wire_server, api_key=""), MESSAGES))

    assert (
        wire_server.requests_to(CHAT_COMPLETIONS_PATH)[0].headers["authorization"]
        == "Bearer sk-no-key-required"
    )


def test_the_api_key_is_not_in_the_configs_repr(wire_server):
    assert "sk-secret" not in repr(wire_connection(wire_server, api_key="sk-secret"))
