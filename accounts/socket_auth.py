"""WebSocket authentication: the session cookie (browsers), or a bearer token —
JWT or personal API key — in the `Authorization` header or `?token=` (clients
that cannot set headers)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from tavern.client_ip import client_ip_of_scope


def _bearer_token(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme == "Bearer" and token.strip():
                return token.strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    tokens = query.get("token")
    return tokens[0] if tokens else None


@database_sync_to_async
def _user_for_token(token: str, client: str):  # type: ignore[no-untyped-def]
    # Imported here: this module is loaded by the ASGI routing before the app registry is ready.
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

    from accounts.lockout import SignInRefused, api_key_user

    if token.startswith(settings.API_KEY_PREFIX):
        try:
            return api_key_user(raw_key=token, client=client) or AnonymousUser()
        except SignInRefused:
            return AnonymousUser()
    authenticator = JWTAuthentication()
    try:
        validated = authenticator.get_validated_token(token.encode())
        user = authenticator.get_user(validated)  # refuses inactive users and changed passwords
    except (InvalidToken, TokenError, AuthenticationFailed):
        return AnonymousUser()
    return user if user.is_active else AnonymousUser()


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        token = _bearer_token(scope)
        user = scope.get("user")
        if token and (user is None or not user.is_authenticated):
            scope = dict(scope, user=await _user_for_token(token, client_ip_of_scope(scope)))
        return await super().__call__(scope, receive, send)


def auth_middleware_stack(inner):  # type: ignore[no-untyped-def]
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


class BrowserOriginValidator:
    """Sockets from a browser must come from one of our hosts (the cookie would
    otherwise ride along from any site); clients without an Origin header are not
    browsers and authenticate with a token."""

    def __init__(self, inner):  # type: ignore[no-untyped-def]
        from channels.security.websocket import AllowedHostsOriginValidator

        self.inner = inner
        self.checked = AllowedHostsOriginValidator(inner)

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        has_origin = any(name == b"origin" for name, _ in scope.get("headers", []))
        app = self.checked if has_origin else self.inner
        return await app(scope, receive, send)
