"""Tokens that arrive faster than TOKEN_BATCH_SECONDS travel as fewer events, with
offsets (UTF-16 code units, as a browser counts) that stitch back the exact reply."""

import pytest
from channels.db import database_sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from chats.tests.factories import make_chat
from tavern.asgi import application
from tavern.testing.sockets import TestSocket

pytestmark = pytest.mark.django_db(transaction=True)


async def test_fast_tokens_are_batched_and_offsets_stitch_the_reply(user, settings):
    settings.TOKEN_BATCH_SECONDS = 0.5
    chat = await database_sync_to_async(make_chat)(user)
    socket = TestSocket(application, f"/ws/chats/{chat.pk}/?token={AccessToken.for_user(user)}")
    assert (await socket.connect())[0] is True

    await socket.send_json_to({"type": "send", "content": "Tell me about the cliffs 🌊 please."})
    tokens, done = [], None
    while done is None:
        event = await socket.receive_json_from()
        if event["type"] == "token":
            tokens.append(event)
        elif event["type"] == "done":
            done = event
    await socket.disconnect()

    text = ""
    for event in tokens:
        assert event["offset"] == len(text.encode("utf-16-le")) // 2
        text += event["text"]
    assert text == done["message"]["content"]
    assert len(tokens) <= 3  # the first token at once, the rest in at most a couple of batches
