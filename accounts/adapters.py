from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.conf import settings
from django.http import HttpRequest

from accounts.lockout import login_lockout
from tavern.client_ip import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(getattr(settings, "ACCOUNT_ALLOW_SIGNUP", True))

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """The one lockout policy (accounts/lockout.py), said in the form's own words."""
        super().pre_authenticate(request, **credentials)
        lockout = login_lockout(request, credentials)
        if lockout is not None:
            raise forms.ValidationError(lockout.message, code="locked_out")

    def get_client_ip(self, request: HttpRequest) -> str:
        return client_ip(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin) -> bool:  # type: ignore[no-untyped-def]
        return bool(getattr(settings, "ACCOUNT_ALLOW_SIGNUP", True))
