"""Which addresses a user-given URL may reach: the classifier, the policy, and the
check at the edge (no network: names come from /etc/hosts or do not resolve)."""

from ipaddress import ip_address

import pytest

from tavern.outbound import (
    AddressKind,
    OutboundAddressRefused,
    OutboundPolicy,
    address_kind,
    outbound_policy,
    outbound_url_refusal,
)

ALLOW_HINT = "an operator can allow local model servers with OUTBOUND_ALLOW_PRIVATE_NETWORKS"


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("127.0.0.1", AddressKind.LOOPBACK),
        ("127.8.9.10", AddressKind.LOOPBACK),
        ("::1", AddressKind.LOOPBACK),
        ("0.0.0.0", AddressKind.UNSPECIFIED),
        ("::", AddressKind.UNSPECIFIED),
        ("10.0.0.5", AddressKind.PRIVATE),
        ("172.16.3.4", AddressKind.PRIVATE),
        ("192.168.1.20", AddressKind.PRIVATE),
        ("fec0::1", AddressKind.PRIVATE),
        ("100.64.0.1", AddressKind.SHARED),
        ("169.254.1.1", AddressKind.LINK_LOCAL),
        ("fe80::1", AddressKind.LINK_LOCAL),
        ("fd12:3456::1", AddressKind.UNIQUE_LOCAL),
        ("169.254.169.254", AddressKind.CLOUD_METADATA),
        ("fd00:ec2::254", AddressKind.CLOUD_METADATA),
        ("100.100.100.200", AddressKind.CLOUD_METADATA),
        ("168.63.129.16", AddressKind.CLOUD_METADATA),
        ("224.0.0.1", AddressKind.MULTICAST),
        ("ff02::1", AddressKind.MULTICAST),
        ("240.0.0.1", AddressKind.RESERVED),
        ("255.255.255.255", AddressKind.RESERVED),
        ("192.0.2.1", AddressKind.RESERVED),
        ("2001:db8::1", AddressKind.RESERVED),
        ("::ffff:127.0.0.1", AddressKind.LOOPBACK),
        ("::ffff:169.254.169.254", AddressKind.CLOUD_METADATA),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::a00:5", AddressKind.PRIVATE),
        ("64:ff9b::808:808", None),
        ("2002:7f00:1::1", AddressKind.LOOPBACK),
    ],
    ids=[
        "public IPv4",
        "public IPv6",
        "loopback",
        "anywhere in 127/8 is loopback",
        "IPv6 loopback",
        "0.0.0.0 reaches this machine",
        "IPv6 unspecified",
        "10/8",
        "172.16/12",
        "192.168/16",
        "IPv6 site-local",
        "carrier-grade NAT (Tailscale)",
        "IPv4 link-local",
        "IPv6 link-local",
        "IPv6 unique-local",
        "the metadata service",
        "AWS metadata over IPv6",
        "Alibaba metadata",
        "Azure host endpoint",
        "IPv4 multicast",
        "IPv6 multicast",
        "class E",
        "broadcast",
        "IPv4 documentation range",
        "IPv6 documentation range",
        "IPv4-mapped loopback",
        "IPv4-mapped metadata",
        "IPv4-mapped public",
        "NAT64 of a private address",
        "NAT64 of a public address",
        "6to4 of loopback",
    ],
)
def test_address_kind(address, kind):
    assert address_kind(ip_address(address)) == kind


@pytest.mark.parametrize(
    ("address", "refused_by_default", "refused_with_private_networks"),
    [
        ("8.8.8.8", None, None),
        ("127.0.0.1", AddressKind.LOOPBACK, None),
        ("10.0.0.5", AddressKind.PRIVATE, None),
        ("100.64.0.1", AddressKind.SHARED, None),
        ("fd12:3456::1", AddressKind.UNIQUE_LOCAL, None),
        ("169.254.169.254", AddressKind.CLOUD_METADATA, AddressKind.CLOUD_METADATA),
        ("224.0.0.1", AddressKind.MULTICAST, AddressKind.MULTICAST),
        ("240.0.0.1", AddressKind.RESERVED, AddressKind.RESERVED),
    ],
    ids=[
        "public",
        "loopback",
        "private",
        "carrier-grade NAT",
        "unique-local",
        "metadata",
        "multicast",
        "reserved",
    ],
)
def test_private_networks_open_local_addresses_only(
    address, refused_by_default, refused_with_private_networks
):
    closed = OutboundPolicy(allow_private_networks=False)
    opened = OutboundPolicy(allow_private_networks=True)

    assert closed.refused_kind(ip_address(address)) == refused_by_default
    assert opened.refused_kind(ip_address(address)) == refused_with_private_networks


