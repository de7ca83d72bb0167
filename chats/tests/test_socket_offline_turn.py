"""A whole turn over a real WebSocket and real Redis, answered by
the offline demo provider (no connection configured)."""

import pytest
from channels.db import database_sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from chats.models import Message
from chats.tests.factories import make_chat
from tavern.asgi import application
from tavern.testing.sockets import TestSocket

pytestmark = pytest.mark.django_db(transaction=True)


def _socket(chat_id: int, user) -> TestSocket:
    return TestSocket(application, f"/ws/chats/{chat_id}/?token={AccessToken.for_user(user)}")


async def _until(socket: TestSocket, kind: str) -> tuple[dict, list[dict]]:
    seen = []
    while True:
        event = await socket.receive_json_from()
        seen.append(event)
        if event["type"] == kind:
            return event, seen


async def test_send_streams_an_offline_reply_to_every_socket(user):
    chat = await database_sync_to_async(make_chat)(user)
    first, second = _socket(chat.pk, user), _socket(chat.pk, user)
    assert (await first.connect())[0] is True
    assert (await second.connect())[0] is True

    await first.send_json_to({"type": "send", "content": "Where are we, Mira?", "client_id": "c-1"})
    ack, _ = await _until(first, "ack")
    done, seen = await _until(first, "done")
    other_done, other_seen = await _until(second, "done")

    assert ack["message"]["content"] == "Where are we, Mira?"
    assert ack["client_id"] == "c-1"
    tokens = [event["text"] for event in seen if event["type"] == "token"]
    assert len(tokens) > 3
    assert "".join(tokens) == done["message"]["content"]
    assert done["record"]["connection"] == "Offline demo"
    assert other_done["message"] == done["message"]
    assert [e["text"] for e in other_seen if e["type"] == "token"] == tokens
    stored = await database_sync_to_async(
        lambda: list(Message.objects.filter(chat=chat).order_by("position"))
    )()
    assert [m.author for m in stored] == ["character", "user", "character"]
    assert stored[2].content == done["message"]["content"]
    await first.disconnect()
    await second.disconnect()


async def test_another_users_chat_is_refused(user, other_user):
    chat = await database_sync_to_async(make_chat)(user)
    socket = _socket(chat.pk, other_user)

    connected, code = await socket.connect()
    await socket.disconnect()  # the refused consumer still runs until then

    assert (connected, code) == (False, 4404)
