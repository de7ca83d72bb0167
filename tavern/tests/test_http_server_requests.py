"""The web server's request hooks in process, on twisted's string transport and a
clock the test moves: what the wire cannot show. A refused body starts no application,
is not kept, and the lingering connection is aborted once LINGER_SECONDS pass; a body
under the cap starts its application as daphne's requests do. (The same server over
real sockets: test_http_server_body_cap.py.)"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from tavern.http_server import LINGER_SECONDS, BodyLimitedHTTPFactory, BodyLimitedRequest, BodyLimitedServer

CAP = 1000
REFUSAL_CONTENT = json.dumps(
    {"error": {"code": "too_large", "message": "The server takes request bodies of at most 1000 bytes."}}
).encode()
REFUSAL = (
    b"HTTP/1.1 413 Content Too Large\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: " + str(len(REFUSAL_CONTENT)).encode() + b"\r\n"
    b"Connection: close\r\n"
    b"\r\n" + REFUSAL_CONTENT
)


class HalfClosingTransport(StringTransport):
    write_closed = False

    def loseWriteConnection(self) -> None:
        self.write_closed = True


class RecordingServer(BodyLimitedServer):
    """Records each application daphne would start, with the body it would be given."""

    def __init__(self) -> None:
        super().__init__(application=None, endpoints=["tcp:0"], max_request_body_bytes=CAP)
        self.connections: dict[Any, dict[str, Any]] = {}  # made by run(), which is not called
        self.started: list[tuple[str, bytes]] = []

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> None:
        self.started.append((scope["path"], protocol.content.read()))
        protocol.content.seek(0)


@dataclass
class Connection:
    protocol: Any
    transport: HalfClosingTransport
    server: RecordingServer
    clock: Clock

    def request(self) -> BodyLimitedRequest:
        (request,) = self.server.connections
        return request


def _connect() -> Connection:
    server = RecordingServer()
    factory = BodyLimitedHTTPFactory(server)
    factory.reactor = Clock()
    protocol = factory.buildProtocol(None)
    transport = HalfClosingTransport()
    protocol.makeConnection(transport)
    return Connection(protocol, transport, server, factory.reactor)


def test_a_declared_length_over_the_cap_starts_nothing_and_lingers_a_bounded_time():
    connection = _connect()

    connection.protocol.dataReceived(
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n"
    )
    connection.protocol.dataReceived(b"x" * 5000)

    assert connection.transport.value() == REFUSAL
    assert (connection.transport.write_closed, connection.transport.disconnected) == (True, False)
    assert connection.server.started == []
    connection.clock.advance(LINGER_SECONDS)
    assert connection.transport.disconnected is True


def test_a_chunked_body_over_the_cap_is_dropped_to_its_end_and_starts_nothing():
    connection = _connect()
    piece = b"%x\r\n%s\r\n" % (600, b"x" * 600)

    connection.protocol.dataReceived(
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    connection.protocol.dataReceived(piece * 2)
    connection.protocol.dataReceived(piece * 3 + b"0\r\n\r\n")

    assert connection.transport.value() == REFUSAL
    assert connection.server.started == []
    assert connection.request().content is None


def test_a_body_under_the_cap_starts_its_application_with_the_body():
    connection = _connect()

    connection.protocol.dataReceived(
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"y" * 1000
    )

    assert connection.server.started == [("/healthz", b"y" * 1000)]
    assert connection.transport.value() == b""
