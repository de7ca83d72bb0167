"""How large a request body each endpoint takes: the one table, and its 413 answer.

An endpoint not listed takes REQUEST_BODY_LIMIT_DEFAULT (JSON and small forms); the ones
listed take files, or a whole card or conversation as text. GET and HEAD take no body.
Two layers refuse a body before it is read: the web server caps every body at
MAX_REQUEST_BODY_BYTES (tavern/http_server.py), and an ASGI middleware applies this
table in front of Django (tavern/request_body_limit.py). Limits are read from settings
on every request, so an override in a test or a changed environment applies at once.

Nothing here needs Django set up at import time: the web server imports this module
before it loads the application.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core import checks
from django.urls import Resolver404, resolve

from tavern.api.error_shape import error_body

TOO_LARGE = "too_large"
BODILESS_METHODS = frozenset({"GET", "HEAD"})
# Around an uploaded file: multipart boundaries, part headers and the form's small fields.
FORM_ENVELOPE_BYTES = 64 * 1024


def _card_file() -> int:
    return settings.CARD_MAX_BYTES + FORM_ENVELOPE_BYTES


def _card_files() -> int:
    # The import page takes several cards in one form: as much as the server takes.
    return settings.MAX_REQUEST_BODY_BYTES


def _chat_file() -> int:
    return settings.CHAT_IMPORT_MAX_BYTES + FORM_ENVELOPE_BYTES


def _preset_file() -> int:
    return settings.PRESET_MAX_BYTES + FORM_ENVELOPE_BYTES


def _avatar_form() -> int:
    return settings.AVATAR_MAX_BYTES + settings.REQUEST_BODY_LIMIT_DEFAULT


def _long_text() -> int:
    # A card's text has no length limit of its own: as much as Django takes as non-file data.
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _long_text_and_avatar() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE + settings.AVATAR_MAX_BYTES


# A URL name ("namespace:name"), or a whole namespace, and the largest body it takes.
BODY_LIMITS: dict[str, Callable[[], int]] = {
    # one card or lorebook file (PNG, JSON or CHARX)
    "api:character_import": _card_file,
    "api:lorebook_import": _card_file,
    "characters:lorebook_import": _card_file,
    "characters:import": _card_files,
    # a SillyTavern chat (.jsonl) or preset (.json)
    "api:chat_import": _chat_file,
    "chats:import": _chat_file,
    "api:preset_import": _preset_file,
    "chats:presets": _preset_file,
    # an avatar in a small form
    "api:personas": _avatar_form,
    "api:persona": _avatar_form,
    "characters:persona_new": _avatar_form,
    "characters:persona": _avatar_form,
    "settings_profile": _avatar_form,
    # a whole card, lorebook or conversation as text (the card pages with an avatar)
    "api:characters": _long_text,
    "api:character": _long_text,
    "api:lorebooks": _long_text,
    "api:lorebook": _long_text,
    "api:lorebook_entries": _long_text,
    "api:lorebook_entry": _long_text,
    "characters:tokens": _long_text,
    "characters:lorebook": _long_text,
    "characters:lorebook_entry_new": _long_text,
    "characters:lorebook_entry": _long_text,
    "openai_compat:chat_completions": _long_text,
    "characters:create": _long_text_and_avatar,
    "characters:edit": _long_text_and_avatar,
    # the back office edits cards, messages and avatars
    "admin": _long_text_and_avatar,
}


def body_limit(*, method: str, path_info: str) -> int:
    """The largest body, in bytes, that `method` on `path_info` takes (0: none at all)."""
    if method in BODILESS_METHODS:
        return 0
    try:
        match = resolve(path_info)
    except Resolver404:
        return settings.REQUEST_BODY_LIMIT_DEFAULT
    for key in (match.view_name, *match.namespaces):
        if key in BODY_LIMITS:
            return BODY_LIMITS[key]()
    return settings.REQUEST_BODY_LIMIT_DEFAULT


def size_text(size: int) -> str:
    """A size as people read it in an error message: 1048576 -> "1 MiB"."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == round(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def too_large_content(message: str) -> bytes:
    """The 413 response's body, in the API's one error shape."""
    return json.dumps(error_body(TOO_LARGE, message)).encode()


def body_limits_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """A limit above the server's cap would never be reached: the server refuses first."""
    cap = settings.MAX_REQUEST_BODY_BYTES
    limits = {"REQUEST_BODY_LIMIT_DEFAULT": settings.REQUEST_BODY_LIMIT_DEFAULT}
    limits.update({name: allowance() for name, allowance in BODY_LIMITS.items()})
    over = sorted(name for name, limit in limits.items() if limit > cap)
    if not over:
        return []
    return [
        checks.Warning(
            f"MAX_REQUEST_BODY_BYTES ({cap}) is below the body limit of {', '.join(over)}: "
            "the web server refuses those bodies first.",
            hint="Raise MAX_REQUEST_BODY_BYTES, or lower the upload limits.",
            id="tavern.W001",
        )
    ]
