"""One book during one activation (its settings resolved, its budget pool, what happened to its entries),
and its entries as a pass sees them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from characters.cards.lorebook.book import LorebookEntry
from chats.prompting.lorebook.budget import BudgetPool
from chats.prompting.lorebook.compiled import CompiledBook, CompiledEntry, Priority, ScanProfile
from chats.prompting.lorebook.inputs import ActivationSettings
from chats.prompting.lorebook.key_table import Bits, KeySearch, KeyTable
from chats.prompting.lorebook.report import EntryReport, Reason
from chats.prompting.lorebook.timed_effects import TimedEffectsNow


@dataclass(frozen=True)
class PassOrder:
    """SillyTavern's order within a pass (sticky first, then order descending, constants first,
    then the earlier book, then uid), as one int per entry: sorting ints is several times faster."""

    levels: dict[Priority, int]  # every book's priorities, in order
    books: int
    span: int  # more entries than any book has

    @classmethod
    def of(cls, books: Sequence[CompiledBook]) -> PassOrder:
        priorities = sorted(frozenset().union(*(book.priorities for book in books)))
        return cls(
            levels={priority: level for level, priority in enumerate(priorities)},
            books=len(books),
            span=max((len(book.entries) for book in books), default=0) + 1,
        )

    def bases(self, position: int, priorities: Iterable[Priority]) -> dict[Priority, int]:
        """The rank of a book's first entry of each priority, the book at `position` (sticky: less
        `not_sticky`)."""
        return {
            priority: (self.levels[priority] * self.books + position) * self.span for priority in priorities
        }

    @property
    def not_sticky(self) -> int:
        return len(self.levels) * self.books * self.span


class BookRun:
    def __init__(
        self,
        *,
        position: int,
        compiled: CompiledBook,
        settings: ActivationSettings,
        pool: BudgetPool,
        order: PassOrder,
    ) -> None:
        lorebook = compiled.input.book
        self.position = position  # ties between equal orders go to the earlier book
        self.compiled = compiled
        self._rank_bases = order.bases(position, compiled.priorities)
        self._not_sticky = order.not_sticky
        self.recursive = (
            settings.recursive if lorebook.recursive_scanning is None else lorebook.recursive_scanning
        )
        self.scan_depth = lorebook.scan_depth
        self.pool = pool
        self.tables: list[tuple[ScanProfile, KeyTable]] = [
            (
                profile,
                compiled.key_table(
                    index,
                    case_sensitive=setting(profile.case_sensitive, settings.case_sensitive),
                    whole_words=setting(profile.match_whole_words, settings.match_whole_words),
                ),
            )
            for index, profile in enumerate(compiled.profiles)
        ]
        self.done: set[int] = set()  # activated, or failed their probability roll
        self.outcomes: dict[int, EntryReport] = {}  # what the passes decided
        self.blocked: dict[int, EntryReport] = {}  # delay and cooldown: decided once per call
        self.sticky: list[int] = []  # entries a sticky effect keeps active

    def rank(self, compiled: CompiledEntry, *, sticky: bool) -> int:
        """The entry's place in a pass (see PassOrder)."""
        rank = self._rank_bases[compiled.priority] + self.compiled.ranks[compiled.index]
        return rank if sticky else rank + self._not_sticky

    def entry_by_timer_key(self, key: str) -> LorebookEntry | None:
        index = self.compiled.by_timer_key.get(key)
        return None if index is None else self.compiled.entries[index].entry

    def apply_timed_effects(self, timers: TimedEffectsNow, *, turn: int) -> None:
        """Block delayed entries and those on cooldown (unless sticky); note the sticky ones."""
        entries = self.compiled.entries
        for index in self.compiled.delayed:
            delay = entries[index].entry.delay or 0
            if turn < delay:
                self.blocked[index] = self.report(
                    entries[index], Reason.DELAY, f"waits for {delay} messages; the chat has {turn}"
                )
        for key, effect in timers.cooldown.items():
            index = self.compiled.by_timer_key.get(key)
            if index is None or index in self.blocked or entries[index].entry.disabled:
                continue
            if key in timers.sticky:
                continue  # SillyTavern: a sticky entry ignores its cooldown
            self.blocked[index] = self.report(
                entries[index], Reason.COOLDOWN, f"on cooldown until turn {effect['end']}"
            )
        self.sticky = [
            index for key in timers.sticky if (index := self.compiled.by_timer_key.get(key)) is not None
        ]

    def report(
        self,
        compiled: CompiledEntry,
        reason: Reason,
        detail: str,
        *,
        scan_pass: int = 0,
        activated: bool = False,
    ) -> EntryReport:
        entry = compiled.entry
        return EntryReport(
            book_id=self.compiled.id,
            uid=entry.uid,
            comment=entry.comment,
            activated=activated,
            reason=reason,
            detail=detail,
            scan_pass=scan_pass,
        )

    def decide(
        self, compiled: CompiledEntry, reason: Reason, detail: str, scan_pass: int, activated: bool = False
    ) -> None:
        """What pass `scan_pass` decided about the entry (a later pass may decide again)."""
        entry = compiled.entry
        self.outcomes[compiled.index] = EntryReport(
            self.compiled.id, entry.uid, entry.comment, activated, reason, detail, scan_pass
        )

    def report_lines(self, *, highest_level_scanned: int) -> list[EntryReport]:
        """One line per entry: what a pass decided, else what blocked it, else why nothing happened."""
        entries = self.compiled.entries
        lines = [compiled.idle_report for compiled in entries]
        for reports in (self.blocked, self.outcomes):  # what a pass decided comes first
            for index, line in reports.items():
                lines[index] = line
        for index in self.compiled.recursion_delayed:
            compiled = entries[index]
            if lines[index] is compiled.idle_report and compiled.recursion_level > highest_level_scanned:
                lines[index] = self.report(
                    compiled,
                    Reason.DELAY_UNTIL_RECURSION,
                    f"waits for recursion level {compiled.recursion_level}, which no pass reached",
                )
        return lines


@dataclass(eq=False, slots=True)
class Candidate:
    """An entry a pass found, before groups, probability and the budget have their say."""

    book: BookRun
    compiled: CompiledEntry
    search: KeySearch | None  # for its keys in what it reads (None: it reads nothing), for its score
    sticky: bool
    reason: Reason
    detail: str
    rank: int  # its place in the pass (BookRun.rank)
    primary_bits: Bits | None = None  # what its key table found (None: not asked), for the group score
    secondary_bits: Bits | None = None

    @property
    def entry(self) -> LorebookEntry:
        return self.compiled.entry

    @property
    def groups(self) -> tuple[str, ...]:
        return self.compiled.groups

    @property
    def label(self) -> str:
        return self.compiled.label


@dataclass(frozen=True, slots=True)
class Activated:
    """An entry a pass activated."""

    book: BookRun
    compiled: CompiledEntry
    reason: Reason
    tokens: int


def setting(own: bool | None, default: bool) -> bool:
    """An entry's or book's own setting, else the global one."""
    return default if own is None else own
