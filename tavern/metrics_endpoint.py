"""`/metrics`: the Prometheus exposition (tavern/metrics.py), for the scraper only.

Off unless configured: with neither METRICS_TOKEN nor METRICS_ALLOWED_IPS set it
answers 404, in DEBUG too. Configured, a request is let in when it carries the token
(`Authorization: Bearer <token>`, compared in constant time) or comes from an allowed
network, the client's address read as everywhere else (tavern/client_ip.py, which
believes X-Forwarded-For only from TRUSTED_PROXIES); anyone else gets 403.
"""

from __future__ import annotations

import hmac
import ipaddress
from functools import cache

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tavern import metrics
from tavern.client_ip import IpNetwork, client_ip


@cache
def _networks(allowed: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    return tuple(
        ipaddress.ip_network(network.strip(), strict=False) for network in allowed if network.strip()
    )


def _token_given(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _address_allowed(request: HttpRequest, networks: tuple[IpNetwork, ...]) -> bool:
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in network for network in networks)


def metrics_allowed(request: HttpRequest) -> bool:
    """Raises Http404 when the endpoint is off; whether this caller may read it otherwise."""
    token: str = settings.METRICS_TOKEN
    networks = _networks(tuple(settings.METRICS_ALLOWED_IPS))
    if not token and not networks:
        raise Http404
    return bool(token and _token_given(request, token)) or bool(
        networks and _address_allowed(request, networks)
    )


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse("Forbidden.\n", status=403, content_type="text/plain")
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
