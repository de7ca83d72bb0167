"""The per-minute rate is checked before the user's message is stored: a refused send
leaves nothing behind."""

import pytest
import redis
from channels.db import database_sync_to_async
from django.conf import settings as django_settings

from chats.models import Message
from chats.tests.factories import make_chat
from chats.tests.sockets import connect
from tavern.testing.sockets import TestSocket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def one_message_a_minute(settings, user):
    settings.TAVERN_TIER_LIMITS = {"free": {"messages_per_minute": 1, "tokens_per_day": 0}}
    # Counters live in Redis by user id, which a previous test run may have used this minute.
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    for key in client.scan_iter(f"{settings.REDIS_KEY_PREFIX}:limits:LIMITER/messages/{user.pk}/*"):
        client.delete(key)
    client.close()


async def _until(socket: TestSocket, kind: str) -> dict:
    while True:
        event = await socket.receive_json_from()
        if event["type"] == kind:
            return event


async def test_a_send_over_the_rate_is_refused_and_not_stored(user, one_message_a_minute):
    chat = await database_sync_to_async(make_chat)(user)
    socket = await connect(chat.pk, user)
    await socket.send_json_to({"type": "send", "content": "First.", "client_id": "c-1"})
    await _until(socket, "done")

    await socket.send_json_to({"type": "send", "content": "Second.", "client_id": "c-2"})
    error = await socket.receive_json_from()
    await socket.disconnect()

    assert {key: error[key] for key in ("type", "code", "message")} == {
        "type": "error",
        "code": "rate_limited",
        "message": "You can send 1 messages a minute on the free plan. Try again in a few seconds.",
    }
    assert 0 < error["retry_after"] <= 60
    contents = await database_sync_to_async(
        lambda: list(Message.objects.filter(chat=chat, author="user").values_list("content", flat=True))
    )()
    assert contents == ["First."]
