"""Redis killed while a reply streams (M5): the reply is still written to the end and
stored, for the REST stream that carries it and for a socket whose live view died."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken

from chats.models import Message
from chats.tests.sockets import chat_on, connect
from chats.turns import turns_running
from tavern.testing.redis_server import ThrowawayRedis
from tavern.testing.sockets import EVENT_WAIT_SECONDS

pytestmark = pytest.mark.django_db(transaction=True)

REPLY = " ".join(f"word{n}" for n in range(30))


@pytest.fixture
def redis_that_dies(settings):
    with ThrowawayRedis() as redis:
        settings.REDIS_URL = redis.url
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": redis.url}}
        yield redis


def _stored_reply(chat) -> tuple[str, bool]:
    message = Message.objects.filter(chat=chat, author="character").order_by("-position").first()
    return message.content, message.is_partial


async def test_the_rest_stream_finishes_and_the_reply_is_stored(user, server, redis_that_dies):
    server.script_reply(REPLY, chunk_delay=0.02)
    chat = await database_sync_to_async(chat_on)(server, user)
    response = await AsyncClient().post(
        reverse("api:chat_messages", args=[chat.pk]),
        {"content": "Count.", "client_id": "c-1", "stream": True},
        content_type="application/json",
        headers={"Authorization": f"Bearer {AccessToken.for_user(user)}"},
    )

    kinds, done = [], None
    async for chunk in response.streaming_content:
        for block in chunk.decode().split("\n\n"):
            if not block.startswith("event: "):
                continue
            kind, _, data = block.partition("\ndata: ")
            kinds.append(kind.removeprefix("event: "))
            if kinds[-1] == "token" and kinds.count("token") == 2:
                redis_that_dies.kill()
            if kinds[-1] == "done":
                done = json.loads(data)

    assert kinds[-1] == "end"
    assert done["message"]["content"] == REPLY
    assert await database_sync_to_async(_stored_reply)(chat) == (REPLY, False)


async def test_a_socket_loses_its_live_view_but_the_reply_is_stored(user, server, redis_that_dies):
    server.script_reply(REPLY, chunk_delay=0.02)
    chat = await database_sync_to_async(chat_on)(server, user)
    socket = await connect(chat.pk, user)
    await socket.send_json_to({"type": "send", "content": "Count.", "client_id": "c-1"})
    await socket.until("token", count=2)

    redis_that_dies.kill()
    await asyncio.wait_for(asyncio.gather(*turns_running()), EVENT_WAIT_SECONDS)

    assert await database_sync_to_async(_stored_reply)(chat) == (REPLY, False)
