"""How big a card or a lorebook may be, whatever way it comes in.

The API's serializers, the pages' forms, card and world-file imports (API, pages, the
background job and the operator's `import_sillytavern` command) all end in the
services, and the services check what they store against this one table. So an import
can never store what the editor would refuse, and nothing reaches the database that a
column cannot hold (a 300-character group name used to be a 500, not a 400).

Each check returns why a value is refused ("" when it is not), and the service raises
it as a CharacterError naming the input at fault: the field in the editor, the
uploaded `file` for an import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from characters.cards import CardData
from characters.cards import Lorebook as LorebookValue

# PostgreSQL `integer` columns (entry order, depth, probability, ...).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

# ---------------------------------------------------------------- cards

CARD_NAME_MAX_CHARS = 200
CARD_TEXT_MAX_CHARS = 200_000  # each long card text, each greeting
CARD_GREETINGS_MAX = 100  # alternate greetings, and group-only greetings
MAX_TAGS = 30
_CARD_SHORT_TEXTS = {"nickname": 200, "creator": 200, "character_version": 100}  # the columns' sizes
_CARD_LONG_TEXTS = (
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "system_prompt",
    "post_history_instructions",
    "creator_notes",
)
_CARD_LABELS = {
    "first_mes": "first message",
    "mes_example": "example dialogue",
    "system_prompt": "system prompt",
    "post_history_instructions": "post-history instructions",
    "creator_notes": "creator's notes",
    "creator_notes_multilingual": "creator's notes",
    "character_version": "character version",
    "alternate_greetings": "alternate greetings",
    "group_only_greetings": "group-only greetings",
}

# ---------------------------------------------------------------- lorebooks

LOREBOOK_NAME_MAX_CHARS = 200
LOREBOOK_TEXT_MAX_CHARS = 100_000  # an entry's content, a book's description
ENTRY_COMMENT_MAX_CHARS = 2_000
ENTRY_KEYS_MAX = 200  # keys, and secondary keys
ENTRY_KEY_MAX_CHARS = 1_000
ENTRY_TRIGGERS_MAX = 20
_ENTRY_SHORT_TEXTS = ("name", "outlet_name", "group", "automation_id")  # 200-character columns
ENTRY_SHORT_TEXT_MAX_CHARS = 200
_ENTRY_INTEGERS = (
    "order",
    "probability",
    "depth",
    "group_weight",
    "scan_depth",
    "sticky",
    "cooldown",
    "delay",
    "display_index",
    "priority",
)
_ENTRY_LABELS = {
    "secondary_keys": "secondary keys",
    "outlet_name": "outlet name",
    "automation_id": "automation id",
    "group_weight": "group weight",
    "scan_depth": "scan depth",
    "display_index": "display index",
}


def lorebook_max_entries() -> int:
    """Entries in one book (setting LOREBOOK_MAX_ENTRIES)."""
    return int(settings.LOREBOOK_MAX_ENTRIES)


def _too_long(label: str, limit: int) -> str:
    return f"the {label} is longer than {limit:,} characters"


def _capitalised(reason: str) -> str:
    return reason[:1].upper() + reason[1:] + "."


# ---------------------------------------------------------------- card checks


def card_refusal(card: CardData) -> tuple[str, str]:
    """(field, message) for the first card field over its limit, or ("", "")."""
    if not card.name.strip():
        return "name", "A character needs a name."
    if len(card.name) > CARD_NAME_MAX_CHARS:
        return "name", f"The name is longer than {CARD_NAME_MAX_CHARS} characters."
    for name, limit in _CARD_SHORT_TEXTS.items():
        if len(getattr(card, name)) > limit:
            return name, _capitalised(_too_long(_CARD_LABELS.get(name, name), limit))
    for name in _CARD_LONG_TEXTS:
        if len(getattr(card, name)) > CARD_TEXT_MAX_CHARS:
            return name, _capitalised(_too_long(_CARD_LABELS.get(name, name), CARD_TEXT_MAX_CHARS))
    for name in ("alternate_greetings", "group_only_greetings"):
        greetings: list[str] = getattr(card, name)
        label = _CARD_LABELS[name]
        if len(greetings) > CARD_GREETINGS_MAX:
            return name, f"A card can have at most {CARD_GREETINGS_MAX} {label}."
        for number, text in enumerate(greetings, start=1):
            if len(text) > CARD_TEXT_MAX_CHARS:
                return name, _capitalised(
                    f"{label} {number} is longer than {CARD_TEXT_MAX_CHARS:,} characters"
                )
    for language, text in card.creator_notes_multilingual.items():
        if len(text) > CARD_TEXT_MAX_CHARS:
            return "creator_notes_multilingual", _capitalised(
                _too_long(f"creator's notes ({language[:20]})", CARD_TEXT_MAX_CHARS)
            )
    return "", ""


# ---------------------------------------------------------------- lorebook checks


def lorebook_refusal(value: LorebookValue) -> tuple[str, str]:
    """(field, message) when the book as a whole is refused (its size, its header)."""
    count, limit = len(value.entries), lorebook_max_entries()
    if count > limit:
        return "entries", f"The lorebook has {count:,} entries; the limit is {limit:,}."
    return lorebook_header_refusal(
        {name: getattr(value, name) for name in ("name", "description", "scan_depth", "token_budget")}
    )


def lorebook_header_refusal(values: Mapping[str, Any]) -> tuple[str, str]:
    """(field, message) for the first book field over its limit, or ("", "")."""
    if len(values.get("name") or "") > LOREBOOK_NAME_MAX_CHARS:
        return "name", _capitalised(_too_long("lorebook's name", LOREBOOK_NAME_MAX_CHARS))
    if len(values.get("description") or "") > LOREBOOK_TEXT_MAX_CHARS:
        return "description", _capitalised(_too_long("lorebook's description", LOREBOOK_TEXT_MAX_CHARS))
    for name in ("scan_depth", "token_budget"):
        number = values.get(name)
        if number is not None and not 0 <= number <= INT_MAX:
            return name, f"The lorebook's {name.replace('_', ' ')} must be between 0 and {INT_MAX:,}."
    return "", ""


def lorebook_entry_refusal(values: Mapping[str, Any]) -> tuple[str, str]:
    """(field, reason) for the first entry field over its limit, or ("", ""). `values` holds
    the entry's attributes (a card value's `vars()`, or the editor's cleaned data); the
    reason is a phrase, for the caller to place ("Lorebook entry 12: ...")."""
    if len(values.get("content") or "") > LOREBOOK_TEXT_MAX_CHARS:
        return "content", _too_long("content", LOREBOOK_TEXT_MAX_CHARS)
    if len(values.get("comment") or "") > ENTRY_COMMENT_MAX_CHARS:
        return "comment", _too_long("comment", ENTRY_COMMENT_MAX_CHARS)
    for name in ("keys", "secondary_keys"):
        keys = values.get(name) or []
        label = _ENTRY_LABELS.get(name, name)
        if len(keys) > ENTRY_KEYS_MAX:
            return name, f"it has more than {ENTRY_KEYS_MAX} {label}"
        if any(isinstance(key, str) and len(key) > ENTRY_KEY_MAX_CHARS for key in keys):
            return name, f"one of its {label} is longer than {ENTRY_KEY_MAX_CHARS:,} characters"
    if len(values.get("triggers") or []) > ENTRY_TRIGGERS_MAX:
        return "triggers", f"it has more than {ENTRY_TRIGGERS_MAX} triggers"
    for name in _ENTRY_SHORT_TEXTS:
        if len(values.get(name) or "") > ENTRY_SHORT_TEXT_MAX_CHARS:
            return name, _too_long(_ENTRY_LABELS.get(name, name), ENTRY_SHORT_TEXT_MAX_CHARS)
    for name in _ENTRY_INTEGERS:
        number = values.get(name)
        if isinstance(number, int) and not INT_MIN <= number <= INT_MAX:
            return name, f"the {_ENTRY_LABELS.get(name, name)} is out of range ({number})"
    return "", ""
