"""A lorebook prepared for scanning: keys parsed and regexes compiled once, keys indexed by text.

`lorebook_compile` is pure and its result immutable in meaning (it only fills
caches), so a caller can keep one per book, keyed by the book's id and
`updated_at`, and pass it to `lorebook_activate` in place of the `BookInput`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from characters.cards.lorebook.book import LorebookEntry
from chats.prompting.lorebook.inputs import BookId, BookInput
from chats.prompting.lorebook.key_table import Bits, KeyTable, indexed_bits, key_table_build
from chats.prompting.lorebook.keys import Key, RegexKey, key_parse
from chats.prompting.lorebook.report import EntryReport, Reason, entry_label
from chats.prompting.lorebook.result import ActivatedEntry

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
Priority = tuple[int, bool]  # order descending, then constants first: the lower comes first


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
    primary_indexed: Bits  # its keys a KeyTable looks up (the others are searched for)
    secondary_indexed: Bits
    groups: tuple[str, ...]
    recursion_level: int  # delay_until_recursion: 0 none, True is 1
    profile: ScanProfile  # without members
    priority: Priority
    uid_rank: UidRank  # the last tie-break between equal orders
    idle_report: EntryReport  # what the report says if no pass decides anything about it
    inserts: bool  # its content is not blank: an activation puts it in the prompt
    _token_count: tuple[Callable[[str], int], int] | None = None  # the counter, and its count
    _activations: dict[tuple[BookId, Reason, int], ActivatedEntry] = field(default_factory=dict)

    def tokens(self, count_tokens: Callable[[str], int]) -> int:
        known = self._token_count
        if known is not None and known[0] is count_tokens:
            return known[1]
        tokens = count_tokens(self.entry.content)
        self._token_count = (count_tokens, tokens)
        return tokens

    def activated_entry(self, book_id: BookId, reason: Reason, tokens: int) -> ActivatedEntry:
        """What a result lists for it: the same every time it activates for the same reason."""
        cache_key = (book_id, reason, tokens)
        activated = self._activations.get(cache_key)
        if activated is None:
            entry = self.entry
            activated = ActivatedEntry(
                book_id=book_id,
                entry=entry,
                content=entry.content,
                position=entry.position,
                depth=entry.depth,
                role=entry.role,
                order=entry.order,
                outlet_name=entry.outlet_name,
                reason=reason,
                tokens=tokens,
            )
            self._activations[cache_key] = activated
        return activated


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
    priorities: frozenset[Priority]  # those its entries have
    ranks: tuple[int, ...]  # each entry's place in the book by priority, then uid
    _tables: dict[tuple[int, bool, bool], KeyTable] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def key_table(self, profile: int, *, case_sensitive: bool, whole_words: bool) -> KeyTable:
        cache_key = (profile, case_sensitive, whole_words)
        table = self._tables.get(cache_key)
        if table is None:
            with self._lock:
                table = self._tables.get(cache_key) or key_table_build(
                    (
                        (index, self.entries[index].primary, self.entries[index].secondary)
                        for index in self.profiles[profile].members
                    ),
                    case_sensitive=case_sensitive,
                    whole_words=whole_words,
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
    ranks = [0] * len(entries)
    for rank, compiled in enumerate(
        sorted(entries, key=lambda compiled: (compiled.priority, compiled.uid_rank))
    ):
        ranks[compiled.index] = rank
    return CompiledBook(
        id=book.id,
        input=book,
        entries=entries,
        profiles=profiles,
        constants=tuple(c.index for c in enabled if c.entry.constant),
        delayed=tuple(c.index for c in enabled if (c.entry.delay or 0) > 0),
        recursion_delayed=tuple(c.index for c in enabled if c.recursion_level),
        by_timer_key={compiled.timer_key: compiled.index for compiled in entries},
        priorities=frozenset(compiled.priority for compiled in entries),
        ranks=tuple(ranks),
    )


def timer_key(book_id: BookId, uid: int | str) -> str:
    """An entry's key in the timed-effects state (SillyTavern: "world.uid")."""
    return f"{book_id}:{uid}"


def _compile_entry(book_id: BookId, index: int, entry: LorebookEntry) -> CompiledEntry:
    uid = entry.uid if entry.uid is not None else index  # SillyTavern numbers id-less card entries
    primary = tuple(key for key in map(key_parse, entry.keys) if key is not None)
    secondary = tuple(key for key in map(key_parse, entry.secondary_keys) if key is not None)
    if not entry.selective:
        secondary = ()
    level = entry.delay_until_recursion
    return CompiledEntry(
        index=index,
        entry=entry,
        timer_key=timer_key(book_id, uid),
        label=entry_label(book_id=book_id, uid=uid, comment=entry.comment),
        primary=primary,
        secondary=secondary,
        primary_indexed=indexed_bits(primary),
        secondary_indexed=indexed_bits(secondary),
        groups=tuple(name.strip() for name in entry.group.split(",") if name.strip()),
        recursion_level=1 if level is True else max(0, int(level)),
        profile=_profile(entry),
        priority=(-entry.order, not entry.constant),
        uid_rank=_uid_rank(entry.uid, index),
        idle_report=_idle_report(book_id, entry, primary),
        inserts=bool(entry.content.strip()),
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
