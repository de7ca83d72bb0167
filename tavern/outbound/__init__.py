"""Requests to URLs that users chose, kept off this server's own network.

A user types a model server's base URL; the server then connects to it. Left
alone, that lets anyone probe loopback services, the private network and the
cloud metadata endpoint (the instance's credentials) through our error
messages and timings. Two checks hold the line:

- at the edge, `validate_outbound_url` refuses a URL whose host is, or resolves
  to, an address the policy refuses, with a message that names the address;
- at connect time, `GuardedAsyncTransport` resolves the host itself, refuses
  any address the policy refuses and connects to the checked address, so a
  name whose DNS answer changed after it was saved (rebinding) gains nothing.

The policy comes from settings: OUTBOUND_ALLOW_PRIVATE_NETWORKS (local model
servers such as Ollama or llama.cpp on this machine or the LAN; follows DEBUG
when unset) and OUTBOUND_ALLOWED_HOSTS (names and networks always allowed).
"""

from tavern.outbound.addresses import AddressKind as AddressKind
from tavern.outbound.addresses import address_kind as address_kind
from tavern.outbound.policy import OutboundAddressRefused as OutboundAddressRefused
from tavern.outbound.policy import OutboundPolicy as OutboundPolicy
from tavern.outbound.policy import outbound_policy as outbound_policy
from tavern.outbound.policy import outbound_url_refusal as outbound_url_refusal
from tavern.outbound.policy import validate_outbound_url as validate_outbound_url
from tavern.outbound.transport import GuardedAsyncTransport as GuardedAsyncTransport
from tavern.outbound.transport import GuardedNetworkBackend as GuardedNetworkBackend
