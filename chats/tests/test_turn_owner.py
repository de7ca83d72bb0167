"""One owner for a turn (`chats.turns`): whichever way it starts, the reply's slot is
taken before the caller gets an answer, a send while a reply is being written stores
nothing, and a stream nobody reads gives its slot back."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken

from chats import realtime
from chats.models import Message
from chats.tests.sockets import chat_on, connect
from chats.tests.test_socket_busy import _until
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH

pytestmark = pytest.mark.django_db(transaction=True)

LONG_REPLY = " ".join(f"word{n}" for n in range(40))


def _events(body: bytes) -> list[tuple[str, dict]]:
    events = []
    for block in body.decode().split("\n\n"):
        if block.strip():
            kind, data = block.split("\n", 1)
            events.append((kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def _contents(chat) -> list[str]:
    return list(Message.objects.filter(chat=chat).order_by("position").values_list("content", flat=True))


def _client(user) -> tuple[AsyncClient, dict[str, str]]:
    return AsyncClient(), {"Authorization": f"Bearer {AccessToken.for_user(user)}"}


async def test_a_stop_posted_right_after_a_streamed_send_finds_its_reply(user, server):
    server.script_reply(LONG_REPLY, chunk_delay=0.05)
    chat = await sync_to_async(chat_on)(server, user)
    client, headers = _client(user)

    response = await client.post(
        reverse("api:chat_messages", args=[chat.pk]),
        {"content": "Count for me.", "stream": True},
        content_type="application/json",
        headers=headers,
    )
    # The stream has not been read yet: the reply's slot is taken all the same.
    assert await realtime.generation_current(chat.pk) is not None
    stop = await client.post(reverse("api:chat_stop", args=[chat.pk]), headers=headers)
    body = b"".join([chunk async for chunk in response.streaming_content])

    assert stop.status_code == 202
    kinds = [kind for kind, _ in _events(body)]
    assert kinds[0] == "ack" and kinds[-2:] == ["done", "end"]
    done = _events(body)[-2][1]
    assert (done["message"], done["record"]["finish_reason"]) == (None, "stopped")
    assert server.requests_to(CHAT_COMPLETIONS_PATH) == []  # stopped before it was asked
    assert await realtime.generation_current(chat.pk) is None


async def test_a_stream_nobody_reads_gives_its_slot_back_when_closed(user, server):
    server.script_reply("Here.")
    chat = await sync_to_async(chat_on)(server, user)
    client, headers = _client(user)

    response = await client.post(
        reverse("api:chat_messages", args=[chat.pk]),
        {"content": "Hello?", "stream": True},
        content_type="application/json",
        headers=headers,
    )
    await sync_to_async(response.close)()  # the client went away before reading

    assert await realtime.generation_current(chat.pk) is None
    again = await client.post(
        reverse("api:chat_messages", args=[chat.pk]),
        {"content": "Still there?"},
        content_type="application/json",
        headers=headers,
    )
    assert again.status_code == 201
    assert again.json()["reply"]["content"] == "Here."


async def test_a_send_while_a_reply_is_written_is_refused_and_stores_nothing(user, server):
    server.script_reply(LONG_REPLY, chunk_delay=0.05)
    chat = await sync_to_async(chat_on)(server, user)
    socket = await connect(chat.pk, user)
    await socket.send_json_to({"type": "send", "content": "Count for me.", "client_id": "c-1"})
    await _until(socket, "token")
    client, headers = _client(user)

    refused = await client.post(
        reverse("api:chat_messages", args=[chat.pk]),
        {"content": "And me?"},
        content_type="application/json",
        headers=headers,
    )
    await socket.send_json_to({"type": "send", "content": "And me too?", "client_id": "c-2"})
    seen = await _until(socket, "done")
    await socket.disconnect()

    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "busy")
    [error] = [event for event in seen if event["type"] == "error"]
    assert error["code"] == "busy"
    assert (await sync_to_async(_contents)(chat))[1:] == ["Count for me.", LONG_REPLY]


async def test_a_resend_while_its_reply_is_written_is_acknowledged_not_refused(user, server):
    server.script_reply(LONG_REPLY, chunk_delay=0.05)
    chat = await sync_to_async(chat_on)(server, user)
    socket = await connect(chat.pk, user)
    await socket.send_json_to({"type": "send", "content": "Count for me.", "client_id": "c-1"})
    [first_ack] = [event for event in await _until(socket, "ack") if event["type"] == "ack"]
    await _until(socket, "token")

    await socket.send_json_to({"type": "send", "content": "Count for me.", "client_id": "c-1"})
    seen = await _until(socket, "done")
    await socket.disconnect()

    [resent] = [event for event in seen if event["type"] == "ack"]
    assert (resent["created"], resent["message"]) == (False, first_ack["message"])
    assert [event for event in seen if event["type"] == "error"] == []
    assert len(server.requests_to(CHAT_COMPLETIONS_PATH)) == 1
