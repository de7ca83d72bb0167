"""A ban made in one process closes the user's sockets open on another (M3): the close
is published by sync code once the ban is committed and travels on the live bus to a
real web server in a subprocess (tavern/http_server.py, as `make run` starts each web
worker); another user's socket on that server stays open and hears nothing of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework_simplejwt.tokens import RefreshToken
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from accounts.models import User
from accounts.services import user_set_active
from chats.tests.factories import make_chat
from tavern.realtime.push import CLOSE_SIGNED_OUT
from tavern.testing.waits import EVENT_WAIT_SECONDS
from tavern.testing.web_server import WebServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory) -> Iterator[WebServer]:  # type: ignore[no-untyped-def]
    with WebServer(log_path=tmp_path_factory.mktemp("web") / "web.log") as server:
        yield server


def _socket(server: WebServer, path: str, user: User) -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{server.port}{path}",
        additional_headers={"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"},
        open_timeout=EVENT_WAIT_SECONDS,
        close_timeout=EVENT_WAIT_SECONDS,
    )


def _receive(socket: ClientConnection) -> dict[str, Any]:
    return json.loads(socket.recv(timeout=EVENT_WAIT_SECONDS))


def _close_code(socket: ClientConnection) -> int | None:
    """The code the server closes with next (events before it are skipped)."""
    try:
        while True:
            socket.recv(timeout=EVENT_WAIT_SECONDS)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


def test_a_ban_closes_the_users_sockets_on_another_web_process(server, user, other_user):
    chat = make_chat(user)
    with (
        _socket(server, "/ws/notifications/", user) as events,
        _socket(server, f"/ws/chats/{chat.pk}/", user) as chat_socket,
        _socket(server, "/ws/notifications/", other_user) as bystander,
    ):
        _receive(events)  # hello: the socket hears the user's topic from before it opened
        _receive(bystander)

        user_set_active(user=user, active=False)  # committed here; the close is published on commit
        codes = (_close_code(events), _close_code(chat_socket))
        bystander.send(json.dumps({"type": "ping"}))
        answer = _receive(bystander)

    assert codes == (CLOSE_SIGNED_OUT, CLOSE_SIGNED_OUT)
    assert answer == {"type": "pong"}  # still open, and nothing came before the answer
