"""Keys refused before they are stored: a `/regex/` key that could freeze a scan.

Every path that writes lorebook entries (a world file, a card's character_book, the
editor, the API) checks them here, so a pathological regex never reaches a chat;
the scan's own time limits (regex_limits) protect against what a check cannot see.
"""

from __future__ import annotations

from collections.abc import Iterable

from characters.cards.lorebook.js_regex import js_regex_compile
from characters.cards.lorebook.regex_limits import regex_pathology


def key_refusal(key: str) -> str:
    """Why `key` may not be stored, or "" when it may."""
    compiled = js_regex_compile(key.strip())
    if compiled is None or compiled.pattern is None:
        return ""  # plain text, or a regex that does not compile (it never matches)
    reason = regex_pathology(compiled.source, compiled.flags)
    return f"the regex {key.strip()} is refused: {reason}" if reason else ""


def keys_refusal(keys: Iterable[str]) -> str:
    """The first refusal among `keys`, or ""."""
    for key in keys:
        if isinstance(key, str) and (reason := key_refusal(key)):
            return reason
    return ""
