"""A lorebook prepared for scanning: keys parsed and regexes compiled once, keys indexed by text.

`lorebook_compile` is pure and its result immutable in meaning (it only fills
caches), so a caller can keep one per book, keyed by the book's id and
`updated_at`, and pass it to `lorebook_activate` in place of the `BookInput`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass, field, replace
from itertools import chain

from characters.cards.lorebook.book import LorebookEntry
from chats.prompting.lorebook.inputs import BookId, BookInput
from chats.prompting.lorebook.keys import Key, PlainKey, RegexKey, key_parse
from chats.prompting.lorebook.report import EntryReport, Reason, entry_label
from chats.prompting.lorebook.scan_text import Haystack, LengthRange

# LorebookEntry flag -> ScanExtras field, in the order SillyTavern appends them to the buffer.
EXTRA_FLAGS = (
    ("match_persona_description", "persona_description"),
    ("match_character_description", "character_description"),
    ("match_character_personality", "character_personality"),
    ("match_character_depth_prompt", "character_depth_prompt"),
    ("match_scenario", "scenario"),
    ("match_creator_notes", "creator_notes"),
)
UidRank = tuple[int, int, str, int]


@dataclass(frozen=True, slots=True)
class ScanProfile:
    """Entries of a book that read the same text under the same matching rules."""

    scan_depth: int | None  # None: the book's, else the global setting
    extras: tuple[str, ...]  # ScanExtras fields they also scan
    case_sensitive: bool | None  # None: the global setting
    match_whole_words: bool | None
    scans_recursion: bool  # False for exclude_recursion entries: they never read the recursion buffer
    members: tuple[int, ...] = ()  # keyed, enabled, non-constant entries


@dataclass(eq=False, slots=True)
class CompiledEntry:
    index: int  # in its book
    entry: LorebookEntry
    timer_key: str  # its key in the timed-effects state
    label: str  # how other entries' report details name it
    primary: tuple[Key, ...]
    secondary: tuple[Key, ...]  # only when the entry is selective
    groups: tuple[str, ...]
    recursion_level: int  # delay_until_recursion: 0 none, True is 1
    profile: ScanProfile  # without members
    uid_rank: UidRank  # the last tie-break between equal orders
    idle_report: EntryReport  # what the report says if no pass decides anything about it
    _token_count: tuple[Callable[[str], int], int] | None = None  # the counter, and its count

    def tokens(self, count_tokens: Callable[[str], int]) -> int:
        known = self._token_count
        if known is not None and known[0] is count_tokens:
            return known[1]
        tokens = count_tokens(self.entry.content)
        self._token_count = (count_tokens, tokens)
        return tokens


@dataclass(frozen=True, eq=False)
class KeyTable:
    """A profile's primary keys under one case and whole-word setting, arranged for lookup."""

    whole_words: bool
    case_sensitive: bool
    exact: dict[str, tuple[tuple[PlainKey, int], ...]]  # word keys: found by set membership alone
    exact_forms: frozenset[str]
    anchored: dict[str, tuple[tuple[PlainKey, int], ...]]  # other keys, by their longest word
    anchor_forms: frozenset[str]
    unanchored: tuple[tuple[PlainKey, int], ...]  # keys with no word character: always checked
    regex_anchored: dict[str, tuple[tuple[RegexKey, int], ...]]  # regex keys, by RegexKey.anchor
    regex_anchor_forms: frozenset[str]
    regex_unanchored: tuple[tuple[RegexKey, int], ...]
    lengths: LengthRange | None  # word lengths looked up among substrings; None: none are

    def hits(self, haystack: Haystack, lengths: LengthRange, skip: Set[int]) -> dict[int, Key]:
        """The members with a primary key in `haystack`, each with one such key; `skip`ped ones may be left out."""
        case, whole = self.case_sensitive, self.whole_words
        found: dict[int, Key] = {}
        if self.exact_forms:
            words = haystack.tokens(case) if whole else haystack.substrings(case, lengths)
            for form in self.exact_forms & words:
                for exact_key, index in self.exact[form]:
                    found.setdefault(index, exact_key)
        if self.anchor_forms:
            for anchor in self.anchor_forms & haystack.substrings(case, lengths):
                for key, index in self.anchored[anchor]:
                    if index not in found and key.matches(haystack, case_sensitive=case, whole_words=whole):
                        found[index] = key
        for plain_key, index in self.unanchored:
            if index not in found and plain_key.matches(haystack, case_sensitive=case, whole_words=whole):
                found[index] = plain_key
        regex_keys: Iterable[tuple[RegexKey, int]] = self.regex_unanchored
        if self.regex_anchor_forms:
            if haystack.fold_exceptions():
                regex_keys = chain(regex_keys, *self.regex_anchored.values())
            else:
                present = self.regex_anchor_forms & haystack.substrings(False, lengths)
                regex_keys = chain(regex_keys, *(self.regex_anchored[anchor] for anchor in present))
        for regex_key, index in regex_keys:
            if (
                index not in found
                and index not in skip
                and regex_key.matches(haystack, case_sensitive=case, whole_words=whole)
            ):
                found[index] = regex_key
        return found


@dataclass(frozen=True, eq=False)
class CompiledBook:
    id: BookId
    input: BookInput
    entries: tuple[CompiledEntry, ...]
    profiles: tuple[ScanProfile, ...]
    constants: tuple[int, ...]  # enabled constant entries
    delayed: tuple[int, ...]  # enabled entries with a delay
    recursion_delayed: tuple[int, ...]  # enabled delay_until_recursion entries
    by_timer_key: dict[str, int]
    _tables: dict[tuple[int, bool, bool], KeyTable] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def key_table(self, profile: int, *, case_sensitive: bool, whole_words: bool) -> KeyTable:
        cache_key = (profile, case_sensitive, whole_words)
        table = self._tables.get(cache_key)
        if table is None:
            with self._lock:
                table = self._tables.get(cache_key) or _key_table(
                    self, self.profiles[profile], case_sensitive=case_sensitive, whole_words=whole_words
                )
                self._tables[cache_key] = table
        return table


