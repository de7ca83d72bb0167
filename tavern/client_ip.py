"""The client's address, as far as we can trust it.

`X-Forwarded-For` is written by whoever sends the request; only a proxy we run
may speak for the client. `TRUSTED_PROXIES` (addresses or networks, none by
default) names those proxies: the client is the last address in the chain that is
not one of them. Without trusted proxies the header is ignored, so rotating it
earns an attacker nothing (H2: 85 password guesses under 85 made-up addresses).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from django.conf import settings

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _trusted_networks(proxies: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(proxy.strip(), strict=False) for proxy in proxies if proxy.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _is_trusted(text: str, networks: Iterable[IpNetwork]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in networks)


def client_ip_from(remote_addr: str, forwarded_for: str) -> str:
    """The client's address given the peer's address and the X-Forwarded-For header."""
    networks = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _is_trusted(remote_addr, networks):
        return remote_addr
    chain = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(chain):
        if not _is_trusted(hop, networks):
            return hop if _address(hop) is not None else remote_addr
    return chain[0] if chain and _address(chain[0]) is not None else remote_addr


def client_ip(request: Any) -> str:
    """For a Django or DRF request (also django-axes' AXES_CLIENT_IP_CALLABLE)."""
    meta: Mapping[str, str] = request.META
    return client_ip_from(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""))


def client_ip_of_scope(scope: Mapping[str, Any]) -> str:
    """For an ASGI scope (a WebSocket handshake)."""
    client = scope.get("client") or ("", 0)
    forwarded = ""
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            forwarded = value.decode("latin-1")
    return client_ip_from(str(client[0]), forwarded)
