"""Where each lorebook field lives in a SillyTavern world file and in a character_book.

One table row per entry attribute: its world key (camelCase, as SillyTavern
writes it), its character_book key (at the top of the entry for spec fields,
inside ``entry.extensions`` for SillyTavern's own), how to read a loose value,
and the default SillyTavern fills in when the field is missing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from characters.cards.errors import CardError
from characters.cards.field_readers import (
    JsonObject,
    read_bool,
    read_bool_or_int,
    read_int,
    read_object,
    read_optional_bool,
    read_optional_int,
    read_text,
    read_text_list,
)
from characters.cards.lorebook.book import (
    POSITION_NUMBERS,
    ROLE_NUMBERS,
    SELECTIVE_LOGIC_NUMBERS,
    Lorebook,
    Position,
    Role,
    SelectiveLogic,
)

_Enum = TypeVar("_Enum", Position, SelectiveLogic, Role)


def _enum_reader(numbers: dict[_Enum, int]) -> Callable[[object, str, _Enum], _Enum]:
    """Reads SillyTavern's number for a member; the member's name is accepted too."""
    by_number = {number: member for member, number in numbers.items()}
    by_name = {member.value: member for member in numbers}

    def read(value: object, path: str, default: _Enum) -> _Enum:
        if value is None:
            return default
        if isinstance(value, str) and value in by_name:
            return by_name[value]
        try:
            number = read_optional_int(value, path)
        except CardError:
            number = None
        if number in by_number:
            return by_number[number]
        choices = ", ".join(f"{number} ({member.value})" for member, number in numbers.items())
        raise CardError(f"{path}: expected one of {choices}, got {value!r}")

    return read


read_position = _enum_reader(POSITION_NUMBERS)


def read_uid(value: object, path: str, default: None = None) -> int | str | None:
    """An entry id: an integer (also from a numeric string), or any other string as is."""
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        return value
    return read_optional_int(value, path)


def _text(value: object, path: str, default: str) -> str:
    return read_text(value, path, default)


def _texts(value: object, path: str, default: object) -> list[str]:
    return read_text_list(value, path)


def _bool(value: object, path: str, default: bool) -> bool:
    return read_bool(value, path, default)


def _optional_bool(value: object, path: str, default: None) -> bool | None:
    return read_optional_bool(value, path)


def _int(value: object, path: str, default: int) -> int:
    return read_int(value, path, default)


def _optional_int(value: object, path: str, default: None) -> int | None:
    return read_optional_int(value, path)


def _as_json(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class EntryField:
    attr: str
    world: str | None  # None: a character_book-only field, kept in the world entry's extensions
    read: Callable[[Any, str, Any], Any]
    default: Any
    book: str = ""  # character_book key; the attribute name when empty
    book_top: bool = False  # at the top of a character_book entry, not in its extensions
    dump: Callable[[Any], Any] = _as_json
    book_default: Any = None  # SillyTavern's card import default, when it differs

    @property
    def book_key(self) -> str:
        return self.book or self.attr

    def default_for(self, *, book: bool) -> Any:
        if book and self.book_default is not None:
            return self.book_default
        return list(self.default) if isinstance(self.default, tuple) else self.default


ENTRY_FIELDS: tuple[EntryField, ...] = (
    EntryField("keys", "key", _texts, (), book_top=True),
    EntryField("secondary_keys", "keysecondary", _texts, (), book_top=True),
    EntryField("comment", "comment", _text, "", book_top=True),
    EntryField("content", "content", _text, "", book_top=True),
    EntryField("constant", "constant", _bool, False, book_top=True),
    EntryField("selective", "selective", _bool, True, book_top=True, book_default=False),
    EntryField("order", "order", _int, 100, book="insertion_order", book_top=True),
    EntryField("name", None, _text, "", book_top=True),
    EntryField("priority", None, _optional_int, None, book_top=True),
    EntryField("use_regex", None, _bool, False, book_top=True),
    EntryField("vectorized", "vectorized", _bool, False),
    EntryField(
        "selective_logic",
        "selectiveLogic",
        _enum_reader(SELECTIVE_LOGIC_NUMBERS),
        SelectiveLogic.AND_ANY,
        book="selectiveLogic",
        dump=SELECTIVE_LOGIC_NUMBERS.__getitem__,
    ),
    EntryField("exclude_recursion", "excludeRecursion", _bool, False),
    EntryField("prevent_recursion", "preventRecursion", _bool, False),
    EntryField("delay_until_recursion", "delayUntilRecursion", read_bool_or_int, False),
    EntryField("probability", "probability", _int, 100),
    EntryField("use_probability", "useProbability", _bool, True, book="useProbability"),
    EntryField("depth", "depth", _int, 4),
    EntryField("outlet_name", "outletName", _text, ""),
    EntryField("group", "group", _text, ""),
    EntryField("group_override", "groupOverride", _bool, False),
    EntryField("group_weight", "groupWeight", _int, 100),
    EntryField("scan_depth", "scanDepth", _optional_int, None),
    EntryField("match_whole_words", "matchWholeWords", _optional_bool, None),
    EntryField("use_group_scoring", "useGroupScoring", _optional_bool, None),
    EntryField("automation_id", "automationId", _text, ""),
    EntryField("role", "role", _enum_reader(ROLE_NUMBERS), Role.SYSTEM, dump=ROLE_NUMBERS.__getitem__),
    EntryField("sticky", "sticky", _optional_int, None),
    EntryField("cooldown", "cooldown", _optional_int, None),
    EntryField("delay", "delay", _optional_int, None),
    EntryField("display_index", "displayIndex", _optional_int, None),
    EntryField("match_persona_description", "matchPersonaDescription", _bool, False),
    EntryField("match_character_description", "matchCharacterDescription", _bool, False),
    EntryField("match_character_personality", "matchCharacterPersonality", _bool, False),
    EntryField("match_character_depth_prompt", "matchCharacterDepthPrompt", _bool, False),
    EntryField("match_scenario", "matchScenario", _bool, False),
    EntryField("match_creator_notes", "matchCreatorNotes", _bool, False),
    EntryField("ignore_budget", "ignoreBudget", _bool, False),
    EntryField("triggers", "triggers", _texts, ()),
)
BOOK_ONLY_FIELDS = tuple(spec for spec in ENTRY_FIELDS if spec.world is None)

# Keys each format handles outside the table (uid/id, disabled/enabled, position, case_sensitive).
WORLD_KEYS = frozenset(spec.world for spec in ENTRY_FIELDS if spec.world) | {
    "uid",
    "disable",
    "position",
    "caseSensitive",
    "extensions",
}
BOOK_TOP_KEYS = frozenset(spec.book_key for spec in ENTRY_FIELDS if spec.book_top) | {
    "id",
    "enabled",
    "position",
    "case_sensitive",
    "extensions",
}
BOOK_EXTENSION_KEYS = frozenset(spec.book_key for spec in ENTRY_FIELDS if not spec.book_top) | {
    "position",
    "case_sensitive",
}


def is_unset(value: object) -> bool:
    return value is None or value == ""


LOREBOOK_KEYS = ("name", "description", "scan_depth", "token_budget", "recursive_scanning", "extensions")


def read_lorebook_header(obj: JsonObject, path: str) -> dict[str, Any]:
    """Book-level fields, as keyword arguments for ``Lorebook``."""
    prefix = f"{path}." if path else ""
    return {
        "name": read_text(obj.get("name"), f"{prefix}name"),
        "description": read_text(obj.get("description"), f"{prefix}description"),
        "scan_depth": read_optional_int(obj.get("scan_depth"), f"{prefix}scan_depth"),
        "token_budget": read_optional_int(obj.get("token_budget"), f"{prefix}token_budget"),
        "recursive_scanning": read_optional_bool(
            obj.get("recursive_scanning"), f"{prefix}recursive_scanning"
        ),
        "extensions": read_object(obj.get("extensions"), f"{prefix}extensions"),
    }


def lorebook_header_json(book: Lorebook, *, always_extensions: bool) -> JsonObject:
    """The optional book-level fields that are set; a card's book always has ``extensions``."""
    header: JsonObject = {}
    for key in ("name", "description", "scan_depth", "token_budget", "recursive_scanning"):
        value = getattr(book, key)
        if not is_unset(value):
            header[key] = value
    if always_extensions or book.extensions:
        header["extensions"] = dict(book.extensions)
    return header
