"""ws/notifications/: a job on a real Celery worker reaches the user's real socket,
through the real Redis channel layer, and nobody else's."""

import asyncio

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services import api_key_create
from tavern.asgi import application
from tavern.tasks import user_event_deliver
from tavern.testing.sockets import EVENT_WAIT_SECONDS, TestSocket

pytestmark = pytest.mark.django_db(transaction=True)


def _socket(token: str | None = None, *, origin: bytes | None = None) -> TestSocket:
    headers = [(b"origin", origin)] if origin else []
    path = "/ws/notifications/" + (f"?token={token}" if token else "")
    return TestSocket(application, path, headers=headers)


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
