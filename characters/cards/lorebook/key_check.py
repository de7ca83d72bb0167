"""Keys refused before they are stored: a `/regex/` key that could freeze a scan.

Every path that writes lorebook entries (a world file, a card's character_book, the
editor, the API) checks them here, so a pathological regex never reaches a chat;
the scan's own time limits (regex_limits) protect against what a check cannot see.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from characters.cards.lorebook.js_regex import js_regex_compile
from characters.cards.lorebook.regex_limits import regex_pathology

# Probing a key (regex_limits) costs up to a second or two for a slow-but-legal one; the
# keys of one import or edit are probed for at most this long in all. Past it, keys get the
# static check only: the scan's own time limits still hold for them.
PROBE_SECONDS = 10.0


def probe_deadline() -> float:
    """When the probing of one import or edit stops (pass it to every `keys_refusal`)."""
    return time.monotonic() + PROBE_SECONDS


def key_refusal(key: str, *, probe: bool = True) -> str:
    """Why `key` may not be stored, or "" when it may."""
    compiled = js_regex_compile(key.strip())
    if compiled is None or compiled.pattern is None:
        return ""  # plain text, or a regex that does not compile (it never matches)
    reason = regex_pathology(compiled.source, compiled.flags, probe=probe)
    return f"the regex {key.strip()} is refused: {reason}" if reason else ""


def keys_refusal(keys: Iterable[str], *, deadline: float | None = None) -> str:
    """The first refusal among `keys`, or "" (probing only until `deadline`)."""
    deadline = probe_deadline() if deadline is None else deadline
    for key in keys:
        if isinstance(key, str) and (reason := key_refusal(key, probe=time.monotonic() < deadline)):
            return reason
    return ""
