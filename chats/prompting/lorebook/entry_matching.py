"""One entry against one haystack: its first matching key, its secondary logic, its group score.

What the entry's key table already looked up comes in as bits: those of its
indexed keys found (see key_table), None when the table was not asked. The other
keys go to `search`, in the order SillyTavern tries them and no further than it
would (a regex is searched only when its answer decides something).
"""

from __future__ import annotations

from characters.cards.lorebook.book import SelectiveLogic
from chats.prompting.lorebook.compiled import CompiledEntry
from chats.prompting.lorebook.key_table import Bits, KeySearch
from chats.prompting.lorebook.keys import Key


def primary_key_match(compiled: CompiledEntry, search: KeySearch, bits: Bits | None = None) -> Key | None:
    """The first primary key found, as SillyTavern reports it."""
    keys = compiled.primary
    if bits is None:
        return next((key for key in keys if search(key)), None)
    indexed = compiled.primary_indexed
    if indexed == (1 << len(keys)) - 1:  # all looked up: the lowest bit is the first key found
        return keys[(bits & -bits).bit_length() - 1] if bits else None
    for position, key in enumerate(keys):
        if indexed >> position & 1:
            if bits >> position & 1:
                return key
        elif search(key):
            return key
    return None


def secondary_logic_check(
    compiled: CompiledEntry, search: KeySearch, bits: Bits | None = None
) -> tuple[bool, str]:
    """Whether the secondary keys let the entry through under its selective logic, and why."""
    keys = compiled.secondary
    hits = _found(keys, compiled.secondary_indexed, bits, search)
    first_found = next((key.text for key, hit in zip(keys, hits, strict=True) if hit), "")
    first_missing = next((key.text for key, hit in zip(keys, hits, strict=True) if not hit), "")
    logic = compiled.entry.selective_logic
    if logic == SelectiveLogic.AND_ALL:
        if all(hits):
            return True, "all secondary keys matched (AND ALL)"
        return False, f'secondary "{first_missing}" did not match (AND ALL)'
    if logic == SelectiveLogic.NOT_ANY:
        if not any(hits):
            return True, "no secondary key matched (NOT ANY)"
        return False, f'secondary "{first_found}" matched (NOT ANY)'
    if logic == SelectiveLogic.NOT_ALL:
        if not all(hits):
            return True, f'secondary "{first_missing}" did not match (NOT ALL)'
        return False, "all secondary keys matched (NOT ALL)"
    if any(hits):
        return True, f'secondary "{first_found}" matched (AND ANY)'
    return False, "no secondary key matched (AND ANY)"


def group_score(
    compiled: CompiledEntry,
    search: KeySearch,
    primary_bits: Bits | None = None,
    secondary_bits: Bits | None = None,
) -> int:
    """SillyTavern's `getScore`: matched primary keys, plus secondary ones under AND ANY / AND ALL."""
    if not compiled.primary:
        return 0
    primary = sum(_found(compiled.primary, compiled.primary_indexed, primary_bits, search))
    secondary = sum(_found(compiled.secondary, compiled.secondary_indexed, secondary_bits, search))
    logic = compiled.entry.selective_logic
    if compiled.secondary and logic == SelectiveLogic.AND_ANY:
        return primary + secondary
    if compiled.secondary and logic == SelectiveLogic.AND_ALL and secondary == len(compiled.secondary):
        return primary + secondary
    return primary


def _found(keys: tuple[Key, ...], indexed: Bits, bits: Bits | None, search: KeySearch) -> list[bool]:
    """Whether each key is found: read from `bits` for the indexed ones, when given, else searched."""
    if bits is None:
        return [search(key) for key in keys]
    return [
        bool(bits >> position & 1) if indexed >> position & 1 else search(key)
        for position, key in enumerate(keys)
    ]
