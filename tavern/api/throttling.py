"""API rate limits: moving windows in Redis (tavern.ratelimits), by user or by the
client address we can trust (tavern.client_ip), failing open without Redis.

DRF's own throttles count a fixed window in the cache and key anonymous clients on
the raw X-Forwarded-For header; these replace them in REST_FRAMEWORK settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from tavern.client_ip import client_ip
from tavern.ratelimits import rate_limit_hit


class _MovingWindowThrottle(BaseThrottle):
    scope = ""

    def _key(self, request: Request) -> str | None:
        raise NotImplementedError

    def _rate(self, view: Any) -> str | None:
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(self.scope)

    def allow_request(self, request: Request, view: Any) -> bool:
        key, rate = self._key(request), self._rate(view)
        if key is None or not rate:
            return True
        decision = rate_limit_hit(scope=f"api-{self.scope}", key=key, rate=rate)
        self._wait = decision.retry_after
        return decision.allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class AnonThrottle(_MovingWindowThrottle):
    scope = "anon"

    def _key(self, request: Request) -> str | None:
        return None if request.user and request.user.is_authenticated else client_ip(request)


class UserThrottle(_MovingWindowThrottle):
    scope = "user"

    def _key(self, request: Request) -> str | None:
        return str(request.user.pk) if request.user and request.user.is_authenticated else None


class SignInThrottle(_MovingWindowThrottle):
    """Token and sign-in endpoints, by client address, whoever is asking."""

    scope = "auth"

    def _key(self, request: Request) -> str | None:
        return client_ip(request)
