"""`Authorization: Bearer tvn_...`: personal API keys. Other bearer tokens fall
through to the JWT authenticator that follows in the settings.

A wrong key counts against the client's address in the one lockout policy
(accounts/lockout.py), and a locked-out address gets no key checked."""

from __future__ import annotations

from django.conf import settings
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.lockout import SignInRefused, api_key_user
from tavern.api.exceptions import LockedOut
from tavern.client_ip import client_ip


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request):  # type: ignore[no-untyped-def]
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme != self.keyword or not token.startswith(settings.API_KEY_PREFIX):
            return None
        try:
            user = api_key_user(raw_key=token, client=client_ip(request))
        except SignInRefused as refused:
            raise LockedOut(refused.message, retry_after=refused.retry_after) from refused
        if user is None:
            raise exceptions.AuthenticationFailed("This API key is not valid or has been revoked.")
        return (user, token)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
