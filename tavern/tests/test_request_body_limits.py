"""Request bodies over their endpoint's limit are refused in front of Django, before
anything reads them: by declared Content-Length without a single `receive`, and a body
without one as soon as it passes the limit. Upload endpoints take their bigger bodies.

The middleware is driven directly with a `receive` that counts its calls; the whole
HTTP application (tavern.asgi) through asgiref's ApplicationCommunicator, whose input
queue shows what the application never read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework_simplejwt.tokens import RefreshToken

from tavern.asgi import application
from tavern.http_limits import BODY_LIMITS, body_limit, body_limits_check
from tavern.request_body_limit import RequestBodyLimitMiddleware

EVENT_WAIT_SECONDS = 60.0
GIB = 1 << 30
MIB = 1 << 20
ENVELOPE = 64 * 1024


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), *(headers or [])],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


def _too_large(message: str) -> list[dict[str, Any]]:
    content = json.dumps({"error": {"code": "too_large", "message": message}}).encode()
    return [
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
            ],
        },
        {"type": "http.response.body", "body": content},
    ]


class BodyReader:
    """An ASGI app that reads the whole body, then answers 200; it records what it heard."""

    def __init__(self, *, answer_first: bool = False) -> None:
        self.answer_first = answer_first
        self.calls = 0
        self.heard: list[str] = []
        self.body = b""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls += 1
        if self.answer_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:
            message = await receive()
            self.heard.append(message["type"])
            if message["type"] == "http.disconnect":
                return
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if not self.answer_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})


class Client:
    """The server's side: a body in pieces, counted as the app asks for them; what was sent back."""

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = list(pieces)
        self.receives = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        self.receives += 1
        body = self.pieces.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(self.pieces)}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


@pytest.fixture
def small_limits(settings):  # type: ignore[no-untyped-def]
    """Limits small enough to read in an assertion."""
    settings.REQUEST_BODY_LIMIT_DEFAULT = 1000
    settings.MAX_REQUEST_BODY_BYTES = 200_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    settings.AVATAR_MAX_BYTES = 2000
    settings.CARD_MAX_BYTES = 20_000
    settings.CHAT_IMPORT_MAX_BYTES = 50_000
    settings.PRESET_MAX_BYTES = 1500
    return settings


# ---------------------------------------------------------------- the table


@pytest.mark.parametrize(
    ("method", "path", "limit"),
    [
        ("POST", "/healthz", 1000),
        ("POST", "/no/such/page/", 1000),
        ("POST", "/api/v1/chats/12/messages/", 1000),
        ("GET", "/api/v1/characters/import/", 0),
        ("HEAD", "/healthz", 0),
        ("POST", "/api/v1/characters/import/", 20_000 + ENVELOPE),
        ("POST", "/lorebooks/import/", 20_000 + ENVELOPE),
        ("POST", "/characters/import/", 200_000),
        ("POST", "/api/v1/chats/import/", 50_000 + ENVELOPE),
        ("POST", "/chats/import/", 50_000 + ENVELOPE),
        ("POST", "/settings/presets/", 1500 + ENVELOPE),
        ("PATCH", "/api/v1/personas/3/", 2000 + 1000),
        ("POST", "/settings/profile/", 2000 + 1000),
        ("PUT", "/api/v1/characters/7/", 10_000),
        ("POST", "/v1/chat/completions", 10_000),
        ("POST", "/characters/7/edit/", 10_000 + 2000),
        ("POST", "/admin/accounts/user/1/change/", 10_000 + 2000),
    ],
    ids=[
        "default",
        "unknown-path",
        "chat-message",
        "get-takes-none",
        "head-takes-none",
        "card-import-api",
        "lorebook-import-page",
        "card-import-page-several-files",
        "chat-import-api",
        "chat-import-page",
        "preset-import-page",
        "persona-avatar-api",
        "profile-avatar-page",
        "card-text-api",
        "openai-conversation",
        "card-page-with-avatar",
        "back-office",
    ],
)
def test_each_endpoint_takes_its_own_limit_from_settings(small_limits, method, path, limit):
    assert body_limit(method=method, path_info=path) == limit


def _url_names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            if entry.namespace:
                names.add(inner.removesuffix(":"))
            names |= _url_names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(prefix + entry.name)
    return names


def test_every_entry_of_the_table_names_a_url():
    assert set(BODY_LIMITS) - _url_names(get_resolver()) == set()


def test_the_default_limits_fit_under_the_server_cap():
    assert body_limits_check() == []


def test_a_limit_over_the_server_cap_is_reported(small_limits):
    small_limits.MAX_REQUEST_BODY_BYTES = 100_000

    warnings = body_limits_check()

    assert [(warning.id, warning.msg) for warning in warnings] == [
        (
            "tavern.W001",
            "MAX_REQUEST_BODY_BYTES (100000) is below the body limit of api:chat_import, chats:import: "
            "the web server refuses those bodies first.",
        )
    ]


# ---------------------------------------------------------------- the middleware


async def test_a_declared_length_over_the_limit_is_refused_without_reading(small_limits):
    app = BodyReader()
    client = Client(b"x" * 1001)

    await RequestBodyLimitMiddleware(app)(
        _scope("POST", "/healthz", [(b"content-length", b"1001")]), client.receive, client.send
    )

    assert client.receives == 0
    assert app.calls == 0
    assert client.sent == _too_large("This endpoint takes request bodies of at most 1000 bytes.")


async def test_a_get_with_a_body_is_refused(small_limits):
    app = BodyReader()
    client = Client(b"hello")

    await RequestBodyLimitMiddleware(app)(
        _scope("GET", "/healthz", [(b"content-length", b"5")]), client.receive, client.send
    )

    assert client.receives == 0
    assert app.calls == 0
    assert client.sent == _too_large("A GET request takes no body.")


