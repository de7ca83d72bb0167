"""The web server `make run` starts (tavern/http_server.py) refuses a body over
MAX_REQUEST_BODY_BYTES before reading it: a declared length at once, a chunked body as
soon as it passes the cap. It answers 413 in the API's error shape, closes, and goes on
serving. Bodies under the cap reach the application, whose per-endpoint limits apply.

One real server in a subprocess for the module, spoken to over raw sockets; every
wait ends on the event (a response, the connection's end) with a generous limit."""

from __future__ import annotations

import http.client
import json
import select
import socket
from collections.abc import Iterator

import pytest

from tavern.testing.web_server import WebServer

# The server reads the test database (the token endpoint looks the user up).
pytestmark = pytest.mark.django_db

CAP = 64 * 1024
ENDPOINT_DEFAULT = 4096
WAIT_SECONDS = 60.0
HUGE = b"POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1073741824\r\n"
CHUNKED = b"POST /healthz HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
PIECE = b"x" * (16 * 1024)


def _server_refusal() -> bytes:
    content = json.dumps(
        {"error": {"code": "too_large", "message": "The server takes request bodies of at most 64 KiB."}}
    ).encode()
    return (
        b"HTTP/1.1 413 Content Too Large\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: " + str(len(content)).encode() + b"\r\n"
        b"Connection: close\r\n"
        b"\r\n" + content
    )


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory) -> Iterator[WebServer]:  # type: ignore[no-untyped-def]
    log_path = tmp_path_factory.mktemp("web-server") / "server.log"
    env = {"MAX_REQUEST_BODY_BYTES": str(CAP), "REQUEST_BODY_LIMIT_DEFAULT": str(ENDPOINT_DEFAULT)}
    with WebServer(log_path=log_path, env=env) as web_server:
        yield web_server


def _exchange(server: WebServer, *sends: bytes) -> bytes:
    """Send each piece in turn, then read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT_SECONDS) as connection:
        for data in sends:
            connection.sendall(data)
        return _read_to_end(connection)


def _read_to_end(connection: socket.socket) -> bytes:
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def _request(
    server: WebServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT_SECONDS)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _healthz(server: WebServer) -> tuple[int, object]:
    status, content = _request(server, "GET", "/healthz")
    return status, json.loads(content)


def test_a_huge_declared_body_is_refused_and_closed_before_it_is_sent(server):
    received = _exchange(server, HUGE + b"\r\n")

    assert received == _server_refusal()
    assert _healthz(server) == (200, {"status": "ok"})


def test_a_client_waiting_to_continue_gets_the_413_instead(server):
    received = _exchange(server, HUGE + b"Expect: 100-continue\r\n\r\n")

    assert received == _server_refusal()
    assert _healthz(server) == (200, {"status": "ok"})


def test_a_chunked_body_is_cut_off_once_it_passes_the_cap(server):
    # Five pieces pass the cap by one piece; the body never ends, so only a server that
    # cuts it off answers at all.
    received = _exchange(server, CHUNKED, *[_chunk(PIECE)] * 5)

    assert received == _server_refusal()
    assert _healthz(server) == (200, {"status": "ok"})


def test_a_client_still_uploading_after_the_413_is_not_reset(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT_SECONDS) as connection:
        connection.sendall(CHUNKED + _chunk(PIECE) * 5)
        answered, _, _ = select.select([connection], [], [], WAIT_SECONDS)
        # The server has answered and shut its side; what the client still sends is
        # read and dropped, so the 413 is not wiped by a reset.
        connection.sendall(_chunk(PIECE) * 8 + b"0\r\n\r\n")
        received = _read_to_end(connection)

    assert answered == [connection]
    assert received == _server_refusal()
    assert _healthz(server) == (200, {"status": "ok"})


def test_a_body_under_both_limits_reaches_the_view(server):
    credentials = json.dumps({"username": "nobody-here", "password": "p" * 1000}).encode()

    status, content = _request(
        server, "POST", "/api/v1/auth/token/", credentials, {"Content-Type": "application/json"}
    )

    # The view parsed the credentials out of the body and looked the user up.
    assert status == 400
    assert json.loads(content)["error"]["message"] == "No active account with these credentials."


def test_a_body_under_the_cap_meets_the_endpoint_limit_in_the_application(server):
    status, content = _request(server, "POST", "/healthz", b"x" * (ENDPOINT_DEFAULT + 1))

    assert status == 413
    assert json.loads(content) == {
        "error": {"code": "too_large", "message": "This endpoint takes request bodies of at most 4 KiB."}
    }
    assert _healthz(server) == (200, {"status": "ok"})
