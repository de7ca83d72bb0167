"""`stop` while a reply streams: the part written so far is kept, marked partial, and the
provider's stream is closed so that it stops generating (and billing)."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken

from chats.models import Message, Swipe
from chats.tests.factories import make_chat
from chats.tests.sockets import chat_on, connect
from tavern.testing.sockets import TestSocket
from tavern.testing.waits import EVENT_WAIT_SECONDS

pytestmark = pytest.mark.django_db(transaction=True)

LONG_REPLY = " ".join(f"word{n}" for n in range(60))


async def _until(socket: TestSocket, kind: str, *, count: int = 1) -> list[dict]:
    seen = []
    while sum(1 for event in seen if event["type"] == kind) < count:
        event = await socket.receive_json_from()
        assert event["type"] != "error", event
        seen.append(event)
    return seen


async def _stopped_turn(server, user) -> tuple[dict, list[dict]]:
    server.script_reply(LONG_REPLY, chunk_delay=0.05)
    chat = await database_sync_to_async(chat_on)(server, user)
    socket = await connect(chat.pk, user)
    await socket.send_json_to({"type": "send", "content": "Tell me everything.", "client_id": "c-1"})
    before_stop = await _until(socket, "token", count=3)
    await socket.send_json_to({"type": "stop"})
    after_stop = await _until(socket, "done")
    await socket.disconnect()
    return after_stop[-1], before_stop + after_stop


async def test_stop_keeps_the_part_written_so_far_as_a_partial_reply(user, server):
    done, seen = await _stopped_turn(server, user)

    written = "".join(event["text"] for event in seen if event["type"] == "token")
    assert done["message"]["content"] == written
    assert LONG_REPLY.startswith(written)
    assert len(written) < len(LONG_REPLY)
    assert done["message"]["is_partial"] is True
    assert (done["record"]["finish_reason"], done["record"]["partial"]) == ("stopped", True)
    stored = await database_sync_to_async(lambda: Message.objects.get(pk=done["message"]["id"]))()
    swipe = await database_sync_to_async(lambda: Swipe.objects.get(message=stored))()
    assert (stored.content, stored.is_partial) == (written, True)
    assert (swipe.finish_reason, swipe.is_partial) == ("stopped", True)


async def test_stop_closes_the_providers_stream(user, server):
    await _stopped_turn(server, user)

    waited = 0.0
    while not server.cancelled_streams and waited < EVENT_WAIT_SECONDS:  # ends when it is seen
        await asyncio.sleep(0.05)
        waited += 0.05
    assert server.cancelled_streams == 1


async def test_stop_from_the_rest_api_stops_the_reply_the_socket_follows(user, server):
    server.script_reply(LONG_REPLY, chunk_delay=0.05)
    chat = await database_sync_to_async(chat_on)(server, user)
    socket = await connect(chat.pk, user)
    await socket.send_json_to({"type": "send", "content": "Tell me everything.", "client_id": "c-1"})
    await _until(socket, "token", count=3)

    response = await AsyncClient().post(
        reverse("api:chat_stop", args=[chat.pk]),
        headers={"Authorization": f"Bearer {AccessToken.for_user(user)}"},
    )
    done = (await _until(socket, "done"))[-1]
    await socket.disconnect()

    assert response.status_code == 202
    assert (done["record"]["finish_reason"], done["message"]["is_partial"]) == ("stopped", True)


@pytest.fixture
def paced_offline_replies(settings):
    """As `make run` streams: the offline demo at a person's reading pace, tokens batched."""
    settings.OFFLINE_TOKENS_PER_SECOND = 30
    settings.TOKEN_BATCH_SECONDS = 0.03


async def _final_events_after_stop(socket: TestSocket) -> list[dict]:
    """Events until the turn's final one (done or error), then one more turn's worth of
    quiet: a `typing` marker sent after must be the next thing the socket sees."""
    finals = []
    while True:
        event = await socket.receive_json_from()
        if event["type"] in ("done", "error"):
            finals.append(event)
            break
    await socket.send_json_to({"type": "typing"})
    while (event := await socket.receive_json_from())["type"] != "typing":
        if event["type"] in ("done", "error"):
            finals.append(event)
    return finals


async def test_stop_during_the_second_offline_turn_ends_it_with_one_done(user, paced_offline_replies):
    chat = await database_sync_to_async(make_chat)(user)
    socket = await connect(chat.pk, user)
    await socket.send_json_to({"type": "send", "content": "Hello.", "client_id": "c-1"})
    await _until(socket, "done")
    await socket.send_json_to({"type": "send", "content": "Tell me more.", "client_id": "c-2"})
    await _until(socket, "token", count=2)

    await socket.send_json_to({"type": "stop"})
    finals = await _final_events_after_stop(socket)

    assert [event["type"] for event in finals] == ["done"]
    done = finals[0]
    assert (done["message"]["is_partial"], done["record"]["finish_reason"]) == (True, "stopped")
    stored = await database_sync_to_async(lambda: Message.objects.get(pk=done["message"]["id"]))()
    assert (stored.content, stored.is_partial) == (done["message"]["content"], True)


async def test_a_stop_before_the_reply_starts_still_ends_the_turn_once(user, paced_offline_replies):
    chat = await database_sync_to_async(make_chat)(user)
    socket = await connect(chat.pk, user)

    await socket.send_json_to({"type": "send", "content": "Hello.", "client_id": "c-1"})
    await socket.send_json_to({"type": "stop"})
    finals = await _final_events_after_stop(socket)

    assert [event["type"] for event in finals] == ["done"]
    # The reply's slot is taken before the stop is read, so the stop finds this reply; only
    # a machine stalled for the whole reply could let it finish first.
    assert finals[0]["record"]["finish_reason"] in ("stopped", "stop")
