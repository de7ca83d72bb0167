"""What kind of address an IP is, as far as reaching it from this server goes.

Python's `ipaddress` flags answer narrower questions (and changed between 3.11
patch releases), so the kinds are spelled out here: an IPv6 address that
carries an IPv4 one (mapped, NAT64, 6to4) is judged by the IPv4 address it
reaches, and anything not globally routable that has no better name is
"reserved".
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

IPAddress = IPv4Address | IPv6Address


class AddressKind(enum.StrEnum):
    """Why an address is not a public one; the values are shown to users."""

    LOOPBACK = "loopback"
    UNSPECIFIED = "unspecified"
    PRIVATE = "private"
    SHARED = "shared (carrier-grade NAT)"
    LINK_LOCAL = "link-local"
    UNIQUE_LOCAL = "unique-local"
    CLOUD_METADATA = "cloud metadata"
    MULTICAST = "multicast"
    RESERVED = "reserved"


# Where a self-hosted model server can live: this machine, the LAN, a VPN such as
# Tailscale (100.64.0.0/10). OUTBOUND_ALLOW_PRIVATE_NETWORKS opens these and only these.
LOCAL_KINDS = frozenset(
    {
        AddressKind.LOOPBACK,
        AddressKind.UNSPECIFIED,  # connecting to 0.0.0.0 or :: reaches this machine
        AddressKind.PRIVATE,
        AddressKind.SHARED,
        AddressKind.LINK_LOCAL,
        AddressKind.UNIQUE_LOCAL,
    }
)

# Instance metadata services hand out the machine's cloud credentials; no model
# server lives there, so they stay refused even when private networks are allowed.
CLOUD_METADATA_ADDRESSES = frozenset(
    ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack, Oracle
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (older instances)
        "168.63.129.16",  # Azure's host endpoint, a public address
    )
)
CLOUD_METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)

_PRIVATE_V4 = tuple(IPv4Network(network) for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_SHARED_V4 = IPv4Network("100.64.0.0/10")
_UNIQUE_LOCAL_V6 = IPv6Network("fc00::/7")
_NAT64_V6 = IPv6Network("64:ff9b::/96")


def address_kind(address: IPAddress) -> AddressKind | None:
    """The kind of a non-public address, or None for a public one."""
    if isinstance(address, IPv6Address):
        carried = _carried_ipv4(address)
        if carried is not None:
            return address_kind(carried)
    if address in CLOUD_METADATA_ADDRESSES:
        return AddressKind.CLOUD_METADATA
    if address.is_loopback:
        return AddressKind.LOOPBACK
    if address.is_unspecified:
        return AddressKind.UNSPECIFIED
    if address.is_link_local:
        return AddressKind.LINK_LOCAL
    if address.is_multicast:
        return AddressKind.MULTICAST
    if isinstance(address, IPv4Address):
        if any(address in network for network in _PRIVATE_V4):
            return AddressKind.PRIVATE
        if address in _SHARED_V4:
            return AddressKind.SHARED
    else:
        if address in _UNIQUE_LOCAL_V6:
            return AddressKind.UNIQUE_LOCAL
        if address.is_site_local:  # fec0::/10, deprecated but still routed by some LANs
            return AddressKind.PRIVATE
    if address.is_reserved or address.is_private or not address.is_global:
        return AddressKind.RESERVED
    return None


def parse_ip(text: str) -> IPAddress | None:
    """`text` as an IP address (brackets and an IPv6 zone allowed), or None for a name."""
    text = text.strip().removeprefix("[").removesuffix("]").split("%", 1)[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


def resolved_addresses(infos: Iterable[tuple[Any, ...]]) -> list[IPAddress]:
    """The distinct addresses of a getaddrinfo answer, in its order (the preferred first)."""
    addresses = (parse_ip(str(info[4][0])) for info in infos)
    return list(dict.fromkeys(address for address in addresses if address is not None))


def _carried_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one leads to: ::ffff:a.b.c.d, 64:ff9b::a.b.c.d, 2002:aabb:ccdd::."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64_V6:
        return IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.sixtofour
