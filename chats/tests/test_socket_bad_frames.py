"""Sockets answer bad input with a clear event or close code, never 1011 (L4): a frame
that is not JSON, or nests too deep, or carries a NUL, gets an error event and the
socket stays; a binary frame closes it with 1003; a frame after the chat was deleted
closes it with 4404; an inactive user's token is refused with 4401; typing is throttled;
one user holds at most WEBSOCKETS_PER_USER sockets (4429)."""

import pytest
from channels.db import database_sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from chats.models import Chat, Message
from chats.tests.factories import make_chat
from chats.tests.sockets import connect
from tavern.asgi import application
from tavern.testing.sockets import TestSocket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("frame", "field", "message"),
    [
        (
            "not json",
            None,
            "The event is not usable JSON: invalid JSON (Expecting value: line 1 column 1 (char 0)).",
        ),
        ("[1, 2]", None, "Each event is a JSON object with a 'type'."),
        (
            '{"type": "send", "content": "a\\u0000b"}',
            "content",
            "The event is not usable JSON: text cannot contain the NUL character (\\u0000).",
        ),
        (
            "[" * 100 + "]" * 100,
            "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",
            "The event is not usable JSON: JSON nested deeper than 64 levels.",
        ),
        (
            "[" * 100_000 + "]" * 100_000,
            None,
            "The event is not usable JSON: JSON nested deeper than 64 levels.",
        ),
    ],
    ids=["not-json", "not-an-object", "nul-character", "nested-100-deep", "nested-100000-deep"],
)
async def test_a_bad_text_frame_gets_an_error_and_the_socket_stays(user, frame, field, message):
    chat = await database_sync_to_async(make_chat)(user)
    socket = await connect(chat.pk, user)

    await socket.send_to(text_data=frame)
    error = await socket.receive_json_from()
    await socket.send_json_to({"type": "typing"})
    still_open = await socket.receive_json_from()

    expected = {"type": "error", "code": "invalid", "message": message}
    if field:
        expected["field"] = field
    assert error == expected
    assert still_open["type"] == "typing"
    assert await database_sync_to_async(Message.objects.filter(chat=chat, author="user").count)() == 0


async def test_a_binary_frame_closes_the_socket_with_1003(user):
    chat = await database_sync_to_async(make_chat)(user)
    socket = await connect(chat.pk, user)

    await socket.send_to(bytes_data=b"\x00\x01")

    assert await socket.closed_with() == 1003


async def test_a_frame_after_the_chat_was_deleted_closes_with_4404(user):
    chat = await database_sync_to_async(make_chat)(user)
    socket = await connect(chat.pk, user)
    await database_sync_to_async(Chat.objects.filter(pk=chat.pk).delete)()

    await socket.send_json_to({"type": "send", "content": "Hello?", "client_id": "c-1"})

    assert await socket.closed_with() == 4404


async def test_an_inactive_users_token_is_refused_at_the_handshake(user):
    chat = await database_sync_to_async(make_chat)(user)
    token = AccessToken.for_user(user)
    user.is_active = False
    await database_sync_to_async(user.save)()

    socket = TestSocket(application, f"/ws/chats/{chat.pk}/?token={token}")

    assert await socket.connect() == (False, 4401)


async def test_typing_is_published_at_most_once_every_two_seconds(user):
    chat = await database_sync_to_async(make_chat)(user)
    greeting = await database_sync_to_async(lambda: Message.objects.get(chat=chat))()
    typist, watcher = await connect(chat.pk, user), await connect(chat.pk, user)

    for _ in range(5):
        await typist.send_json_to({"type": "typing"})
    # Then a change every socket hears: it comes after whatever typing went out.
    await typist.send_json_to({"type": "hide", "message_id": greeting.pk})
    seen = [(await watcher.receive_json_from())["type"]]
    while seen[-1] != "message_updated":
        seen.append((await watcher.receive_json_from())["type"])

    assert seen == ["typing", "message_updated"]


async def test_one_user_holds_at_most_the_configured_number_of_sockets(user, settings):
    settings.WEBSOCKETS_PER_USER = 3
    chat = await database_sync_to_async(make_chat)(user)
    held = [await connect(chat.pk, user) for _ in range(3)]

    one_more = TestSocket(application, f"/ws/chats/{chat.pk}/?token={AccessToken.for_user(user)}")
    refused = await one_more.connect()
    await held[0].disconnect()
    after_closing_one = await connect(chat.pk, user)

    assert refused == (False, 4429)
    assert after_closing_one is not None
