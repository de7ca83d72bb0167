"""The "test connection" button over real HTTP."""

import re
import socket
from typing import Any

import pytest

from tavern.ai.chat import ChatConnectionConfig, ProbeLimits, connection_test
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH, MODELS_PATH, OpenAIWireServer


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


async def test_a_working_connection_lists_models_and_answers_one_token(wire_server):
    result = await connection_test(wire_connection(wire_server))

    assert result.ok is True
    assert result.models == ("gpt-4o-mini", "text-embedding-3-small")
    assert re.fullmatch(r"Wire: the model 'gpt-4o-mini' answered in \d+ ms\.", result.message)
    assert result.latency_ms is not None
    assert 0 <= result.latency_ms < 5000
    [completion] = wire_server.requests_to(CHAT_COMPLETIONS_PATH)
    assert completion.body["max_tokens"] == 1


async def test_a_refused_key_fails_at_the_model_list_without_a_completion():
    with OpenAIWireServer(api_key="sk-right") as server:
        result = await connection_test(wire_connection(server, api_key="sk-wrong"))

        assert (result.ok, result.message, result.latency_ms, result.models) == (
            False,
            "Wire: the API key was refused (401)",
            None,
            (),
        )
        assert [request.path for request in server.requests] == [MODELS_PATH]


async def test_nothing_listening_is_reported_without_retrying():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ChatConnectionConfig(label="Local llama", base_url=f"http://127.0.0.1:{port}/v1", model="llama")

    result = await connection_test(config)

    assert result.ok is False
    assert (
        result.message == f"Local llama: could not connect to http://127.0.0.1:{port}/v1 (connection refused)"
    )


async def test_a_model_the_server_does_not_list_still_passes_with_a_note(wire_server):
    result = await connection_test(wire_connection(wire_server, model="my-finetune"))

    assert result.ok is True
    assert result.message.endswith(
        "Note: 'my-finetune' is not in the server's model list ('gpt-4o-mini', 'text-embedding-3-small')."
    )


async def test_an_unknown_model_fails_with_the_models_that_exist(wire_server):
    wire_server.script_reply(
        "",
        status=404,
        error_body={"error": {"message": "The model `gpt-9` does not exist", "code": "model_not_found"}},
    )

    result = await connection_test(wire_connection(wire_server, model="gpt-9"))

    assert (result.ok, result.message) == (False, "Wire: the model 'gpt-9' does not exist (404)")
    assert result.models == ("gpt-4o-mini", "text-embedding-3-small")


async def test_a_server_error_is_not_retried_while_the_user_waits(wire_server):
    wire_server.script_reply("", status=500)

    result = await connection_test(wire_connection(wire_server))

    assert (result.ok, result.message) == (False, "Wire: the provider had an internal error (500)")
    assert len(wire_server.requests_to(CHAT_COMPLETIONS_PATH)) == 1


# --- whatever the server answers, the test ends soon with a result ------------------


async def test_a_web_page_where_the_model_list_should_be_says_to_check_the_base_url(wire_server):
    wire_server.script_models_page("<!doctype html><html><body>Welcome to our site</body></html>")

    result = await connection_test(wire_connection(wire_server))

    assert (result.ok, result.models) == (False, ())
    assert result.message == (
        f"Wire: {wire_server.base_url}/models answered a web page, not a model list; "
        "check the base URL (an OpenAI-compatible API's usually ends in /v1)"
    )
    assert wire_server.requests_to(CHAT_COMPLETIONS_PATH) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("plain words", "text/plain"), ("[[[[" * 20_000, "application/json")],
    ids=["plain text", "JSON nested past the parser's depth"],
)
async def test_any_answer_that_is_not_json_is_a_result(wire_server, body, content_type):
    wire_server.script_models_page(body, content_type=content_type)

    result = await connection_test(wire_connection(wire_server))

    assert (result.ok, result.message) == (
        False,
        f"Wire: {wire_server.base_url}/models answered something that is not JSON, not a model list; "
        "check the base URL (an OpenAI-compatible API's usually ends in /v1)",
    )


@pytest.mark.parametrize(
    "body",
    ['{"status": "ok"}', '{"data": "none"}', '{"data": [{"id": 7}, "x", {"id": "local-model"}]}'],
    ids=["another object", "data that is not a list", "entries without a text id"],
)
async def test_json_of_another_shape_lists_what_it_can_and_the_model_decides(wire_server, body):
    wire_server.script_models_page(body, content_type="application/json")

    result = await connection_test(wire_connection(wire_server))

    assert result.ok is True
    assert result.models == (("local-model",) if "local-model" in body else ())
    assert len(wire_server.requests_to(CHAT_COMPLETIONS_PATH)) == 1


async def test_a_model_list_cut_short_is_a_dropped_connection(wire_server):
    wire_server.script_models_page(
        '{"object": "list", "data": []}', content_type="application/json", cut_after_bytes=5
    )

    result = await connection_test(wire_connection(wire_server))

    assert (result.ok, result.message) == (
        False,
        f"Wire: the connection dropped while reading {wire_server.base_url}/models",
    )
    assert wire_server.requests_to(CHAT_COMPLETIONS_PATH) == []


async def test_a_model_list_larger_than_the_limit_is_not_read(wire_server):
    result = await connection_test(wire_connection(wire_server), limits=ProbeLimits(list_max_bytes=16))

    assert (result.ok, result.models) == (True, ())


async def test_a_silent_server_is_given_up_on_after_the_probes_limit_not_the_connections():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever answers
        port = silent.getsockname()[1]
        config = ChatConnectionConfig(
            label="Silent", base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout_seconds=600
        )

        result = await connection_test(config, limits=ProbeLimits(list_seconds=0.2))

    assert (result.ok, result.message) == (False, "Silent: timed out after 0.2 s")


async def test_rate_limiting_is_reported_at_once_without_retrying(wire_server):
    wire_server.script_reply("", status=429)

    result = await connection_test(wire_connection(wire_server))

    assert (result.ok, result.message) == (False, "Wire: rate limited (429), try again in 1 s")
    assert len(wire_server.requests_to(CHAT_COMPLETIONS_PATH)) == 1


async def test_a_refused_address_is_reported_and_never_asked(settings, wire_server):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    result = await connection_test(wire_connection(wire_server))

    assert (result.ok, result.message) == (
        False,
        f"Wire: this server does not connect to {wire_server.base_url}: 127.0.0.1 is a private or local "
        "address (loopback); an operator can allow local model servers with OUTBOUND_ALLOW_PRIVATE_NETWORKS",
    )
    assert wire_server.requests == []
