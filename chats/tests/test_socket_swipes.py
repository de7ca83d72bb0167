"""Regenerate, swipe and continue over the socket: a regenerated reply is a new swipe,
swiping shows the stored ones (and past the last writes another), continue appends."""

import pytest
from channels.db import database_sync_to_async

from chats.models import Swipe
from chats.tests.sockets import chat_on, connect
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH
from tavern.testing.sockets import TestSocket

pytestmark = pytest.mark.django_db(transaction=True)


async def _next(socket: TestSocket, kind: str) -> dict:
    while True:
        event = await socket.receive_json_from()
        if event["type"] == kind:
            return event
        assert event["type"] != "error", event


async def _answered(server, user) -> tuple[TestSocket, dict]:
    """A chat with one reply ("First answer."), and a socket on it."""
    server.script_reply("First answer.")
    chat = await database_sync_to_async(chat_on)(server, user)
    socket = await connect(chat.pk, user)
    await socket.send_json_to({"type": "send", "content": "Any news?", "client_id": "c-1"})
    done = await _next(socket, "done")
    return socket, done["message"]


def _swipes(message_id: int) -> list[str]:
    return list(
        Swipe.objects.filter(message_id=message_id).order_by("index").values_list("content", flat=True)
    )


async def test_regenerate_adds_a_swipe_and_shows_it(user, server):
    socket, reply = await _answered(server, user)
    server.script_reply("Second answer.")

    await socket.send_json_to({"type": "regenerate", "message_id": reply["id"]})
    started = await _next(socket, "generation_started")
    done = await _next(socket, "done")
    await socket.disconnect()

    assert (started["mode"], started["target_message_id"]) == ("regenerate", reply["id"])
    message = done["message"]
    assert (message["id"], message["content"], message["swipe_index"], message["swipe_count"]) == (
        reply["id"],
        "Second answer.",
        1,
        2,
    )
    assert await database_sync_to_async(_swipes)(reply["id"]) == ["First answer.", "Second answer."]
    regenerate_request = server.requests_to(CHAT_COMPLETIONS_PATH)[1]
    assert regenerate_request.body["messages"][-1] == {"role": "user", "content": "Any news?"}


@pytest.mark.parametrize(
    ("directions", "shown"),
    [
        (["left"], ("First answer.", 0)),
        (["left", "right"], ("Second answer.", 1)),
    ],
    ids=["left shows the first swipe", "left then right shows the second again"],
)
async def test_swiping_shows_the_stored_swipes(user, server, directions, shown):
    socket, reply = await _answered(server, user)
    server.script_reply("Second answer.")
    await socket.send_json_to({"type": "regenerate", "message_id": reply["id"]})
    await _next(socket, "done")

    for direction in directions:
        await socket.send_json_to({"type": "swipe", "message_id": reply["id"], "direction": direction})
        updated = await _next(socket, "message_updated")
    await socket.disconnect()

    assert (updated["message"]["content"], updated["message"]["swipe_index"]) == shown
    assert updated["message"]["swipe_count"] == 2
    assert len(server.requests_to(CHAT_COMPLETIONS_PATH)) == 2


async def test_swiping_right_past_the_last_swipe_writes_a_new_one(user, server):
    socket, reply = await _answered(server, user)
    server.script_reply("Second answer.")

    await socket.send_json_to({"type": "swipe", "message_id": reply["id"], "direction": "right"})
    done = await _next(socket, "done")
    await socket.disconnect()

    message = done["message"]
    assert (message["content"], message["swipe_index"], message["swipe_count"]) == ("Second answer.", 1, 2)
    assert await database_sync_to_async(_swipes)(reply["id"]) == ["First answer.", "Second answer."]


async def test_swiping_left_of_the_first_swipe_is_refused(user, server):
    socket, reply = await _answered(server, user)

    await socket.send_json_to({"type": "swipe", "message_id": reply["id"], "direction": "left"})
    error = await _next(socket, "error")
    await socket.disconnect()

    assert (error["code"], error["field"]) == ("invalid", "index")


async def test_continue_appends_to_the_reply(user, server):
    socket, reply = await _answered(server, user)
    server.script_reply(" And the ferry is late.")

    await socket.send_json_to({"type": "continue", "message_id": reply["id"]})
    started = await _next(socket, "generation_started")
    done = await _next(socket, "done")
    await socket.disconnect()

    assert started["mode"] == "continue"
    message = done["message"]
    assert (message["id"], message["content"], message["swipe_count"]) == (
        reply["id"],
        "First answer. And the ferry is late.",
        1,
    )
    assert await database_sync_to_async(_swipes)(reply["id"]) == ["First answer. And the ferry is late."]
    continue_request = server.requests_to(CHAT_COMPLETIONS_PATH)[1]
    assert continue_request.body["messages"][-2:] == [
        {"role": "user", "content": "Any news?"},
        {"role": "assistant", "content": "First answer."},
    ]
