"""Rows ⇄ card values: a Character row and the `CardData` it holds, a Lorebook row
and its `Lorebook` value. Field names are shared, so the mapping is mechanical."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from characters.cards import CardData, Position, Role, SelectiveLogic
from characters.cards import Lorebook as LorebookValue
from characters.cards import LorebookEntry as LorebookEntryValue

from .models import Character, Lorebook, LorebookEntry

# CardData fields stored in a column of the same name.
CARD_COLUMNS = tuple(
    f.name for f in dataclasses.fields(CardData) if f.name not in ("tags", "character_book", "extra")
)
ENTRY_COLUMNS = tuple(f.name for f in dataclasses.fields(LorebookEntryValue))
BOOK_COLUMNS = (
    "name",
    "description",
    "scan_depth",
    "token_budget",
    "recursive_scanning",
    "extensions",
    "extra",
)
_ENUMS = {"position": Position, "selective_logic": SelectiveLogic, "role": Role}


def entry_value(row: LorebookEntry) -> LorebookEntryValue:
    values: dict[str, Any] = {name: getattr(row, name) for name in ENTRY_COLUMNS}
    for name, enum in _ENUMS.items():
        values[name] = enum(values[name])
    return LorebookEntryValue(**values)


def entry_row_values(entry: LorebookEntryValue) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in ENTRY_COLUMNS}
    for name in _ENUMS:
        values[name] = str(values[name].value if hasattr(values[name], "value") else values[name])
    return values


def lorebook_value(book: Lorebook, entries: list[LorebookEntry] | None = None) -> LorebookValue:
    rows = entries if entries is not None else list(book.entries.all())
    return LorebookValue(
        **{name: getattr(book, name) for name in BOOK_COLUMNS},
        entries=[entry_value(row) for row in rows],
    )


def card_value(character: Character, *, tags: list[str] | None = None) -> CardData:
    """The card a character holds (its book included), ready to export."""
    book = None
    if character.book_id is not None:
        book = lorebook_value(character.book)  # type: ignore[arg-type]
    tag_names = (
        tags if tags is not None else [tag.name for tag in character.tags.order_by("charactertag__position")]
    )
    return CardData(
        **{name: getattr(character, name) for name in CARD_COLUMNS},
        tags=tag_names,
        character_book=book,
        extra=character.card_extra,
    )


def card_snapshot(card: CardData) -> dict[str, Any]:
    """A JSON-safe snapshot of the card (for versions); `card_from_snapshot` reverses it."""
    from characters.cards import card_to_v3_dict

    return card_to_v3_dict(card)


def card_from_snapshot(snapshot: dict[str, Any]) -> CardData:
    from characters.cards import card_from_json

    card, _spec = card_from_json(snapshot)
    return card


def card_content_hash(card: CardData) -> str:
    """Changes when anything that a version or an embedding depends on changes."""
    encoded = json.dumps(card_snapshot(card), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


def embedding_text(character: Character, tags: list[str]) -> str:
    """What "search by meaning" compares: who the character is, not how they talk."""
    parts = [
        character.name,
        ", ".join(tags),
        character.description[:4000],
        character.personality[:1000],
        character.scenario[:1000],
        character.creator_notes[:1000],
    ]
    return "\n".join(part for part in parts if part)
