from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone

from tavern.errors import DomainRuleError
from tavern.realtime.push import user_sockets_close

from .models import (
    AUDIT_REASON_MAX_CHARS,
    AUDIT_REASON_MIN_CHARS,
    AUDIT_REFERENCE_MAX_CHARS,
    ApiKey,
    AuditEntry,
    AuditKind,
    User,
)
from .selectors import api_key_hash

logger = logging.getLogger(__name__)

MAX_ACTIVE_API_KEYS = 20
PROFILE_FIELDS = (
    "display_name",
    "bio",
    "locale",
    "content_filter",
    "birth_date",
    "show_nsfw",
    "avatar",
)


class AccountError(DomainRuleError):
    """A rule the caller broke; `field` names the input at fault."""


@dataclass(frozen=True)
class IssuedApiKey:
    key: ApiKey
    raw_key: str


@transaction.atomic
def api_key_create(*, user: User, name: str) -> IssuedApiKey:
    active = ApiKey.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
    if active.count() >= MAX_ACTIVE_API_KEYS:
        raise AccountError(
            f"You can have at most {MAX_ACTIVE_API_KEYS} active keys; revoke one first.", field="name"
        )
    raw_key = settings.API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        user=user, name=name.strip(), prefix=raw_key[:12], key_hash=api_key_hash(raw_key)
    )
    return IssuedApiKey(key=key, raw_key=raw_key)


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


@transaction.atomic
def user_profile_update(*, user: User, data: dict[str, Any]) -> User:
    changed = [field for field in PROFILE_FIELDS if field in data and getattr(user, field) != data[field]]
    for field in changed:
        setattr(user, field, data[field])
    if user.show_nsfw and not user.is_adult():
        raise AccountError(
            "Only adults can turn on NSFW content; set a birth date showing you are 18 or older.",
            field="show_nsfw",
        )
    if changed:
        user.full_clean(exclude=["password", "username", "email"])
        user.save(update_fields=changed)
    return user


@transaction.atomic
def user_credentials_revoke(*, user: User, api_keys: bool) -> None:
    """End what a signed-in device holds: every refresh token is blacklisted, every open
    socket closed (after the commit), and the API keys revoked when asked. Access tokens
    die with the password they were issued under (SIMPLE_JWT CHECK_REVOKE_TOKEN) or with
    the account's deactivation; sessions elsewhere end with the password change itself."""
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    if api_keys:
        ApiKey.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    user_sockets_close(user_id=user.pk)


@transaction.atomic
def user_password_changed(*, user: User, revoke_api_keys: bool) -> None:
    """After a password change or reset (the form says whether keys go too)."""
    user_credentials_revoke(user=user, api_keys=revoke_api_keys)


@transaction.atomic
def user_set_active(*, user: User, active: bool) -> User:
    """Ban (active=False) or unban. A banned user's sessions and JWTs stop working at once
    (every authenticator refuses inactive users), their sockets close, their refresh
    tokens and API keys are revoked: an unban does not bring those back."""
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        if not active:
            user_credentials_revoke(user=user, api_keys=True)
    return user


def audit_entry_create(
    *,
    staff: User,
    kind: AuditKind,
    target: models.Model,
    subject: User | None,
    reason: str,
    reference: str,
    valid_for: timedelta | None = None,
) -> AuditEntry:
    """Log a privileged access by `staff` to `target` (whose data: `subject`), and with
    `valid_for` grant it until then. The only way an entry is written."""
    if not (staff.is_active and staff.is_staff):
        raise PermissionDenied("Only active staff accounts act in the back office.")
    reason = reason.strip()
    reference = reference.strip()
    if len(reason) < AUDIT_REASON_MIN_CHARS:
        raise AccountError(
            f"Give a reason of at least {AUDIT_REASON_MIN_CHARS} characters; it is kept in the audit log.",
            field="reason",
        )
    if len(reason) > AUDIT_REASON_MAX_CHARS:
        raise AccountError(f"Keep the reason under {AUDIT_REASON_MAX_CHARS} characters.", field="reason")
    if not reference:
        raise AccountError("Give the report id or the legal request number.", field="reference")
    if len(reference) > AUDIT_REFERENCE_MAX_CHARS:
        raise AccountError(
            f"Keep the reference under {AUDIT_REFERENCE_MAX_CHARS} characters.", field="reference"
        )
    now = timezone.now()
    entry = AuditEntry.objects.create(
        staff=staff,
        kind=kind,
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        object_repr=str(target)[:200],
        subject=subject,
        reason=reason,
        reference=reference,
        created_at=now,
        expires_at=now + valid_for if valid_for else None,
    )
    # Also in the application log, for whoever ships logs to a SIEM.
    logger.info(
        "audit %s: staff %s, %s %s, subject %s, reference %r",
        kind,
        staff.pk,
        entry.content_type.model,
        target.pk,
        subject.pk if subject else None,
        reference,
        extra={"audit_entry": entry.pk},
    )
    return entry
