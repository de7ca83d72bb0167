"""A stream whose body ends cleanly but without a finish_reason (a proxy or a crashed
worker cut it short) is not a whole reply: it breaks off with the part received."""

import pytest

from tavern.ai.chat import ChatConnectionConfig, ProviderRequestFailed, ProviderStreamBroken, stream_chat
from tavern.testing.openai_wire_server import OpenAIWireServer

MESSAGES = [{"role": "user", "content": "Tell me about the harbour."}]
REPLY = "The harbour froze the winter the lighthouse keeper left."


@pytest.fixture
def wire_server():
    with OpenAIWireServer() as server:
        yield server


def _config(server: OpenAIWireServer) -> ChatConnectionConfig:
    return ChatConnectionConfig(
        label="Proxy", base_url=server.base_url, api_key="sk-test", model="m", max_retries=0
    )


async def test_a_stream_cut_short_after_some_text_breaks_off_with_that_text(wire_server):
    wire_server.script_reply(REPLY, end_after_chunks=3)

    with pytest.raises(ProviderStreamBroken) as broken:
        async for _ in stream_chat(_config(wire_server), MESSAGES):
            pass

    assert broken.value.partial_text == "The harbour froze "
    assert str(broken.value) == (
        "Proxy: the reply broke off after 18 characters "
        "(the stream ended before the model said it was finished)"
    )


async def test_a_stream_cut_short_before_any_text_is_a_failed_request(wire_server):
    wire_server.script_reply(REPLY, end_after_chunks=0)

    with pytest.raises(ProviderRequestFailed) as failed:
        async for _ in stream_chat(_config(wire_server), MESSAGES):
            pass

    assert failed.value.kind == "protocol"
