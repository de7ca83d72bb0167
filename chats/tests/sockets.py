"""Shared helpers for the chat socket tests: a chat on the wire server, a connected socket."""

from __future__ import annotations

from rest_framework_simplejwt.tokens import AccessToken

from chats.services import connection_save
from chats.tests.factories import make_chat
from tavern.asgi import application
from tavern.testing.openai_wire_server import OpenAIWireServer
from tavern.testing.sockets import TestSocket


def chat_on(server: OpenAIWireServer, user):
    connection = connection_save(
        owner=user,
        connection=None,
        data={"name": "Local", "base_url": server.base_url, "model": "test-model"},
        api_key="sk-test",
    )
    return make_chat(user, connection=connection)


async def connect(chat_id: int, user) -> TestSocket:
    socket = TestSocket(application, f"/ws/chats/{chat_id}/?token={AccessToken.for_user(user)}")
    connected, _ = await socket.connect()
    assert connected is True
    return socket
