"""Tavern's web server: daphne, refusing a request body over MAX_REQUEST_BODY_BYTES as
soon as it is known to be one, unread when its Content-Length says so.

    python -m tavern.http_server -b 127.0.0.1 -p 8000 tavern.asgi:application

takes daphne's command line unchanged (bind, port, endpoints, proxy headers, timeouts).

daphne (twisted.web) reads a whole request body, into a temporary file when it is big,
before the ASGI application hears of the request: nothing in the application can refuse
a 1 GB body in time. So the cap sits in twisted's request hooks: `gotLength` sees the
declared Content-Length as soon as the headers end, `handleContentChunk` every piece of
a chunked body. Over the cap the client gets 413 in the API's error shape, no
application is started and nothing more is stored. The endpoints' own, smaller limits
are applied in front of Django (tavern/request_body_limit.py).

The connection is then closed the lingering way: the 413 is sent, our side is shut,
and what the client still sends is read and dropped for at most LINGER_SECONDS. A client
still uploading would otherwise be reset, which can wipe the 413 before it reads it
(RFC 9112, section 9.6).

Two more of twisted's habits go: it parses form bodies into `request.args` inside the
event loop (daphne never reads them), and it would offer HTTP/2 over TLS, while the 413
here is written as HTTP/1.1.
"""

from __future__ import annotations

from typing import Any

# daphne.server installs the asyncio reactor, so it is imported before anything of twisted's.
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from django.conf import settings
from twisted.internet.interfaces import IDelayedCall
from twisted.python.failure import Failure

from tavern.http_limits import size_text, too_large_content

LINGER_SECONDS = 5.0


class BodyLimitedRequest(WebRequest):
    """daphne's request, refused with 413 once its body is known to pass the server's cap."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._body_bytes = 0
        self._refused = False
        self._linger: IDelayedCall | None = None
        super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)

    def gotLength(self, length: int | None) -> None:
        if length is not None and length > self.server.max_request_body_bytes:
            # Without "100 Continue" a waiting client never sends the body at all.
            self.requestHeaders.removeHeader(b"Expect")
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self._refused:
            return  # lingering: read and dropped
        self._body_bytes += len(data)
        if self._body_bytes > self.server.max_request_body_bytes:
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if self._refused:
            return  # answered already: no application for it
        super().requestReceived(command, path, version)

    def connectionLost(self, reason: Failure) -> None:
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        super().connectionLost(reason)

    def _refuse(self) -> None:
        self._refused = True
        if self.content is not None:  # the part of a chunked body read before it passed the cap
            self.content.close()
            self.content = None
        cap = self.server.max_request_body_bytes
        content = too_large_content(f"The server takes request bodies of at most {size_text(cap)}.")
        transport = self.channel.transport
        transport.write(
            b"HTTP/1.1 413 Content Too Large\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n"
            b"Connection: close\r\n"
            b"\r\n%s" % (len(content), content)
        )
        # The channel is the transport's producer; once it is gone, nothing holds back the
        # shutdown of our side after the 413 is written.
        transport.unregisterProducer()
        transport.loseWriteConnection()
        self._linger = self.channel.callLater(LINGER_SECONDS, transport.abortConnection)


class BodyLimitedHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr: Any) -> Any:
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = BodyLimitedRequest
        return protocol

    def acceptableProtocols(self) -> list[bytes]:
        return [b"http/1.1"]


class BodyLimitedServer(Server):
    """daphne's Server with BodyLimitedRequest for HTTP; the cap comes from settings."""

    def __init__(self, *args: Any, max_request_body_bytes: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if max_request_body_bytes is None:
            max_request_body_bytes = settings.MAX_REQUEST_BODY_BYTES
        self.max_request_body_bytes = max_request_body_bytes

    @property
    def http_factory(self) -> HTTPFactory:
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory: HTTPFactory) -> None:
        # Server.run() makes daphne's own factory and listens with it at once: this
        # assignment is the one seam it leaves for ours.
        if not isinstance(factory, BodyLimitedHTTPFactory):
            factory = BodyLimitedHTTPFactory(self)
        self._http_factory = factory


class TavernCommandLineInterface(CommandLineInterface):
    description = "Tavern's web server: daphne with a cap on request bodies (MAX_REQUEST_BODY_BYTES)"
    server_class = BodyLimitedServer


if __name__ == "__main__":
    TavernCommandLineInterface.entrypoint()
