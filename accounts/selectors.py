from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from .models import ApiKey, AuditEntry, AuditKind, User

# last_used_at is bookkeeping: write it at most this often per key.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def user_email_verified(*, user: User) -> bool:
    """Whether the user may sign in where email verification is mandatory: every way in
    (form, JWT, API key, socket) applies the same rule."""
    from allauth.account.models import EmailAddress  # allauth's models load after the app registry

    if settings.ACCOUNT_EMAIL_VERIFICATION != "mandatory":
        return True
    return EmailAddress.objects.filter(user=user, verified=True).exists()


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_authenticate(*, raw_key: str) -> User | None:
    """The active user owning this active key, or None."""
    try:
        key = ApiKey.objects.select_related("user").get(
            key_hash=api_key_hash(raw_key), revoked_at__isnull=True
        )
    except ApiKey.DoesNotExist:
        return None
    if not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.user


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).order_by("-created_at", "-id")


def api_key_get_for_user(*, key_id: int, user: User) -> ApiKey:
    try:
        return ApiKey.objects.get(pk=key_id, user=user)
    except ApiKey.DoesNotExist:
        raise Http404 from None


def _active_grants(*, staff: User, kind: AuditKind, target_type: type[models.Model]) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(
        staff=staff,
        kind=kind,
        content_type=ContentType.objects.get_for_model(target_type),
        expires_at__gt=timezone.now(),
    )


def audit_grant_active(
    *, staff: User, kind: AuditKind, target_type: type[models.Model], object_id: int
) -> AuditEntry | None:
    """The grant (the latest to expire) that `staff` holds now on one object, or None.
    Grants are personal: another staff user's grant is not one."""
    return (
        _active_grants(staff=staff, kind=kind, target_type=target_type)
        .filter(object_id=object_id)
        .order_by("-expires_at")
        .first()
    )


def audit_granted_ids(*, staff: User, kind: AuditKind, target_type: type[models.Model]) -> QuerySet[Any]:
    """The ids of the objects `staff` holds a grant on now, as a subquery (no query of its own)."""
    return _active_grants(staff=staff, kind=kind, target_type=target_type).values("object_id")
