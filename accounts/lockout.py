"""One lockout policy for every way in: the sign-in form, the admin, JWTs and API keys.

* An account is locked for `LOGIN_LOCKOUT_MINUTES` after `LOGIN_FAILURES_PER_ACCOUNT`
  failed sign-ins, whoever made them: django-axes keeps the count in the database
  (kept through a Redis outage, listed in the back office). The account is the
  same whether the attempts name it by username or by email.
* A client address is locked after `LOGIN_FAILURES_PER_IP` failed sign-ins or API
  keys, in a moving window (tavern.ratelimits): guessing across many accounts from
  one place stops too. The address is `client_ip`, which believes X-Forwarded-For
  only from TRUSTED_PROXIES.

Every entry point asks `login_lockout` before it checks credentials and reports a
failure through `user_login_failed` (passwords: Django sends it) or
`credential_failure` (API keys). `authenticate()` itself refuses locked-out
attempts through the backends below, so a path that forgets to ask is still shut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accounts.models import User
from accounts.selectors import api_key_authenticate
from tavern.client_ip import client_ip
from tavern.errors import DomainRuleError
from tavern.ratelimits import rate_limit_exceeded, rate_limit_hit

_IP_SCOPE = "credential-failures"


@dataclass(frozen=True)
class Lockout:
    message: str
    retry_after: int  # seconds


def account_identifier(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The account a sign-in names, however it names it (AXES_USERNAME_CALLABLE)."""
    credentials = credentials or {}
    given = str(credentials.get("username") or credentials.get("email") or credentials.get("login") or "")
    given = given.strip().lower()
    if not given:
        return ""
    username = (
        User.objects.filter(Q(username__iexact=given) | Q(email__iexact=given))
        .values_list("username", flat=True)
        .first()
    )
    return (username or given).lower()


def _ip_rate() -> str:
    return settings.LOGIN_FAILURES_PER_IP


def address_lockout(client: str) -> Lockout | None:
    """Why nothing from this client address is checked now, or None."""
    ip = rate_limit_exceeded(scope=_IP_SCOPE, key=client, rate=_ip_rate())
    if ip.allowed:
        return None
    minutes = math.ceil(ip.retry_after / 60)
    return Lockout(
        f"Too many failed sign-ins from your network. Try again in {minutes} minute"
        f"{'s' if minutes != 1 else ''}.",
        ip.retry_after,
    )


def login_lockout(request: HttpRequest, credentials: dict[str, Any] | None = None) -> Lockout | None:
    """Why this attempt may not even be checked, or None."""
    locked = address_lockout(client_ip(request))
    if locked is not None:
        return locked
    if credentials is not None and AxesProxyHandler.is_locked(request, credentials):
        cool_off = get_cool_off(request)
        seconds = int(cool_off.total_seconds()) if cool_off else 3600
        minutes = math.ceil(seconds / 60)
        return Lockout(
            f"This account is locked after too many failed sign-ins. Try again in {minutes} minutes, "
            "or reset the password.",
            seconds,
        )
    return None


def credential_failure(client: str) -> None:
    """A wrong API key (or anything else that is not a password) from this client address."""
    rate_limit_hit(scope=_IP_SCOPE, key=client, rate=_ip_rate())


class SignInRefused(DomainRuleError):
    default_code = "locked_out"
    default_status = 429

    def __init__(self, lockout: Lockout) -> None:
        super().__init__(lockout.message)
        self.retry_after = lockout.retry_after


def api_key_user(*, raw_key: str, client: str) -> User | None:
    """The user of an API key, for every way keys come in (API, /v1, sockets): None for
    a wrong key, which counts against the client; SignInRefused while it is locked out."""
    locked = address_lockout(client)
    if locked is not None:
        raise SignInRefused(locked)
    user = api_key_authenticate(raw_key=raw_key)
    if user is None:
        credential_failure(client)
    return user


@receiver(user_login_failed, dispatch_uid="accounts.lockout.count_by_address")
def _count_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is not None:
        credential_failure(client_ip(request))


class AddressLockoutBackend:
    """First of AUTHENTICATION_BACKENDS: a locked-out client address checks no password.
    (The account lockout is django-axes' backend, next in the list.)"""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        if request is not None and login_lockout(request) is not None:
            raise PermissionDenied("too many failed sign-ins from this address")

    # No get_user(): sessions name the backend that signed the user in, never this one.


def lockout_response(
    request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """What django-axes answers a locked-out request with (AXES_LOCKOUT_CALLABLE)."""
    lockout = login_lockout(request, credentials) or Lockout(
        "Too many failed sign-ins. Try again later.", 15 * 60
    )
    if request.path.startswith(("/api/", "/v1/")):
        response: HttpResponse = JsonResponse(
            {"error": {"code": "locked_out", "message": lockout.message}}, status=429
        )
    else:
        response = render(request, "accounts/locked_out.html", {"message": lockout.message}, status=429)
    response["Retry-After"] = str(lockout.retry_after)
    return response
