"""ws/notifications/ and the user's topic every socket hears: a job on a real Celery
worker reaches the user's real socket through the live bus (Redis Pub/Sub), and nobody
else's; a close published by sync code on commit ends the user's sockets; a socket that
may have missed events while Redis was away is told to resync, or closed if its account
was banned meanwhile. No socket uses the channel layer."""

import asyncio

import pytest
import redis
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services import api_key_create, user_set_active
from chats.tests.factories import make_chat
from chats.tests.sockets import connect
from tavern.asgi import application
from tavern.realtime.push import CLOSE_SIGNED_OUT, user_event_send, user_sockets_close, user_topic
from tavern.tasks import user_event_deliver
from tavern.testing.redis_server import ThrowawayRedis
from tavern.testing.sockets import EVENT_WAIT_SECONDS, TestSocket

pytestmark = pytest.mark.django_db(transaction=True)


def _socket(token: str | None = None, *, origin: bytes | None = None) -> TestSocket:
    headers = [(b"origin", origin)] if origin else []
    path = "/ws/notifications/" + (f"?token={token}" if token else "")
    return TestSocket(application, path, headers=headers)


async def _open(user) -> TestSocket:
    """The user's notifications socket, past its `hello`."""
    socket = _socket(str(AccessToken.for_user(user)))
    assert (await socket.connect())[0] is True
    assert (await socket.receive_json_from())["type"] == "hello"
    return socket


def _listeners(settings, user_id: int) -> int:
    channel = f"{settings.REDIS_KEY_PREFIX}:live:{user_topic(user_id)}"
    return redis.Redis.from_url(settings.REDIS_URL).pubsub_numsub(channel)[0][1]


async def test_anonymous_socket_is_refused():
    socket = _socket()

    connected, code = await socket.connect()

    assert (connected, code) == (False, 4401)


async def test_a_bad_token_is_refused():
    socket = _socket("not-a-token")

    connected, code = await socket.connect()

    assert (connected, code) == (False, 4401)


async def test_a_foreign_origin_is_refused(user):
    socket = _socket(str(AccessToken.for_user(user)), origin=b"https://evil.example")

    connected, _ = await socket.connect()

    assert connected is False


async def test_an_api_key_opens_the_socket(user):
    from channels.db import database_sync_to_async

    issued = await database_sync_to_async(api_key_create)(user=user, name="socket")
    socket = _socket(issued.raw_key)

    connected, _ = await socket.connect()
    hello = await socket.receive_json_from()
    await socket.disconnect()

    assert connected is True
    assert hello == {"type": "hello", "user_id": user.pk}


async def test_worker_event_reaches_its_user_and_nobody_else(user, other_user, celery_worker):
    mine = _socket(str(AccessToken.for_user(user)), origin=b"http://localhost")
    theirs = _socket(str(AccessToken.for_user(other_user)))
    assert (await mine.connect())[0] is True
    assert (await theirs.connect())[0] is True
    await mine.receive_json_from()
    await theirs.receive_json_from()

    result = await asyncio.to_thread(
        lambda: user_event_deliver.delay(user.pk, "job.finished", {"job": "import", "ok": True}).get(
            timeout=EVENT_WAIT_SECONDS
        )
    )
    event = await mine.receive_json_from()
    # Then one for them, from the same worker: had the first reached their socket too,
    # it would come before this one.
    await asyncio.to_thread(
        lambda: user_event_deliver.delay(other_user.pk, "marker", {}).get(timeout=EVENT_WAIT_SECONDS)
    )
    first_of_theirs = await theirs.receive_json_from()
    await mine.disconnect()
    await theirs.disconnect()

    assert result == "job.finished"
    assert event == {"type": "job.finished", "job": "import", "ok": True}
    assert first_of_theirs == {"type": "marker"}


async def test_a_close_published_by_sync_code_on_commit_reaches_every_socket_of_the_user(user, settings):
    chat = await database_sync_to_async(make_chat)(user)
    events = await _open(user)
    chat_socket = await connect(chat.pk, user)
    listening = await asyncio.to_thread(_listeners, settings, user.pk)

    def revoke() -> None:
        with transaction.atomic():
            user_sockets_close(user_id=user.pk)  # publish_sync, once committed

    await database_sync_to_async(revoke)()

    assert listening == 1  # this process's bus, on the user's Pub/Sub channel, for both sockets
    assert await events.closed_with() == CLOSE_SIGNED_OUT
    assert await chat_socket.closed_with() == CLOSE_SIGNED_OUT
    assert "default" not in channel_layers.backends  # no socket made a channel layer


def _push_to_them_then_to_me(them: int, me: int) -> None:
    with transaction.atomic():
        user_event_send(user_id=them, event_type="job_finished", payload={"job_id": 1, "status": "succeeded"})
        user_sockets_close(user_id=them)
        user_event_send(user_id=me, event_type="marker", payload={})


async def test_another_users_events_and_close_never_reach_a_socket(user, other_user):
    chat = await database_sync_to_async(make_chat)(user)
    events = await _open(user)
    chat_socket = await connect(chat.pk, user)

    await database_sync_to_async(_push_to_them_then_to_me)(other_user.pk, user.pk)
    # Had their event or close reached these sockets, it would have come before the marker.
    first = await events.receive_json_from()
    await chat_socket.send_json_to({"type": "typing"})
    echoed = await chat_socket.receive_json_from()

    assert first == {"type": "marker"}
    assert echoed == {"type": "typing", "user_id": user.pk}  # open, and nothing came before


async def test_a_socket_that_may_have_missed_events_is_told_to_resync(user, settings):
    with ThrowawayRedis() as server:
        settings.REDIS_URL = server.url
        socket = await _open(user)

        server.kill()
        server.restart()
        event = await socket.receive_json_from()
        await socket.send_json_to({"type": "ping"})
        answer = await socket.receive_json_from()
        await socket.disconnect()

    assert (event, answer) == ({"type": "resync"}, {"type": "pong"})


async def test_a_ban_whose_close_was_lost_with_redis_still_closes_the_socket(user, settings):
    with ThrowawayRedis() as server:
        settings.REDIS_URL = server.url
        socket = await _open(user)

        server.kill()
        await database_sync_to_async(user_set_active)(user=user, active=False)  # its close is lost
        server.restart()
        code = await socket.closed_with()

    assert code == CLOSE_SIGNED_OUT
