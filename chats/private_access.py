"""Staff access to users' private chats: never by browsing, only by an explicit
request with a reason, logged in the audit log and valid for one staff user, one
chat and `PRIVATE_CONTENT_ACCESS_MINUTES`.

This module owns that rule; every back-office page that shows message text asks
it, so the chat page, the message and swipe pages and any later tool agree.
Superusers are not exempt: they may grant themselves access, and it is logged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.models import AuditEntry, AuditKind, User
from accounts.selectors import audit_grant_active, audit_granted_ids
from accounts.services import audit_entry_create

from .models import Chat


def private_content_access_minutes() -> int:
    return max(1, settings.PRIVATE_CONTENT_ACCESS_MINUTES)


def private_content_access_grant(*, staff: User, chat: Chat, reason: str, reference: str) -> AuditEntry:
    """Log `staff`'s access to `chat`'s messages with its reason and reference, and
    grant it for the configured minutes."""
    if not staff.has_perm("chats.view_chat"):
        raise PermissionDenied("Only staff who may see chats may ask to read one.")
    return audit_entry_create(
        staff=staff,
        kind=AuditKind.CHAT_ACCESS,
        target=chat,
        subject=chat.owner,
        reason=reason,
        reference=reference,
        valid_for=timedelta(minutes=private_content_access_minutes()),
    )


def private_content_access_get(*, staff: User, chat_id: int) -> AuditEntry | None:
    """`staff`'s grant on this chat now, or None (one query)."""
    return audit_grant_active(staff=staff, kind=AuditKind.CHAT_ACCESS, target_type=Chat, object_id=chat_id)


def private_content_chat_ids(*, staff: User) -> QuerySet[Any]:
    """The chats `staff` may read now, as a subquery to filter messages and swipes by."""
    return audit_granted_ids(staff=staff, kind=AuditKind.CHAT_ACCESS, target_type=Chat)
