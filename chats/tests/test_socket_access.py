"""Only the chat's owner may open its socket: anonymous sockets are closed with 4401,
another user's chat (or a missing one) with 4404, so it looks like it does not exist."""

import pytest
from channels.db import database_sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from chats.tests.factories import make_chat
from tavern.asgi import application
from tavern.testing.sockets import TestSocket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "query", ["", "?token=not-a-jwt"], ids=["no credentials", "a token that is not valid"]
)
async def test_an_anonymous_socket_is_closed_with_4401(user, query):
    chat = await database_sync_to_async(make_chat)(user)
    socket = TestSocket(application, f"/ws/chats/{chat.pk}/{query}")

    connected, code = await socket.connect()
    await socket.disconnect()  # the refused consumer still runs until then

    assert (connected, code) == (False, 4401)


async def test_another_users_chat_is_closed_with_4404(user, other_user):
    chat = await database_sync_to_async(make_chat)(user)
    socket = TestSocket(application, f"/ws/chats/{chat.pk}/?token={AccessToken.for_user(other_user)}")

    connected, code = await socket.connect()
    await socket.disconnect()  # the refused consumer still runs until then

    assert (connected, code) == (False, 4404)


async def test_a_missing_chat_is_closed_with_4404(user):
    chat = await database_sync_to_async(make_chat)(user)
    socket = TestSocket(application, f"/ws/chats/{chat.pk + 1000}/?token={AccessToken.for_user(user)}")

    connected, code = await socket.connect()
    await socket.disconnect()  # the refused consumer still runs until then

    assert (connected, code) == (False, 4404)
