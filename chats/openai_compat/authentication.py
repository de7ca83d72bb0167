"""`Authorization: Bearer tvn_...`: a personal API key is the only way in.

No session, no JWT: a browser's cookies must not be able to spend a user's
quota through this API (which is also why its views are CSRF-exempt).
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest

from accounts.lockout import SignInRefused, api_key_user
from accounts.models import User
from tavern.client_ip import client_ip

from .errors import AUTHENTICATION, RATE_LIMIT, OpenAIError


async def request_user(request: HttpRequest) -> User:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise OpenAIError(
            401,
            "You didn't provide an API key. Send your Tavern API key as `Authorization: Bearer tvn_...`; "
            "create one in your account settings.",
            type=AUTHENTICATION,
            code="missing_api_key",
        )
    user = None
    if token.startswith(settings.API_KEY_PREFIX):
        try:
            user = await sync_to_async(api_key_user)(raw_key=token, client=client_ip(request))
        except SignInRefused as refused:
            raise OpenAIError(
                429,
                refused.message,
                type=RATE_LIMIT,
                code="locked_out",
                headers={"Retry-After": str(refused.retry_after), "x-should-retry": "false"},
            ) from refused
    if user is None:
        raise OpenAIError(
            401,
            f"Incorrect API key provided: {_masked(token)}. Use a Tavern API key (tvn_...) that has not "
            "been revoked.",
            type=AUTHENTICATION,
            code="invalid_api_key",
        )
    return user


def _masked(token: str) -> str:
    return f"{token[:6]}...{token[-4:]}" if len(token) > 12 else "***"
