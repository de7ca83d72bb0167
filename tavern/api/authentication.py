"""`Authorization: Bearer tvn_...`: personal API keys. Other bearer tokens fall
through to the JWT authenticator that follows in the settings."""

from __future__ import annotations

from django.conf import settings
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.selectors import api_key_authenticate


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request):  # type: ignore[no-untyped-def]
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme != self.keyword or not token.startswith(settings.API_KEY_PREFIX):
            return None
        user = api_key_authenticate(raw_key=token)
        if user is None:
            raise exceptions.AuthenticationFailed("This API key is not valid or has been revoked.")
        return (user, token)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