def lorebook_compile(book: BookInput) -> CompiledBook:
    entries = tuple(_compile_entry(book.id, index, entry) for index, entry in enumerate(book.book.entries))
    enabled = [compiled for compiled in entries if not compiled.entry.disabled]
    members: dict[ScanProfile, list[int]] = {}
    for compiled in enabled:
        if compiled.entry.constant or not compiled.primary:
            continue
        members.setdefault(compiled.profile, []).append(compiled.index)
    profiles = tuple(replace(profile, members=tuple(indexes)) for profile, indexes in members.items())
    return CompiledBook(
        id=book.id,
        input=book,
        entries=entries,
        profiles=profiles,
        constants=tuple(c.index for c in enabled if c.entry.constant),
        delayed=tuple(c.index for c in enabled if (c.entry.delay or 0) > 0),
        recursion_delayed=tuple(c.index for c in enabled if c.recursion_level),
        by_timer_key={compiled.timer_key: compiled.index for compiled in entries},
    )


def timer_key(book_id: BookId, uid: int | str) -> str:
    """An entry's key in the timed-effects state (SillyTavern: "world.uid")."""
    return f"{book_id}:{uid}"


def _compile_entry(book_id: BookId, index: int, entry: LorebookEntry) -> CompiledEntry:
    uid = entry.uid if entry.uid is not None else index  # SillyTavern numbers id-less card entries
    primary = tuple(key for key in map(key_parse, entry.keys) if key is not None)
    secondary = tuple(key for key in map(key_parse, entry.secondary_keys) if key is not None)
    level = entry.delay_until_recursion
    return CompiledEntry(
        index=index,
        entry=entry,
        timer_key=timer_key(book_id, uid),
        label=entry_label(book_id=book_id, uid=uid, comment=entry.comment),
        primary=primary,
        secondary=secondary if entry.selective else (),
        groups=tuple(name.strip() for name in entry.group.split(",") if name.strip()),
        recursion_level=1 if level is True else max(0, int(level)),
        profile=_profile(entry),
        uid_rank=_uid_rank(entry.uid, index),
        idle_report=_idle_report(book_id, entry, primary),
    )


def _idle_report(book_id: BookId, entry: LorebookEntry, primary: tuple[Key, ...]) -> EntryReport:
    if entry.disabled:
        reason, detail = Reason.DISABLED, "disabled"
    elif not primary and not entry.constant:
        reason, detail = Reason.NO_KEYS, "no keys and not constant"
    else:
        reason, detail = Reason.NOT_MATCHED, "no key matched"
        broken = [key for key in primary if isinstance(key, RegexKey) and key.pattern is None]
        if broken:
            detail += "; " + "; ".join(f"{key.text} is not a valid regex ({key.error})" for key in broken)
    return EntryReport(
        book_id=book_id, uid=entry.uid, comment=entry.comment, activated=False, reason=reason, detail=detail
    )


def _uid_rank(uid: int | str | None, index: int) -> UidRank:
    if isinstance(uid, int):
        return (0, uid, "", index)
    if isinstance(uid, str):
        return (1, 0, uid, index)
    return (2, 0, "", index)


def _profile(entry: LorebookEntry) -> ScanProfile:
    """The entry's profile, without members."""
    return ScanProfile(
        scan_depth=entry.scan_depth,
        extras=tuple(field_name for flag, field_name in EXTRA_FLAGS if getattr(entry, flag)),
        case_sensitive=entry.case_sensitive,
        match_whole_words=entry.match_whole_words,
        scans_recursion=not entry.exclude_recursion,
    )


def _key_table(
    book: CompiledBook, profile: ScanProfile, *, case_sensitive: bool, whole_words: bool
) -> KeyTable:
    exact: dict[str, dict[int, PlainKey]] = {}
    anchored: dict[str, list[tuple[PlainKey, int]]] = {}
    unanchored: list[tuple[PlainKey, int]] = []
    regex_anchored: dict[str, list[tuple[RegexKey, int]]] = {}
    regex_unanchored: list[tuple[RegexKey, int]] = []
    for index in profile.members:
        for key in book.entries[index].primary:
            if isinstance(key, RegexKey):
                if key.pattern is not None and key.anchor:
                    regex_anchored.setdefault(key.anchor, []).append((key, index))
                elif key.pattern is not None:
                    regex_unanchored.append((key, index))
            elif key.is_word:
                exact.setdefault(key.form(case_sensitive), {}).setdefault(index, key)
            elif anchor := key.anchor(case_sensitive):
                anchored.setdefault(anchor, []).append((key, index))
            else:
                unanchored.append((key, index))
    looked_up = [*anchored, *regex_anchored] if whole_words else [*exact, *anchored, *regex_anchored]
    return KeyTable(
        whole_words=whole_words,
        case_sensitive=case_sensitive,
        exact={form: tuple((key, index) for index, key in keys.items()) for form, keys in exact.items()},
        exact_forms=frozenset(exact),
        anchored={anchor: tuple(keys) for anchor, keys in anchored.items()},
        anchor_forms=frozenset(anchored),
        unanchored=tuple(unanchored),
        regex_anchored={anchor: tuple(keys) for anchor, keys in regex_anchored.items()},
        regex_anchor_forms=frozenset(regex_anchored),
        regex_unanchored=tuple(regex_unanchored),
        lengths=(min(map(len, looked_up)), max(map(len, looked_up))) if looked_up else None,
    )
