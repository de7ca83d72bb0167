"""What an activation returns: the entries to insert, where, and why everything else was left out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from characters.cards.lorebook.book import LorebookEntry, Position, Role
from chats.prompting.lorebook.budget import BudgetSpend
from chats.prompting.lorebook.inputs import BookId
from chats.prompting.lorebook.report import EntryReport, Reason
from chats.prompting.lorebook.timed_effects import TimedEffectsState


@dataclass(frozen=True, slots=True)
class ActivatedEntry:
    book_id: BookId
    entry: LorebookEntry
    content: str
    position: Position
    depth: int
    role: Role
    order: int
    outlet_name: str
    reason: Reason  # constant, key matched or sticky
    tokens: int

    @property
    def uid(self) -> int | str | None:
        return self.entry.uid


@dataclass(frozen=True)
class ActivationResult:
    entries: tuple[ActivatedEntry, ...]  # insertion order: by order ascending, so higher orders come last
    tokens_used: int
    budget: int
    budget_overflowed: bool
    book_budgets: Mapping[BookId, BudgetSpend]  # books with their own token_budget
    state: TimedEffectsState
    report: tuple[EntryReport, ...]  # every entry of every book, in book order
    passes: int
    alert: str = ""  # the budget warning to show, when overflow_alert is on and it overflowed
    regex_timeouts: tuple[str, ...] = ()  # regex keys that ran out of time, counted as no match

    def at_position(self, position: Position) -> tuple[ActivatedEntry, ...]:
        return tuple(entry for entry in self.entries if entry.position == position)

    @property
    def before_char(self) -> tuple[ActivatedEntry, ...]:
        return self.at_position(Position.BEFORE_CHAR)

    @property
    def after_char(self) -> tuple[ActivatedEntry, ...]:
        return self.at_position(Position.AFTER_CHAR)

    @property
    def an_top(self) -> tuple[ActivatedEntry, ...]:
        return self.at_position(Position.AN_TOP)

    @property
    def an_bottom(self) -> tuple[ActivatedEntry, ...]:
        return self.at_position(Position.AN_BOTTOM)

    @property
    def em_top(self) -> tuple[ActivatedEntry, ...]:
        return self.at_position(Position.EM_TOP)

    @property
    def em_bottom(self) -> tuple[ActivatedEntry, ...]:
        return self.at_position(Position.EM_BOTTOM)

    @cached_property
    def at_depth(self) -> dict[tuple[int, Role], tuple[ActivatedEntry, ...]]:
        """At-depth entries by (depth, role), in insertion order."""
        found: dict[tuple[int, Role], list[ActivatedEntry]] = {}
        for entry in self.at_position(Position.AT_DEPTH):
            found.setdefault((entry.depth, entry.role), []).append(entry)
        return {place: tuple(entries) for place, entries in found.items()}

    @cached_property
    def outlet(self) -> dict[str, tuple[ActivatedEntry, ...]]:
        """Outlet entries by outlet name, in insertion order."""
        found: dict[str, list[ActivatedEntry]] = {}
        for entry in self.at_position(Position.OUTLET):
            found.setdefault(entry.outlet_name, []).append(entry)
        return {name: tuple(entries) for name, entries in found.items()}

    def report_for(self, book_id: BookId, uid: int | str | None) -> EntryReport:
        for line in self.report:
            if line.book_id == book_id and line.uid == uid:
                return line
        raise KeyError((book_id, uid))