def test_allowed_hosts_take_names_addresses_and_networks_whatever_their_kind():
    policy = OutboundPolicy.from_entries(
        allow_private_networks=False,
        allowed_hosts=["Ollama.LAN.", "10.0.5.0/24", "[::1]", "169.254.169.254", " "],
    )

    assert policy.allowed_names == frozenset({"ollama.lan"})
    assert [str(network) for network in policy.allowed_networks] == [
        "10.0.5.0/24",
        "::1/128",
        "169.254.169.254/32",
    ]
    assert [
        policy.refused_kind(ip_address(address))
        for address in ("10.0.5.9", "10.0.6.9", "::1", "::ffff:10.0.5.9", "169.254.169.254")
    ] == [None, AddressKind.PRIVATE, None, None, None]
    assert policy.connectable("ollama.lan", [ip_address("192.168.1.7")]) == [ip_address("192.168.1.7")]


def test_a_name_keeps_only_its_addresses_that_may_be_reached():
    policy = OutboundPolicy(allow_private_networks=False)

    connectable = policy.connectable("mixed.example", [ip_address("10.0.0.5"), ip_address("8.8.8.8")])

    assert connectable == [ip_address("8.8.8.8")]


@pytest.mark.parametrize(
    ("host", "addresses", "reason"),
    [
        (
            "127.0.0.1",
            ["127.0.0.1"],
            f"127.0.0.1 is a private or local address (loopback); {ALLOW_HINT}",
        ),
        (
            "ollama.internal",
            ["10.0.0.5", "10.0.0.6"],
            f"ollama.internal (10.0.0.5) is a private or local address (private); {ALLOW_HINT}",
        ),
        (
            "169.254.169.254",
            ["169.254.169.254"],
            "169.254.169.254 is a cloud metadata address, which this server never connects to",
        ),
        (
            "metadata.google.internal",
            [],
            "metadata.google.internal is a cloud metadata host, which this server never connects to",
        ),
        (
            "224.0.0.1",
            ["224.0.0.1"],
            "224.0.0.1 is a multicast address, which this server does not connect to",
        ),
    ],
    ids=["an address", "a name", "metadata address", "metadata name, unresolved", "multicast"],
)
def test_a_refusal_says_what_the_address_is_and_what_to_do(host, addresses, reason):
    policy = OutboundPolicy(allow_private_networks=False)

    with pytest.raises(OutboundAddressRefused) as refused:
        policy.connectable(host, [ip_address(address) for address in addresses])

    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("debug", "allowed"), [(True, True), (False, False)], ids=["DEBUG on allows", "DEBUG off refuses"]
)
def test_private_networks_follow_debug_when_not_set(settings, debug, allowed):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = None
    settings.OUTBOUND_ALLOWED_HOSTS = []
    settings.DEBUG = debug

    assert outbound_policy().allow_private_networks is allowed
    assert (outbound_url_refusal("http://10.0.0.5:11434/v1") is None) is allowed


@pytest.mark.parametrize(
    ("setting", "debug", "allowed"),
    [(False, True, False), (True, False, True)],
    ids=["off even with DEBUG", "on without DEBUG"],
)
def test_an_explicit_setting_wins_over_debug(settings, setting, debug, allowed):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = setting
    settings.DEBUG = debug

    assert outbound_policy().allow_private_networks is allowed


def test_the_test_settings_allow_the_wire_servers_loopback_only():
    policy = outbound_policy()

    assert (policy.allow_private_networks, policy.allowed_names) == (False, frozenset())
    assert [str(network) for network in policy.allowed_networks] == ["127.0.0.1/32"]


def test_a_name_that_resolves_to_loopback_is_refused_at_the_edge(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    refused = outbound_url_refusal("http://localhost:11434/v1")

    assert refused is not None
    assert (refused.host, refused.kind, refused.address.is_loopback) == (
        "localhost",
        AddressKind.LOOPBACK,
        True,
    )
    assert (
        refused.reason
        == f"localhost ({refused.address}) is a private or local address (loopback); {ALLOW_HINT}"
    )


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("http://2130706433/v1", "2130706433 (127.0.0.1)"),
        ("http://127.1:8080/v1", "127.1 (127.0.0.1)"),
        ("http://0x7f.0.0.1/v1", "0x7f.0.0.1 (127.0.0.1)"),
        ("http://[::ffff:127.0.0.1]/v1", "::ffff:127.0.0.1"),
    ],
    ids=["decimal", "short form", "hexadecimal", "IPv4-mapped IPv6"],
)
def test_odd_spellings_of_loopback_are_judged_by_the_address_they_reach(settings, url, target):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    refused = outbound_url_refusal(url)

    assert refused is not None
    assert refused.reason == f"{target} is a private or local address (loopback); {ALLOW_HINT}"


@pytest.mark.parametrize(
    "url",
    ["https://model-server.invalid/v1", "not a url", "http://[::1/v1", "https://openrouter.ai/api/v1"],
    ids=["a name that does not resolve now", "not a URL", "broken IPv6 literal", "a public name"],
)
def test_what_the_edge_cannot_judge_is_left_to_connect_time(settings, url):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    assert outbound_url_refusal(url) is None
