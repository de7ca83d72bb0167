"""One entry against one haystack: its first matching key, its secondary logic, its group score."""

from __future__ import annotations

from characters.cards.lorebook.book import SelectiveLogic
from chats.prompting.lorebook.compiled import CompiledEntry
from chats.prompting.lorebook.keys import Key
from chats.prompting.lorebook.scan_text import Haystack


def primary_key_match(
    compiled: CompiledEntry,
    haystack: Haystack,
    *,
    case_sensitive: bool,
    whole_words: bool,
    known: Key | None = None,
) -> Key | None:
    """The first primary key found in `haystack`, as SillyTavern reports it; `known` is known to match."""
    for key in compiled.primary:
        if key is known or key.matches(haystack, case_sensitive=case_sensitive, whole_words=whole_words):
            return key
    return None


def secondary_logic_check(
    compiled: CompiledEntry, haystack: Haystack, *, case_sensitive: bool, whole_words: bool
) -> tuple[bool, str]:
    """Whether the secondary keys let the entry through under its selective logic, and why."""
    keys = compiled.secondary
    found = [key.matches(haystack, case_sensitive=case_sensitive, whole_words=whole_words) for key in keys]
    first_found = next((key.text for key, hit in zip(keys, found, strict=True) if hit), "")
    first_missing = next((key.text for key, hit in zip(keys, found, strict=True) if not hit), "")
    logic = compiled.entry.selective_logic
    if logic == SelectiveLogic.AND_ALL:
        if all(found):
            return True, "all secondary keys matched (AND ALL)"
        return False, f'secondary "{first_missing}" did not match (AND ALL)'
    if logic == SelectiveLogic.NOT_ANY:
        if not any(found):
            return True, "no secondary key matched (NOT ANY)"
        return False, f'secondary "{first_found}" matched (NOT ANY)'
    if logic == SelectiveLogic.NOT_ALL:
        if not all(found):
            return True, f'secondary "{first_missing}" did not match (NOT ALL)'
        return False, "all secondary keys matched (NOT ALL)"
    if any(found):
        return True, f'secondary "{first_found}" matched (AND ANY)'
    return False, "no secondary key matched (AND ANY)"


def group_score(
    compiled: CompiledEntry, haystack: Haystack | None, *, case_sensitive: bool, whole_words: bool
) -> int:
    """SillyTavern's `getScore`: matched primary keys, plus secondary ones under AND ANY / AND ALL."""
    if haystack is None or not compiled.primary:
        return 0
    options = {"case_sensitive": case_sensitive, "whole_words": whole_words}
    primary = sum(key.matches(haystack, **options) for key in compiled.primary)
    secondary = sum(key.matches(haystack, **options) for key in compiled.secondary)
    logic = compiled.entry.selective_logic
    if compiled.secondary and logic == SelectiveLogic.AND_ANY:
        return primary + secondary
    if compiled.secondary and logic == SelectiveLogic.AND_ALL and secondary == len(compiled.secondary):
        return primary + secondary
    return primary
