"""A socket that closes ends its consumer at once, also while another socket of the
same process is waiting on Redis. (With a socket timeout, redis-py
sends through asyncio.wait_for, which on Python 3.11 can swallow the cancellation of
that wait, and a closed socket's consumer lived on: see tavern/realtime/redis.py.)"""

import pytest
from channels.db import database_sync_to_async

from chats.tests.factories import make_chat
from chats.tests.sockets import connect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("order", ["first opened closes first", "last opened closes first"])
async def test_each_closed_socket_ends_its_consumer(user, order):
    chat = await database_sync_to_async(make_chat)(user)
    first, second = await connect(chat.pk, user), await connect(chat.pk, user)
    await first.send_json_to({"type": "typing"})
    await second.receive_json_from()  # both consumers are now receiving
    closing = [first, second] if order == "first opened closes first" else [second, first]

    for socket in closing:
        await socket.disconnect()

    assert [(socket.future.done(), socket.future.cancelled()) for socket in closing] == [
        (True, False),
        (True, False),
    ]
