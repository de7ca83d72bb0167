"""The request a view sees once it has let only signed-in users in (DRF's default
IsAuthenticated permission, `login_required` on pages): its user is a `User`, never
anonymous. Types only: at run time these are DRF's Request and Django's HttpRequest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from accounts.models import User

    class AuthenticatedRequest(Request):
        @property
        def user(self) -> User: ...

        @user.setter
        def user(self, value: User) -> None: ...

    class AuthenticatedHttpRequest(HttpRequest):
        user: User

else:
    AuthenticatedRequest = Request
    AuthenticatedHttpRequest = HttpRequest
