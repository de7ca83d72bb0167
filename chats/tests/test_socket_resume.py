"""A socket that (re)connects while a reply streams catches up: `resume` answers with the
messages it missed and the reply so far, and the tokens after that offset complete it."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from chats.services import connection_save
from chats.tests.factories import make_chat
from tavern.asgi import application
from tavern.testing.openai_wire_server import OpenAIWireServer

pytestmark = pytest.mark.django_db(transaction=True)

LONG_REPLY = " ".join(f"word{n}" for n in range(30))


@pytest.fixture
def server():
    with OpenAIWireServer() as server:
        yield server


def _chat_on(server: OpenAIWireServer, user):
    connection = connection_save(
        owner=user,
        connection=None,
        data={"name": "Local", "base_url": server.base_url, "model": "test-model"},
        api_key="sk-test",
    )
    return make_chat(user, connection=connection)


async def _connect(chat_id: int, user) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, f"/ws/chats/{chat_id}/?token={AccessToken.for_user(user)}")
    connected, _ = await socket.connect()
    assert connected is True
    return socket


async def _until(socket: WebsocketCommunicator, kind: str, *, count: int = 1) -> list[dict]:
    seen = []
    while sum(1 for event in seen if event["type"] == kind) < count:
        event = await socket.receive_json_from(timeout=10)
        assert event["type"] != "error", event
        seen.append(event)
    return seen


async def test_a_socket_joining_mid_reply_rebuilds_it_from_the_snapshot_and_later_tokens(user, server):
    server.script_reply(LONG_REPLY, chunk_delay=0.04)
    chat = await database_sync_to_async(_chat_on)(server, user)
    first = await _connect(chat.pk, user)
    await first.send_json_to({"type": "send", "content": "Recite the list.", "client_id": "c-1"})
    [ack] = await _until(first, "ack")
    await _until(first, "token", count=5)

    late = await _connect(chat.pk, user)
    await late.send_json_to({"type": "resume", "last_position": ack["message"]["position"] - 1})
    seen = await _until(late, "done")
    await first.disconnect()
    await late.disconnect()

    [snapshot] = [event for event in seen if event["type"] == "snapshot"]
    live = snapshot["live"]
    later = {event["offset"]: event["text"] for event in seen if event["type"] == "token"}
    rebuilt = live["text"] + "".join(
        text for offset, text in sorted(later.items()) if offset >= len(live["text"])
    )
    assert [m["content"] for m in snapshot["messages"]] == ["Recite the list."]
    assert (live["type"], live["mode"]) == ("generation_started", "send")
    assert len(live["text"]) > 0
    assert rebuilt == seen[-1]["message"]["content"] == LONG_REPLY


async def test_resume_after_the_reply_has_no_live_part(user, server):
    chat = await database_sync_to_async(_chat_on)(server, user)
    first = await _connect(chat.pk, user)
    await first.send_json_to({"type": "send", "content": "Recite the list.", "client_id": "c-1"})
    done = (await _until(first, "done"))[-1]
    await first.disconnect()

    late = await _connect(chat.pk, user)
    await late.send_json_to({"type": "resume", "last_position": 1})
    [snapshot] = await _until(late, "snapshot")
    await late.disconnect()

    assert snapshot["live"] is None
    assert [m["content"] for m in snapshot["messages"]] == ["Recite the list.", done["message"]["content"]]
