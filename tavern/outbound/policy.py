"""Which addresses a user-given URL may reach, from settings, and the check at the edge.

Read from settings at each use, not once at import: DEBUG may change after
base settings (production forces it off), and tests flip the policy.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from tavern.outbound.addresses import (
    CLOUD_METADATA_HOSTS,
    LOCAL_KINDS,
    AddressKind,
    IPAddress,
    address_kind,
    parse_ip,
    resolved_addresses,
)

ALLOW_SETTING = "OUTBOUND_ALLOW_PRIVATE_NETWORKS"


class OutboundAddressRefused(Exception):
    """The policy refuses every address of a host; `reason` is written for the user.

    Raised at connect time by the guarded transport, outside the HTTP client's
    own error family, so that clients do not retry it (the answer would not change).
    """

    def __init__(self, *, host: str, kind: AddressKind, address: IPAddress | None) -> None:
        self.host = host
        self.kind = kind
        self.address = address
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        if self.address is None:
            return f"{self.host} is a {self.kind} host, which this server never connects to"
        target = self.host if parse_ip(self.host) == self.address else f"{self.host} ({self.address})"
        if self.kind in LOCAL_KINDS:
            return (
                f"{target} is a private or local address ({self.kind}); "
                f"an operator can allow local model servers with {ALLOW_SETTING}"
            )
        if self.kind is AddressKind.CLOUD_METADATA:
            return f"{target} is a cloud metadata address, which this server never connects to"
        return f"{target} is a {self.kind} address, which this server does not connect to"


Network = IPv4Network | IPv6Network


@dataclass(frozen=True)
class OutboundPolicy:
    """Public addresses are always allowed; local ones when `allow_private_networks`;
    anything listed in `allowed_names` / `allowed_networks` whatever its kind
    (even cloud metadata: the operator said so by name)."""

    allow_private_networks: bool
    allowed_names: frozenset[str] = frozenset()
    allowed_networks: tuple[Network, ...] = ()

    @classmethod
    def from_entries(cls, *, allow_private_networks: bool, allowed_hosts: Iterable[str]) -> OutboundPolicy:
        """`allowed_hosts` holds host names (matched exactly), IP addresses and CIDR networks."""
        names: set[str] = set()
        networks: list[Network] = []
        for entry in allowed_hosts:
            entry = entry.strip()
            if not entry:
                continue
            try:
                networks.append(ip_network(entry.removeprefix("[").removesuffix("]"), strict=False))
            except ValueError:
                names.add(_normal_name(entry))
        return cls(
            allow_private_networks=allow_private_networks,
            allowed_names=frozenset(names),
            allowed_networks=tuple(networks),
        )

    def refused_kind(self, address: IPAddress) -> AddressKind | None:
        """Why the policy refuses `address`, or None when it may be reached."""
        if any(candidate in network for candidate in _forms(address) for network in self.allowed_networks):
            return None
        kind = address_kind(address)
        if kind is None or (self.allow_private_networks and kind in LOCAL_KINDS):
            return None
        return kind

    def connectable(self, host: str, addresses: Sequence[IPAddress]) -> list[IPAddress]:
        """The addresses `host` resolved to that may be reached, in order.

        Raises OutboundAddressRefused when there were addresses and none may be
        reached. A name that also resolves to a refused address keeps its others:
        only checked addresses are ever connected to.
        """
        name = _normal_name(host)
        if name in self.allowed_names:
            return list(addresses)
        if name in CLOUD_METADATA_HOSTS:
            raise OutboundAddressRefused(host=host, kind=AddressKind.CLOUD_METADATA, address=None)
        allowed: list[IPAddress] = []
        refused: list[tuple[IPAddress, AddressKind]] = []
        for address in addresses:
            kind = self.refused_kind(address)
            if kind is None:
                allowed.append(address)
            else:
                refused.append((address, kind))
        if refused and not allowed:
            address, kind = refused[0]
            raise OutboundAddressRefused(host=host, kind=kind, address=address)
        return allowed


def outbound_policy() -> OutboundPolicy:
    """The policy in force: settings OUTBOUND_ALLOW_PRIVATE_NETWORKS (None follows DEBUG)
    and OUTBOUND_ALLOWED_HOSTS."""
    allow = settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS
    if allow is None:
        allow = settings.DEBUG
    return _policy(bool(allow), tuple(settings.OUTBOUND_ALLOWED_HOSTS))


@functools.lru_cache(maxsize=16)
def _policy(allow_private_networks: bool, allowed_hosts: tuple[str, ...]) -> OutboundPolicy:
    return OutboundPolicy.from_entries(
        allow_private_networks=allow_private_networks, allowed_hosts=allowed_hosts
    )


def outbound_url_refusal(url: str, *, policy: OutboundPolicy | None = None) -> OutboundAddressRefused | None:
    """Why `url` would be refused, with its host resolved now; None when it would not.

    A name that does not resolve now passes: the check at connect time decides,
    and a model server that is not up yet (a container still starting) can be saved.
    The lookup blocks (the system resolver's own timeout); it runs when a URL is saved.
    """
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None  # not a URL: the field's URL check says so
    if not host:
        return None
    policy = policy or outbound_policy()
    literal = parse_ip(host)
    addresses: list[IPAddress] = []
    if literal is not None:
        addresses = [literal]
    elif _normal_name(host) not in policy.allowed_names:
        addresses = _resolve_now(host)
    try:
        policy.connectable(host, addresses)
    except OutboundAddressRefused as refused:
        return refused
    return None


def validate_outbound_url(value: str) -> None:
    """A Django validator for URL fields that the server will connect to (forms, serializers)."""
    refused = outbound_url_refusal(value)
    if refused is not None:
        raise ValidationError(f"{refused.reason}.", code="outbound_address_refused")


def _resolve_now(host: str) -> list[IPAddress]:
    try:
        return resolved_addresses(socket.getaddrinfo(host, None, type=socket.SOCK_STREAM))
    except (OSError, UnicodeError):
        return []


def _forms(address: IPAddress) -> tuple[IPAddress, ...]:
    """The address, and the IPv4 address an IPv4-mapped IPv6 one stands for."""
    mapped = getattr(address, "ipv4_mapped", None)
    return (address, mapped) if mapped is not None else (address,)


def _normal_name(host: str) -> str:
    return host.strip().lower().removesuffix(".")