async def test_a_body_without_length_is_stopped_once_it_passes_the_limit(small_limits):
    app = BodyReader()
    client = Client(*[b"x" * 400] * 5)

    await RequestBodyLimitMiddleware(app)(_scope("POST", "/healthz"), client.receive, client.send)

    assert client.receives == 3
    assert app.heard == ["http.request", "http.request", "http.disconnect"]
    assert app.body == b"x" * 800
    assert client.sent == _too_large("This endpoint takes request bodies of at most 1000 bytes.")


async def test_a_body_within_the_limit_reaches_the_app_whole(small_limits):
    app = BodyReader()
    client = Client(b"x" * 600, b"y" * 400)

    await RequestBodyLimitMiddleware(app)(_scope("POST", "/healthz"), client.receive, client.send)

    assert app.body == b"x" * 600 + b"y" * 400
    assert [message["type"] for message in client.sent] == ["http.response.start", "http.response.body"]
    assert client.sent[0]["status"] == 200


async def test_an_upload_endpoint_takes_its_bigger_body(small_limits):
    app = BodyReader()
    body = b"c" * 20_000
    client = Client(body[:8192], body[8192:])

    await RequestBodyLimitMiddleware(app)(
        _scope("POST", "/api/v1/characters/import/", [(b"content-length", b"20000")]),
        client.receive,
        client.send,
    )

    assert app.body == body
    assert client.sent[0]["status"] == 200


async def test_a_response_already_started_is_not_followed_by_a_413(small_limits):
    app = BodyReader(answer_first=True)
    client = Client(b"x" * 800, b"x" * 800)

    await RequestBodyLimitMiddleware(app)(_scope("POST", "/healthz"), client.receive, client.send)

    assert app.heard == ["http.request", "http.disconnect"]
    assert [message["type"] for message in client.sent] == ["http.response.start"]


# ---------------------------------------------------------------- the whole HTTP application


async def test_the_application_refuses_a_huge_declared_body_before_django_reads_it():
    communicator = ApplicationCommunicator(
        application, _scope("POST", "/healthz", [(b"content-length", str(GIB).encode())])
    )
    await communicator.send_input({"type": "http.request", "body": b"x" * 1024, "more_body": True})

    start = await communicator.receive_output(EVENT_WAIT_SECONDS)
    body = await communicator.receive_output(EVENT_WAIT_SECONDS)
    await communicator.wait(EVENT_WAIT_SECONDS)

    assert start["status"] == 413
    assert (b"content-type", b"application/json") in start["headers"]
    assert json.loads(body["body"]) == {
        "error": {"code": "too_large", "message": "This endpoint takes request bodies of at most 1 MiB."}
    }
    assert communicator.input_queue.qsize() == 1  # the first piece of the body, never read


async def test_the_application_stops_a_body_without_length_and_django_answers_nothing(small_limits):
    communicator = ApplicationCommunicator(application, _scope("POST", "/healthz"))
    for _ in range(3):
        await communicator.send_input({"type": "http.request", "body": b"x" * 400, "more_body": True})

    start = await communicator.receive_output(EVENT_WAIT_SECONDS)
    body = await communicator.receive_output(EVENT_WAIT_SECONDS)
    await communicator.wait(EVENT_WAIT_SECONDS)

    assert start["status"] == 413
    assert json.loads(body["body"]) == {
        "error": {"code": "too_large", "message": "This endpoint takes request bodies of at most 1000 bytes."}
    }
    assert await communicator.receive_nothing()


async def _response(communicator: ApplicationCommunicator) -> tuple[int, bytes]:
    start = await communicator.receive_output(EVENT_WAIT_SECONDS)
    content = b""
    while True:
        message = await communicator.receive_output(EVENT_WAIT_SECONDS)
        content += message.get("body", b"")
        if not message.get("more_body", False):
            return start["status"], content


def _multipart(name: str, content: bytes) -> tuple[bytes, bytes]:
    boundary = b"tavern-test-boundary"
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + name.encode() + b'"\r\n'
        b"Content-Type: application/json\r\n\r\n" + content + b"\r\n--" + boundary + b"--\r\n"
    )
    return body, b"multipart/form-data; boundary=" + boundary


@pytest.fixture
def bearer(user) -> bytes:  # type: ignore[no-untyped-def]
    return f"Bearer {RefreshToken.for_user(user).access_token}".encode()


@pytest.mark.django_db(transaction=True)
async def test_the_card_import_api_takes_a_card_over_the_default_limit(bearer):
    greeting = "The coast goes on past the last map. " * 3_600  # 130 kB, within a field's limit
    card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {"name": "Long Coast", "alternate_greetings": [greeting] * 10},  # 1.3 MB in all
    }
    body, content_type = _multipart("coast.json", json.dumps(card).encode())
    communicator = ApplicationCommunicator(
        application,
        _scope(
            "POST",
            "/api/v1/characters/import/",
            [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"authorization", bearer),
            ],
        ),
    )
    pieces = [body[start : start + 65536] for start in range(0, len(body), 65536)]
    for index, piece in enumerate(pieces):
        await communicator.send_input(
            {"type": "http.request", "body": piece, "more_body": index < len(pieces) - 1}
        )

    status, content = await _response(communicator)
    await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait(EVENT_WAIT_SECONDS)

    assert len(body) > MIB
    assert status == 201
    created = json.loads(content)
    assert (created["name"], created["alternate_greetings"]) == ("Long Coast", [greeting] * 10)
