"""Headers with bytes outside ASCII (a UTF-8 API key, a binary request id, a mangled
X-Forwarded-For) are refused or ignored, never a 500 (L1). Sent as raw bytes through
the ASGI application, as a real server hands them over."""

import json

import pytest
from asgiref.testing import ApplicationCommunicator

from tavern.asgi import application
from tavern.testing.waits import EVENT_WAIT_SECONDS

pytestmark = pytest.mark.django_db(transaction=True)


async def _get(path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, dict]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(EVENT_WAIT_SECONDS)
    body = b""
    while True:
        message = await communicator.receive_output(EVENT_WAIT_SECONDS)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(EVENT_WAIT_SECONDS)
    return start["status"], json.loads(body) if body.startswith(b"{") else {}


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ([(b"authorization", "Bearer tvn_clé-林".encode())], 401, "authentication_failed"),
        ([(b"authorization", b"Bearer \xff\xfe\x00junk")], 401, "token_not_valid"),
        ([(b"authorization", "Bearer 林.林.林".encode())], 401, "token_not_valid"),
        ([(b"x-request-id", b"\xff\xfe\x01")], 401, "not_authenticated"),
        ([(b"x-forwarded-for", b"\xff, 1.2.3.4, \x00")], 401, "not_authenticated"),
    ],
    ids=["utf8-api-key", "binary-bearer", "cjk-jwt", "binary-request-id", "mangled-forwarded-for"],
)
async def test_odd_header_bytes_get_a_clear_answer(headers, status, code):
    answered, body = await _get("/api/v1/me/", headers)

    assert (answered, body["error"]["code"]) == (status, code)


@pytest.mark.parametrize(
    "authorization",
    ["Bearer tvn_clé-林".encode(), b"Bearer \xff\xfe\x00junk"],
    ids=["utf8-api-key", "binary-bearer"],
)
async def test_the_openai_endpoint_answers_odd_keys_in_its_own_shape(authorization):
    answered, body = await _get("/v1/models", [(b"authorization", authorization)])

    assert (answered, body["error"]["type"], body["error"]["code"]) == (
        401,
        "authentication_error",
        "invalid_api_key",
    )
