"""Secrets at rest (provider API keys): Fernet, keys from the environment.

`FIELD_ENCRYPTION_KEYS` holds comma-separated Fernet keys: the first encrypts,
all decrypt, so a key is rotated by putting a new one first and re-encrypting
(`manage.py rotate_field_keys`). Development generates one key into var/.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    pass


@cache
def _fernet() -> MultiFernet:
    keys = [key.strip() for key in settings.FIELD_ENCRYPTION_KEYS if key.strip()]
    if not keys:
        raise RuntimeError("FIELD_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def secret_encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def secret_decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise DecryptionError("a stored secret cannot be decrypted with the configured keys") from error


def secret_rotate(token: str) -> str:
    """Re-encrypt with the first (newest) key."""
    return _fernet().rotate(token.encode()).decode() if token else ""


def secret_hint(plain: str) -> str:
    """What a page may show of a key: its last four characters."""
    return f"…{plain[-4:]}" if len(plain) >= 8 else "set" if plain else ""
