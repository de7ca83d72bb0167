"""API exceptions that authentication classes raise. Kept apart from tavern.api.errors,
which imports DRF's views: DRF loads the authentication classes while it loads its
views, so importing errors from an authenticator would be a cycle."""

from __future__ import annotations

from rest_framework import exceptions


class LockedOut(exceptions.Throttled):
    """Too many failed sign-ins (accounts/lockout.py): 429 with Retry-After."""

    default_code = "locked_out"

    def __init__(self, message: str, *, retry_after: int) -> None:
        exceptions.APIException.__init__(self, detail=message, code="locked_out")
        self.wait = retry_after  # DRF's handler sends it as Retry-After


class EmailUnverified(exceptions.PermissionDenied):
    default_code = "email_unverified"
    default_detail = "Verify your email address first: follow the link we sent when you signed up."
