"""A message sent again with the same `client_id` (a resend after a network blip) is
acknowledged as the stored one and starts no second reply."""

import pytest
from channels.db import database_sync_to_async

from chats.models import Message
from chats.tests.sockets import chat_on, connect
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH
from tavern.testing.sockets import TestSocket

pytestmark = pytest.mark.django_db(transaction=True)


async def _until(socket: TestSocket, kind: str) -> list[dict]:
    seen = [await socket.receive_json_from()]
    while seen[-1]["type"] != kind:
        assert seen[-1]["type"] != "error", seen[-1]
        seen.append(await socket.receive_json_from())
    return seen


async def test_a_resent_message_is_acknowledged_once_stored_and_not_answered_again(user, server):
    chat = await database_sync_to_async(chat_on)(server, user)
    socket = await connect(chat.pk, user)
    await socket.send_json_to({"type": "send", "content": "Is the ferry running?", "client_id": "c-1"})
    first_turn = await _until(socket, "done")

    await socket.send_json_to({"type": "send", "content": "Is the ferry running?", "client_id": "c-1"})
    [resent_ack] = await _until(socket, "ack")
    await socket.send_json_to({"type": "send", "content": "And tomorrow?", "client_id": "c-2"})
    next_turn = await _until(socket, "done")
    await socket.disconnect()

    [first_ack] = [event for event in first_turn if event["type"] == "ack"]
    assert (resent_ack["created"], resent_ack["client_id"]) == (False, "c-1")
    assert resent_ack["message"] == first_ack["message"]
    assert [event["type"] for event in next_turn if event["type"] in ("ack", "generation_started")] == [
        "ack",
        "generation_started",
    ]
    assert len(server.requests_to(CHAT_COMPLETIONS_PATH)) == 2
    stored = await database_sync_to_async(
        lambda: list(Message.objects.filter(chat=chat).order_by("position").values_list("author", "content"))
    )()
    assert stored[1:] == [
        ("user", "Is the ferry running?"),
        ("character", "You said: Is the ferry running?"),
        ("user", "And tomorrow?"),
        ("character", "You said: And tomorrow?"),
    ]
