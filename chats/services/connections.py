"""Writes for model connections: the API key is stored encrypted, never returned."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.models import User
from tavern.crypto import secret_encrypt, secret_hint

from ..models import ModelConnection


def connection_save(
    *,
    owner: User | None,
    connection: ModelConnection | None,
    data: dict[str, Any],
    api_key: str | None = None,
) -> ModelConnection:
    """Create or update; `api_key=None` keeps the stored key, "" removes it."""
    connection = connection or ModelConnection(owner=owner, is_shared=owner is None)
    for name in (
        "name",
        "base_url",
        "model",
        "extra_headers",
        "context_size",
        "max_reply_tokens",
        "allowed_tiers",
    ):
        if name in data:
            setattr(connection, name, data[name])
    if api_key is not None:
        connection.api_key_encrypted = secret_encrypt(api_key)
        connection.api_key_hint = secret_hint(api_key)
    connection.full_clean()
    connection.save()
    return connection


def connection_record_test(*, connection: ModelConnection, ok: bool, message: str) -> ModelConnection:
    connection.last_tested_at = timezone.now()
    connection.last_test_ok = ok
    connection.last_test_message = message[:300]
    connection.save(update_fields=["last_tested_at", "last_test_ok", "last_test_message"])
    return connection
