"""SillyTavern world files: ``{"entries": {"<uid>": {"key": [...], "keysecondary": [...], ...}}}``.

Older files hold only some fields per entry (the bundled Eldoria has nine);
missing ones get the defaults of SillyTavern's new-entry template. Fields a
world file has no place for (a card entry's name, priority, use_regex) ride in
the entry's ``extensions``, where SillyTavern itself keeps a card entry's
extensions.
"""

from typing import Any

from characters.cards.errors import CardError
from characters.cards.field_readers import JsonObject, read_bool, read_object, read_optional_bool
from characters.cards.lorebook.book import POSITION_NUMBERS, Lorebook, LorebookEntry, Position
from characters.cards.lorebook.field_map import (
    BOOK_EXTENSION_KEYS,
    BOOK_ONLY_FIELDS,
    BOOK_TOP_KEYS,
    ENTRY_FIELDS,
    LOREBOOK_KEYS,
    WORLD_KEYS,
    lorebook_header_json,
    read_lorebook_header,
    read_position,
    read_uid,
)


def entry_from_world(raw: object, path: str, *, fallback_uid: int | str | None = None) -> LorebookEntry:
    if not isinstance(raw, dict):
        raise CardError(f"{path}: expected an object")
    stored_extensions = read_object(raw.get("extensions"), f"{path}.extensions")
    values: dict[str, Any] = {}
    for spec in ENTRY_FIELDS:
        if spec.world is None:
            value, field_path = stored_extensions.get(spec.book_key), f"{path}.extensions.{spec.book_key}"
        else:
            value, field_path = raw.get(spec.world), f"{path}.{spec.world}"
        values[spec.attr] = spec.read(value, field_path, spec.default_for(book=False))
    uid = read_uid(raw.get("uid"), f"{path}.uid")
    # SillyTavern copies a card entry's extensions into the world entry; the
    # fields in that copy are the world entry's own, so only unknown ones are kept.
    extra = {
        key: value
        for key, value in stored_extensions.items()
        if key not in BOOK_EXTENSION_KEYS and key not in BOOK_TOP_KEYS and key not in WORLD_KEYS
    }
    extra.update({key: value for key, value in raw.items() if key not in WORLD_KEYS})
    return LorebookEntry(
        uid=fallback_uid if uid is None else uid,
        disabled=read_bool(raw.get("disable"), f"{path}.disable", False),
        position=read_position(raw.get("position"), f"{path}.position", Position.BEFORE_CHAR),
        case_sensitive=read_optional_bool(raw.get("caseSensitive"), f"{path}.caseSensitive"),
        extra=extra,
        **values,
    )


def entry_to_world(entry: LorebookEntry, uid: int | str) -> JsonObject:
    world: JsonObject = dict(entry.extra)
    world["uid"] = uid
    for spec in ENTRY_FIELDS:
        if spec.world is not None:
            world[spec.world] = spec.dump(getattr(entry, spec.attr))
    world["disable"] = entry.disabled
    world["position"] = POSITION_NUMBERS[entry.position]
    world["caseSensitive"] = entry.case_sensitive
    if entry.display_index is None:
        del world["displayIndex"]
    book_only = {
        spec.book_key: spec.dump(getattr(entry, spec.attr))
        for spec in BOOK_ONLY_FIELDS
        if getattr(entry, spec.attr) != spec.default_for(book=False)
    }
    if book_only:
        world["extensions"] = book_only
    return world


def world_from_sillytavern(world: object) -> Lorebook:
    """Read a SillyTavern world file (already decoded from JSON)."""
    if not isinstance(world, dict):
        raise CardError("world: expected an object with 'entries'")
    raw_entries = world.get("entries")
    if isinstance(raw_entries, dict):
        items = list(raw_entries.items())
    elif isinstance(raw_entries, list):
        items = [(str(index), item) for index, item in enumerate(raw_entries)]
    else:
        raise CardError("entries: expected an object of entries keyed by uid")
    entries = [
        entry_from_world(raw, f"entries.{key}", fallback_uid=read_uid(key, f"entries.{key}"))
        for key, raw in items
    ]
    # originalData is SillyTavern's cached copy of the card book a world came from.
    extra = {
        key: value for key, value in world.items() if key not in ("entries", "originalData", *LOREBOOK_KEYS)
    }
    return Lorebook(entries=entries, extra=extra, **read_lorebook_header(world, ""))


def _unique_uids(entries: list[LorebookEntry]) -> list[int | str]:
    """Each entry's uid, with the next free number for a missing or repeated one."""
    taken = {str(entry.uid) for entry in entries if entry.uid is not None}
    seen: set[str] = set()
    next_free = 0
    uids: list[int | str] = []
    for entry in entries:
        if entry.uid is not None and str(entry.uid) not in seen:
            uid: int | str = entry.uid
        else:
            while str(next_free) in taken or str(next_free) in seen:
                next_free += 1
            uid = next_free
        seen.add(str(uid))
        uids.append(uid)
    return uids


def world_to_sillytavern(book: Lorebook) -> JsonObject:
    """Write a SillyTavern world file; entries without a unique uid get the next free one."""
    world: JsonObject = dict(book.extra)
    world["entries"] = {
        str(uid): entry_to_world(entry, uid)
        for entry, uid in zip(book.entries, _unique_uids(book.entries), strict=True)
    }
    world.update(lorebook_header_json(book, always_extensions=False))
    return world
