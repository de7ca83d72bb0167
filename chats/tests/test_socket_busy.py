"""One reply at a time per chat: while one streams, another is refused with `busy`,
and the one streaming goes on to the end."""

import pytest
from channels.db import database_sync_to_async

from chats.models import Message
from chats.tests.sockets import chat_on, connect
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH
from tavern.testing.sockets import TestSocket

pytestmark = pytest.mark.django_db(transaction=True)

LONG_REPLY = " ".join(f"word{n}" for n in range(20))


async def _until(socket: TestSocket, kind: str) -> list[dict]:
    seen = [await socket.receive_json_from()]
    while seen[-1]["type"] != kind:
        seen.append(await socket.receive_json_from())
    return seen


def _greeting_id(chat) -> int:
    return Message.objects.filter(chat=chat).order_by("position").values_list("pk", flat=True).first()


@pytest.mark.parametrize(
    "second",
    [{"type": "trigger"}, {"type": "regenerate", "message_id": "greeting"}],
    ids=["a trigger", "a regenerate"],
)
async def test_a_second_generation_while_one_streams_is_refused_as_busy(user, server, second):
    server.script_reply(LONG_REPLY, chunk_delay=0.05)
    chat = await database_sync_to_async(chat_on)(server, user)
    if second.get("message_id") == "greeting":
        second = {**second, "message_id": await database_sync_to_async(_greeting_id)(chat)}
    socket = await connect(chat.pk, user)
    await socket.send_json_to({"type": "send", "content": "Count for me.", "client_id": "c-1"})
    await _until(socket, "token")

    await socket.send_json_to(second)
    seen = await _until(socket, "done")
    await socket.disconnect()

    [error] = [event for event in seen if event["type"] == "error"]
    assert (error["code"], error["message"]) == (
        "busy",
        "A reply is already being written in this chat; wait or stop it.",
    )
    assert seen[-1]["message"]["content"] == LONG_REPLY
    assert len(server.requests_to(CHAT_COMPLETIONS_PATH)) == 1
