"""Two web processes serve one site (DESIGN, "Past one machine"): a chat's stream travels
between them through Redis Pub/Sub (tavern/realtime/bus.py), and its state in Redis lets a socket on
either catch up.

Two real servers (tavern/http_server.py, as `make run` starts each web worker) run as
subprocesses on their own ports against this run's test database and Redis; a real
WebSocket client speaks to one, the REST API to the other, and the offline demo answers.
Waits end on the event, with generous limits; both servers are stopped at teardown."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework_simplejwt.tokens import RefreshToken
from websockets.sync.client import ClientConnection, connect

from accounts.models import User
from chats.models import Chat, Message
from chats.tests.factories import make_chat
from tavern.testing.waits import EVENT_WAIT_SECONDS
from tavern.testing.web_server import WebServer

pytestmark = pytest.mark.django_db(transaction=True)

# The free plan's limits are off: quota counters live in the shared Redis under user ids
# that another run gives to other users the same day.
NO_LIMITS = {"LIMIT_FREE_PER_MINUTE": "0", "LIMIT_FREE_TOKENS_PER_DAY": "0"}


@pytest.fixture(scope="module")
def servers(django_db_setup, tmp_path_factory) -> Iterator[tuple[WebServer, WebServer]]:  # type: ignore[no-untyped-def]
    logs = tmp_path_factory.mktemp("web")
    with (
        WebServer(log_path=logs / "web-a.log", env=NO_LIMITS) as server_a,
        WebServer(log_path=logs / "web-b.log", env=NO_LIMITS) as server_b,
    ):
        yield server_a, server_b


@pytest.fixture
def token(user: User) -> str:
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def chat(user: User) -> Chat:
    return make_chat(user)


def _socket(server: WebServer, chat: Chat, token: str) -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{server.port}/ws/chats/{chat.pk}/",
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=EVENT_WAIT_SECONDS,
        close_timeout=EVENT_WAIT_SECONDS,
    )


def _next_of(socket: ClientConnection, kind: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The next event of type `kind`, and every event before it."""
    seen: list[dict[str, Any]] = []
    while True:
        event = json.loads(socket.recv(timeout=EVENT_WAIT_SECONDS))
        assert event["type"] != "error", event
        if event["type"] == kind:
            return event, seen
        seen.append(event)


def _send_by_rest(server: WebServer, chat: Chat, token: str, content: str) -> dict[str, Any]:
    """A turn on `server`: answered once the reply is written (no streaming on this side)."""
    request = urllib.request.Request(
        f"{server.base}/api/v1/chats/{chat.pk}/messages/",
        data=json.dumps({"content": content}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=EVENT_WAIT_SECONDS) as response:
        assert response.status == 201
        return json.loads(response.read())


def test_a_socket_on_one_process_receives_the_reply_of_a_turn_started_on_another(servers, chat, token):
    server_a, server_b = servers
    with _socket(server_a, chat, token) as socket_on_a:
        # when a turn is sent to the other process
        sent = _send_by_rest(server_b, chat, token, "Hello from the other process")

        # then the socket on this one hears all of it, from the stored message to `done`
        done, before = _next_of(socket_on_a, "done")

    created, started, *tokens = before
    assert (created["type"], created["message"]) == ("message_created", sent["message"])
    assert (started["type"], started["generation_id"]) == ("generation_started", done["generation_id"])
    assert {event["type"] for event in tokens} == {"token"}
    assert "".join(event["text"] for event in tokens) == sent["reply"]["content"]
    assert done["message"] == sent["reply"]


def test_a_socket_that_reconnects_to_one_process_catches_up_on_a_turn_run_by_another(servers, chat, token):
    server_a, server_b = servers
    last_seen = Message.objects.get(chat=chat).position  # the greeting
    with _socket(server_a, chat, token):
        pass  # the page was open, then its connection dropped
    sent = _send_by_rest(server_b, chat, token, "Are you still there?")

    with _socket(server_a, chat, token) as socket_on_a:
        socket_on_a.send(json.dumps({"type": "resume", "last_position": last_seen}))
        snapshot, before = _next_of(socket_on_a, "snapshot")

    assert before == []
    assert snapshot["messages"] == [sent["message"], sent["reply"]]
    assert snapshot["live"] is None  # the reply is written: nothing in progress
