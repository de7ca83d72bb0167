"""An httpx2 transport that connects only to addresses the outbound policy allows.

The check sits in the network backend, the one place every connection passes
through (first requests, kept-alive pools, redirects): it resolves the host
itself, refuses what the policy refuses, and opens the TCP connection to the
address it checked, never to the name, so the DNS answer cannot change between
the check and the connect. TLS still runs against the name: httpcore2 wraps
the socket afterwards with the URL's host as SNI and certificate name, and the
Host header is the URL's.

A refusal raises OutboundAddressRefused (not an httpx2 error), so clients
built on httpx2 (the openai SDK) do not retry it. Proxies from the environment
(HTTPS_PROXY ...) are not used: a proxy would resolve the name past our check.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable

import anyio
import httpcore2
import httpx2

from tavern.outbound.addresses import IPAddress, parse_ip, resolved_addresses
from tavern.outbound.policy import OutboundPolicy, outbound_policy

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class GuardedNetworkBackend(httpcore2.AsyncNetworkBackend):
    """Resolve, check, then connect to a checked address.

    `policy` is for tests; by default the policy is read from settings at each
    connect, so a change of settings applies to kept clients too.
    """

    def __init__(
        self,
        inner: httpcore2.AsyncNetworkBackend | None = None,
        *,
        policy: OutboundPolicy | None = None,
    ) -> None:
        self._inner = inner or httpcore2.AnyIOBackend()
        self._policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        deadline = None if timeout is None else anyio.current_time() + timeout
        addresses = await _resolve(host, port, timeout)
        policy = self._policy or outbound_policy()
        connectable = policy.connectable(host, addresses)
        if not connectable:
            raise httpcore2.ConnectError(f"{host} has no address")
        last_error: httpcore2.ConnectError | None = None
        for position, address in enumerate(connectable):
            # Each address gets an equal share of the time left, so one that drops
            # packets (a broken IPv6 route) leaves time to try the next.
            share = None
            if deadline is not None:
                share = max(deadline - anyio.current_time(), 0.0) / (len(connectable) - position)
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=share,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore2.ConnectTimeout:
                if position == len(connectable) - 1:
                    raise
            except httpcore2.ConnectError as error:
                last_error = error
        raise last_error or httpcore2.ConnectTimeout(f"no address of {host} answered within {timeout} s")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("connections to user-given URLs never use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedAsyncTransport(httpx2.AsyncHTTPTransport):
    """httpx2's own transport with its pool built on GuardedNetworkBackend.

    Use it with `trust_env=False` on the client, or the environment's proxies
    take over the requests (and the address check with them).
    """

    def __init__(
        self,
        *,
        limits: httpx2.Limits,
        verify: ssl.SSLContext | None = None,
        policy: OutboundPolicy | None = None,
    ) -> None:
        ssl_context = verify or httpx2.create_ssl_context()
        super().__init__(verify=ssl_context, limits=limits)
        # httpx2 has no public way to give its pool a network backend: replace the
        # pool the constructor just built (it has opened nothing yet) with one that has ours.
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy=policy),
        )


async def _resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    literal = parse_ip(host)
    if literal is not None:
        return [literal]
    try:
        with anyio.fail_after(timeout):
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as error:
        raise httpcore2.ConnectTimeout(f"looking up {host} took longer than {timeout} s") from error
    except (OSError, UnicodeError) as error:
        raise httpcore2.ConnectError(str(error)) from error
    return resolved_addresses(infos)
