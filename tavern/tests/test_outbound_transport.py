"""The guard at connect time: the transport resolves the host itself, refuses what the
policy refuses before any byte is sent, and connects to the checked address while
TLS and the Host header keep the name."""

import datetime
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tavern.outbound import AddressKind, GuardedAsyncTransport, OutboundAddressRefused, OutboundPolicy
from tavern.testing.openai_wire_server import MODELS_PATH, OpenAIWireServer

LIMITS = httpx2.Limits(max_connections=10, max_keepalive_connections=5)
LOOPBACK_ALLOWED = OutboundPolicy.from_entries(allow_private_networks=False, allowed_hosts=["127.0.0.1"])
NOTHING_LOCAL = OutboundPolicy(allow_private_networks=False)


@pytest.fixture
def wire_server() -> Iterator[OpenAIWireServer]:
    with OpenAIWireServer() as server:
        yield server


def guarded_client(
    policy: OutboundPolicy | None = None, *, verify: ssl.SSLContext | None = None
) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        transport=GuardedAsyncTransport(limits=LIMITS, policy=policy, verify=verify),
        trust_env=False,
        timeout=httpx2.Timeout(30, connect=5),
    )


async def test_a_refused_address_is_never_connected_to(wire_server):
    async with guarded_client(NOTHING_LOCAL) as client:
        with pytest.raises(OutboundAddressRefused) as refused:
            await client.get(f"{wire_server.base_url}/models")

    assert (refused.value.kind, refused.value.address) == (AddressKind.LOOPBACK, ip_address("127.0.0.1"))
    assert wire_server.requests == []


async def test_a_name_is_resolved_and_checked_at_connect_time(wire_server):
    url = f"http://localhost:{wire_server.port}/v1/models"

    async with guarded_client(NOTHING_LOCAL) as refusing, guarded_client(LOOPBACK_ALLOWED) as allowing:
        with pytest.raises(OutboundAddressRefused) as refused:
            await refusing.get(url)
        answer = await allowing.get(url)

    assert (refused.value.host, refused.value.kind) == ("localhost", AddressKind.LOOPBACK)
    assert answer.status_code == 200
    [request] = wire_server.requests
    assert (request.path, request.headers["host"]) == (MODELS_PATH, f"localhost:{wire_server.port}")


async def test_an_allowed_name_reaches_every_address_it_has(wire_server):
    policy = OutboundPolicy.from_entries(allow_private_networks=False, allowed_hosts=["LOCALHOST"])

    async with guarded_client(policy) as client:
        answer = await client.get(f"http://localhost:{wire_server.port}/v1/models")

    assert answer.status_code == 200
    assert len(wire_server.requests) == 1


async def test_a_kept_client_follows_the_settings_of_the_moment(settings, wire_server):
    async with guarded_client() as client:
        settings.OUTBOUND_ALLOWED_HOSTS = []
        with pytest.raises(OutboundAddressRefused):
            await client.get(f"{wire_server.base_url}/models")
        settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
        answer = await client.get(f"{wire_server.base_url}/models")

    assert answer.status_code == 200
    assert len(wire_server.requests) == 1


async def test_a_redirect_to_a_refused_address_is_refused(wire_server):
    redirector = _RedirectServer(location=f"{wire_server.base_url}/models")
    policy = OutboundPolicy.from_entries(allow_private_networks=False, allowed_hosts=["localhost"])
    try:
        async with guarded_client(policy) as client:
            with pytest.raises(OutboundAddressRefused) as refused:
                await client.get(f"http://localhost:{redirector.port}/v1/models", follow_redirects=True)
    finally:
        redirector.stop()

    assert (refused.value.host, refused.value.kind) == ("127.0.0.1", AddressKind.LOOPBACK)
    assert redirector.paths == ["/v1/models"]
    assert wire_server.requests == []


async def test_tls_verifies_the_name_although_the_socket_goes_to_the_checked_address(tmp_path):
    server = _TLSServer(tmp_path, name="localhost")
    try:
        async with guarded_client(LOOPBACK_ALLOWED, verify=server.client_context) as client:
            answer = await client.get(f"https://localhost:{server.port}/v1/models")
    finally:
        server.stop()

    assert (answer.status_code, answer.text) == (200, "hello over TLS")
    assert server.server_names == ["localhost"]
    assert server.host_headers == [f"localhost:{server.port}"]


# ---------------------------------------------------------------- small servers


class _Recording(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_RecordingHTTPServer"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        self.server.host_headers.append(self.headers.get("Host", ""))
        if self.server.location:
            self.send_response(302)
            self.send_header("Location", self.server.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"hello over TLS"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _RecordingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, location: str = "") -> None:
        self.location = location
        self.paths: list[str] = []
        self.host_headers: list[str] = []
        super().__init__(("127.0.0.1", 0), _Recording)


class _RedirectServer:
    """Answers every GET with a redirect to `location`."""

    def __init__(self, *, location: str) -> None:
        self._server = _RecordingHTTPServer(location=location)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def paths(self) -> list[str]:
        return list(self._server.paths)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _TLSServer:
    """HTTPS on 127.0.0.1 with a certificate for `name` only, recording the SNI it is asked for."""

    def __init__(self, folder: Path, *, name: str) -> None:
        cert_path, key_path = _self_signed_certificate(folder, name)
        self.server_names: list[str | None] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        context.sni_callback = lambda _socket, server_name, _context: self.server_names.append(server_name)
        self.client_context = ssl.create_default_context(cafile=str(cert_path))
        self._server = _RecordingHTTPServer()
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host_headers(self) -> list[str]:
        return list(self._server.host_headers)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _self_signed_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path
