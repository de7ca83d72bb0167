"""A turn answered by a real OpenAI-compatible HTTP server (the wire server), over a real
WebSocket and real Redis: tokens stream in order and the reply is stored
with the record of its generation."""

import pytest
from channels.db import database_sync_to_async

from chats.models import Message, Swipe
from chats.tests.sockets import chat_on, connect
from tavern.ai.tokenizer import count_message_tokens, count_tokens
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH
from tavern.testing.sockets import TestSocket

pytestmark = pytest.mark.django_db(transaction=True)

REPLY = "The northern cliffs are mapped in red ink."


async def _until(socket: TestSocket, kind: str) -> tuple[dict, list[dict]]:
    seen = []
    while True:
        event = await socket.receive_json_from()
        assert event["type"] != "error", event
        seen.append(event)
        if event["type"] == kind:
            return event, seen


async def test_tokens_arrive_in_order_and_make_the_stored_reply(user, server):
    server.script_reply(REPLY)
    chat = await database_sync_to_async(chat_on)(server, user)
    socket = await connect(chat.pk, user)

    await socket.send_json_to({"type": "send", "content": "Which cliffs?", "client_id": "c-1"})
    done, seen = await _until(socket, "done")
    await socket.disconnect()

    tokens = [(event["offset"], event["text"]) for event in seen if event["type"] == "token"]
    assert tokens == [
        (0, "The "),
        (4, "northern "),
        (13, "cliffs "),
        (20, "are "),
        (24, "mapped "),
        (31, "in "),
        (34, "red "),
        (38, "ink."),
    ]
    assert done["message"]["content"] == REPLY
    stored = await database_sync_to_async(lambda: Message.objects.get(pk=done["message"]["id"]))()
    assert (stored.author, stored.content, stored.is_partial) == ("character", REPLY, False)


async def test_done_carries_the_generation_record(user, server):
    server.script_reply(REPLY)
    chat = await database_sync_to_async(chat_on)(server, user)
    socket = await connect(chat.pk, user)

    await socket.send_json_to({"type": "send", "content": "Which cliffs?", "client_id": "c-1"})
    done, _ = await _until(socket, "done")
    await socket.disconnect()

    [request] = server.requests_to(CHAT_COMPLETIONS_PATH)
    record = done["record"]
    assert {key: record[key] for key in ("connection", "model", "finish_reason", "partial", "error")} == {
        "connection": "Local",
        "model": "test-model",
        "finish_reason": "stop",
        "partial": False,
        "error": "",
    }
    assert record["tokens_in"] == count_message_tokens(request.body["messages"])
    assert record["tokens_out"] == count_tokens(REPLY)
    assert 0 <= record["first_token_ms"] <= record["latency_ms"]
    swipe = await database_sync_to_async(lambda: Swipe.objects.get(message_id=done["message"]["id"]))()
    assert (swipe.model, swipe.connection_label, swipe.tokens_in, swipe.tokens_out) == (
        "test-model",
        "Local",
        record["tokens_in"],
        record["tokens_out"],
    )


async def test_the_provider_gets_the_card_and_the_users_message(user, server):
    chat = await database_sync_to_async(chat_on)(server, user)
    socket = await connect(chat.pk, user)

    await socket.send_json_to({"type": "send", "content": "Which cliffs?", "client_id": "c-1"})
    await _until(socket, "done")
    await socket.disconnect()

    [request] = server.requests_to(CHAT_COMPLETIONS_PATH)
    messages = request.body["messages"]
    assert request.body["model"] == "test-model"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert messages[0]["role"] == "system"
    assert (
        "A wandering mapmaker who charts forgotten coasts and trades stories for ink."
        in messages[0]["content"]
    )
    assert messages[-1] == {"role": "user", "content": "Which cliffs?"}
