"""The Character Card V2/V3 ``character_book``: spec fields on each entry, SillyTavern's in
``entry.extensions`` (snake_case, as SillyTavern's card export writes them)."""

from typing import Any

from characters.cards.errors import CardError
from characters.cards.field_readers import JsonObject, read_bool, read_object, read_optional_bool
from characters.cards.lorebook.book import POSITION_NUMBERS, Lorebook, LorebookEntry, Position
from characters.cards.lorebook.field_map import (
    BOOK_EXTENSION_KEYS,
    BOOK_TOP_KEYS,
    ENTRY_FIELDS,
    LOREBOOK_KEYS,
    is_unset,
    lorebook_header_json,
    read_lorebook_header,
    read_position,
    read_uid,
)

_OPTIONAL_TOP_FIELDS = ("name", "priority")  # absent from the entry when unset


def _position(raw: JsonObject, extensions: JsonObject, path: str) -> Position:
    if extensions.get("position") is not None:
        return read_position(extensions["position"], f"{path}.extensions.position", Position.BEFORE_CHAR)
    value = raw.get("position")
    if isinstance(value, str) and value not in POSITION_NUMBERS:
        return Position.AFTER_CHAR  # SillyTavern reads anything but "before_char" as after
    # A missing position is "after" in SillyTavern's card import too.
    return read_position(value, f"{path}.position", Position.AFTER_CHAR)


def entry_from_book(raw: object, path: str) -> LorebookEntry:
    if not isinstance(raw, dict):
        raise CardError(f"{path}: expected an object")
    extensions = read_object(raw.get("extensions"), f"{path}.extensions")
    values: dict[str, Any] = {}
    for spec in ENTRY_FIELDS:
        key = spec.book_key
        if spec.book_top:
            value, field_path = raw.get(key), f"{path}.{key}"
        elif extensions.get(key) is None and raw.get(key) is not None:
            # Some tools flatten SillyTavern's extension fields onto the entry.
            value, field_path = raw[key], f"{path}.{key}"
        else:
            value, field_path = extensions.get(key), f"{path}.extensions.{key}"
        values[spec.attr] = spec.read(value, field_path, spec.default_for(book=True))
    case_sensitive = read_optional_bool(extensions.get("case_sensitive"), f"{path}.extensions.case_sensitive")
    if case_sensitive is None:
        case_sensitive = read_optional_bool(raw.get("case_sensitive"), f"{path}.case_sensitive")
    extra = {key: value for key, value in extensions.items() if key not in BOOK_EXTENSION_KEYS}
    extra.update(
        {
            key: value
            for key, value in raw.items()
            if key not in BOOK_TOP_KEYS and key not in BOOK_EXTENSION_KEYS
        }
    )
    return LorebookEntry(
        uid=read_uid(raw.get("id"), f"{path}.id"),
        # The spec requires "enabled"; a card without it is read as enabled.
        disabled=not read_bool(raw.get("enabled"), f"{path}.enabled", True),
        position=_position(raw, extensions, path),
        case_sensitive=case_sensitive,
        extra=extra,
        **values,
    )


def entry_to_book(entry: LorebookEntry) -> JsonObject:
    extensions: JsonObject = dict(entry.extra)
    book: JsonObject = {}
    if entry.uid is not None:
        book["id"] = entry.uid
    for spec in ENTRY_FIELDS:
        value = spec.dump(getattr(entry, spec.attr))
        if not spec.book_top:
            extensions[spec.book_key] = value
        elif spec.attr not in _OPTIONAL_TOP_FIELDS or not is_unset(value):
            book[spec.book_key] = value
    book["enabled"] = not entry.disabled
    book["position"] = "before_char" if entry.position == Position.BEFORE_CHAR else "after_char"
    extensions["position"] = POSITION_NUMBERS[entry.position]
    extensions["case_sensitive"] = entry.case_sensitive
    if entry.case_sensitive is not None:
        book["case_sensitive"] = entry.case_sensitive
    if entry.display_index is None:
        del extensions["display_index"]
    book["extensions"] = extensions
    return book


def lorebook_from_book(raw: object, path: str = "character_book") -> Lorebook:
    """Read a V2/V3 ``character_book`` object."""
    if not isinstance(raw, dict):
        raise CardError(f"{path}: expected an object")
    raw_entries = raw.get("entries")
    if raw_entries is None:
        raw_entries = []
    if not isinstance(raw_entries, list):
        raise CardError(f"{path}.entries: expected an array")
    entries = [entry_from_book(item, f"{path}.entries[{index}]") for index, item in enumerate(raw_entries)]
    extra = {key: value for key, value in raw.items() if key not in ("entries", *LOREBOOK_KEYS)}
    return Lorebook(entries=entries, extra=extra, **read_lorebook_header(raw, path))


def lorebook_to_book(book: Lorebook) -> JsonObject:
    """Write a V2/V3 ``character_book`` object (spec fields plus SillyTavern extensions)."""
    result: JsonObject = dict(book.extra)
    result.update(lorebook_header_json(book, always_extensions=True))
    result["entries"] = [entry_to_book(entry) for entry in book.entries]
    return result
