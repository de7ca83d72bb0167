"""A socket that (re)connects while a reply streams catches up: `resume` answers with the
messages it missed and the reply so far, and the tokens after that offset complete it."""

import pytest
from channels.db import database_sync_to_async

from chats.tests.sockets import chat_on, connect
from tavern.testing.sockets import TestSocket

pytestmark = pytest.mark.django_db(transaction=True)

LONG_REPLY = " ".join(f"word{n}" for n in range(30))


async def _until(socket: TestSocket, kind: str, *, count: int = 1) -> list[dict]:
    seen = []
    while sum(1 for event in seen if event["type"] == kind) < count:
        event = await socket.receive_json_from()
        assert event["type"] != "error", event
        seen.append(event)
    return seen


async def test_a_socket_joining_mid_reply_rebuilds_it_from_the_snapshot_and_later_tokens(user, server):
    server.script_reply(LONG_REPLY, chunk_delay=0.04)
    chat = await database_sync_to_async(chat_on)(server, user)
    first = await connect(chat.pk, user)
    await first.send_json_to({"type": "send", "content": "Recite the list.", "client_id": "c-1"})
    [ack] = await _until(first, "ack")
    await _until(first, "token", count=5)

    late = await connect(chat.pk, user)
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
    chat = await database_sync_to_async(chat_on)(server, user)
    first = await connect(chat.pk, user)
    await first.send_json_to({"type": "send", "content": "Recite the list.", "client_id": "c-1"})
    done = (await _until(first, "done"))[-1]
    await first.disconnect()

    late = await connect(chat.pk, user)
    await late.send_json_to({"type": "resume", "last_position": 1})
    [snapshot] = await _until(late, "snapshot")
    await late.disconnect()

    assert snapshot["live"] is None
    assert [m["content"] for m in snapshot["messages"]] == ["Recite the list.", done["message"]["content"]]
