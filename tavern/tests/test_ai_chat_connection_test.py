"""The "test connection" button over real HTTP."""

import re
import socket
from typing import Any

import pytest

from tavern.ai.chat import ChatConnectionConfig, connection_test
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
