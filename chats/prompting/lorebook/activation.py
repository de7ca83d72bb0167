"""`lorebook_activate`: SillyTavern's world-info scan (`checkWorldInfo`, world-info.js) as a pure function.

One call runs passes until nothing new activates:
* the first pass scans the chat buffer (the last `scan_depth` messages, newest
  first, `Name: text`), plus the extra texts an entry asks for;
* a recursion pass adds the content of the entries activated so far (unless
  they prevent recursion) for entries that do not exclude recursion;
  `delay_until_recursion` entries wait for the recursion level they name, a
  level opening once the lower ones have nothing left to activate;
* a min-activations pass widens the chat buffer by one message.
In each pass the matched entries are sorted by priority (sticky first, then
order descending, constants first, then book and uid), inclusion groups pick
their winner, probability is rolled, and the budget is spent in that order.

Where we knowingly differ from SillyTavern:
* books are ordered only by entry order (ties: the earlier book), not by its
  character-first / global-first strategy; the caller chooses the book order;
* an entry's tokens are counted alone and summed, and an entry that exactly
  fills the budget fits (SillyTavern re-counts the joined text and stops at
  `>=`); a book's own `token_budget` is its own pool;
* exclude_recursion entries read only the chat in recursion passes (SillyTavern
  skips them there), and an invalid regex key never matches;
* min activations widens the scan up to the depth maximum or the history,
  not one message past it;
* macros ({{char}}, {{user}}), decorators, character filters, generation-type
  triggers and vector activation are left to the caller.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from itertools import chain
from operator import attrgetter

from characters.cards.lorebook.book import LorebookEntry
from characters.cards.lorebook.regex_limits import regex_budget
from chats.prompting.lorebook.book_run import Activated, BookRun, Candidate, PassOrder, setting
from chats.prompting.lorebook.budget import BudgetPool, lorebook_budget
from chats.prompting.lorebook.compiled import CompiledBook, CompiledEntry, ScanProfile, lorebook_compile
from chats.prompting.lorebook.entry_matching import group_score, primary_key_match, secondary_logic_check
from chats.prompting.lorebook.groups import inclusion_groups_filter
from chats.prompting.lorebook.inputs import ActivationSettings, BookInput, ScanExtras, ScanMessage
from chats.prompting.lorebook.key_table import Bits, KeySearch, KeyTable
from chats.prompting.lorebook.report import Reason
from chats.prompting.lorebook.result import ActivationResult
from chats.prompting.lorebook.scan_buffer import ScanBuffer
from chats.prompting.lorebook.scan_text import Haystack, LengthRange
from chats.prompting.lorebook.timed_effects import timed_effects_now, timed_effects_record
from tavern.ai.tokenizer import count_tokens as default_count_tokens


class _Scan(Enum):
    INITIAL = "initial"
    RECURSION = "recursion"
    MIN_ACTIVATIONS = "min activations"


def lorebook_activate(
    *,
    books: Sequence[BookInput | CompiledBook],
    history: Sequence[ScanMessage],
    settings: ActivationSettings,
    state: Mapping[str, object],
    turn: int,
    rng: random.Random,
    count_tokens: Callable[[str], int] = default_count_tokens,
    extra_scan_text: ScanExtras | None = None,
) -> ActivationResult:
    """The entries of `books` that activate at `turn` (the chat's message count), and why.

    `state` is the timed-effects state the previous call returned (`{}` at first);
    it is not modified. A `CompiledBook` (from `lorebook_compile`) can stand in
    for its `BookInput`, so callers can keep books compiled between turns.
    """
    compiled: list[CompiledBook] = []
    seen: set[str] = set()
    for book in books:
        if str(book.id) not in seen:  # a book taking part twice would activate twice
            seen.add(str(book.id))
            compiled.append(book if isinstance(book, CompiledBook) else lorebook_compile(book))
    run = _ActivationRun(
        books=compiled,
        history=history,
        settings=settings,
        state=state,
        turn=turn,
        rng=rng,
        count_tokens=count_tokens,
        extras=extra_scan_text or ScanExtras(),
    )
    with regex_budget() as budget:
        result = run.result()
    if budget.timed_out:
        result = dataclasses.replace(result, regex_timeouts=tuple(budget.timed_out))
    return result


class _ActivationRun:
    def __init__(
        self,
        *,
        books: list[CompiledBook],
        history: Sequence[ScanMessage],
        settings: ActivationSettings,
        state: Mapping[str, object],
        turn: int,
        rng: random.Random,
        count_tokens: Callable[[str], int],
        extras: ScanExtras,
    ) -> None:
        self.settings = settings
        self.turn = turn
        self.rng = rng
        self.count_tokens = count_tokens
        self.buffer = ScanBuffer(history=history, extras=extras, settings=settings)
        self.global_pool = BudgetPool(lorebook_budget(settings))
        order = PassOrder.of(books)
        self.books = [
            BookRun(position=position, compiled=book, settings=settings, pool=self._pool(book), order=order)
            for position, book in enumerate(books)
        ]
        self.lengths = _lengths(table for book in self.books for _, table in book.tables)
        self.timers = timed_effects_now(state=state, turn=turn, find_entry=self._entry_by_timer_key)
        self.activated: list[Activated] = []
        self.active_groups: dict[str, str] = {}  # group -> label of the entry that won it
        self.pass_number = 0
        self.levels = sorted(
            {
                book.compiled.entries[i].recursion_level
                for book in self.books
                for i in book.compiled.recursion_delayed
            }
        )
        self.level = self.levels.pop(0) if self.levels else 0
        self.highest_level_scanned = 0
        for book in self.books:
            book.apply_timed_effects(self.timers, turn=turn)

    def _pool(self, book: CompiledBook) -> BudgetPool:
        own = book.input.book.token_budget
        return BudgetPool(own) if own is not None and own > 0 else self.global_pool

    def _entry_by_timer_key(self, key: str) -> LorebookEntry | None:
        for book in self.books:
            entry = book.entry_by_timer_key(key)
            if entry is not None:
                return entry
        return None

    # -- the passes --------------------------------------------------------------------------

    def result(self) -> ActivationResult:
        scan: _Scan | None = _Scan.INITIAL
        while scan is not None:
            steps = self.settings.max_recursion_steps
            if steps and self.pass_number >= steps:
                break
            feeds = self._pass(scan)
            scan = self._next_scan(scan, feeds)
            if scan is not None and feeds:
                self.buffer.add_recursion(feeds)
        return self._build_result()

    def _next_scan(self, scan: _Scan, feeds: list[str]) -> _Scan | None:
        overflowed = self.global_pool.overflowed
        following: _Scan | None = None
        if feeds and not overflowed:
            following = _Scan.RECURSION
        # SillyTavern: after a min-activations pass, recurse on what the buffer holds first.
        if scan is _Scan.MIN_ACTIVATIONS and self.buffer.recursion and not overflowed:
            following = _Scan.RECURSION
        below_minimum = len(self.activated) < self.settings.min_activations
        if following is None and not overflowed and below_minimum and self.buffer.widen():
            following = _Scan.MIN_ACTIVATIONS
        if following is None and self.levels:
            self.level = self.levels.pop(0)
            following = _Scan.RECURSION
        return following

    def _pass(self, scan: _Scan) -> list[str]:
        """Run one pass; return the contents it adds to the recursion buffer."""
        self.pass_number += 1
        if scan is _Scan.RECURSION:
            self.highest_level_scanned = max(self.highest_level_scanned, self.level)
        candidates = self._candidates(scan)
        candidates.sort(key=attrgetter("rank"))
        losers = inclusion_groups_filter(
            candidates,
            active_groups=self.active_groups,
            use_group_scoring=self.settings.use_group_scoring,
            score=self._score,
            rng=self.rng,
        )
        feeds: list[str] = []
        for candidate in candidates:
            loss = losers.get(candidate)
            if loss is not None:
                before = candidate.book.outcomes.get(candidate.compiled.index)
                if not (loss.earlier_winner and before is not None and before.reason is Reason.GROUP_LOST):
                    self._decide(candidate, Reason.GROUP_LOST, loss.detail)  # else keep how it first lost
                continue
            if self._admit(candidate):
                entry = candidate.compiled.entry
                if candidate.book.recursive and not entry.prevent_recursion and entry.content:
                    feeds.append(entry.content)
        return feeds

    def _candidates(self, scan: _Scan) -> list[Candidate]:
        candidates: list[Candidate] = []
        matched = "matched" if scan is _Scan.INITIAL else f"matched ({scan.value} pass {self.pass_number})"
        for book in self.books:
            forced = dict.fromkeys([*book.compiled.constants, *book.sticky])
            for index in forced:
                candidate = self._forced_candidate(book, book.compiled.entries[index], scan)
                if candidate is not None:
                    candidates.append(candidate)
            skip = book.done.union(book.blocked, forced)
            for profile, table in book.tables:
                haystack = self._haystack(book, profile, scan)
                if haystack is None:
                    continue
                search = table.searcher(haystack, self.lengths)
                secondary = table.finds(haystack, self.lengths).secondary
                for index, bits in table.hits(haystack, self.lengths, book.done).items():
                    if index not in skip:
                        compiled = book.compiled.entries[index]
                        candidate = self._keyed_candidate(
                            book, compiled, scan, search, bits, secondary.get(index, 0), matched
                        )
                        if candidate is not None:
                            candidates.append(candidate)
        return candidates

    def _forced_candidate(self, book: BookRun, compiled: CompiledEntry, scan: _Scan) -> Candidate | None:
        """A constant or sticky entry, unless done, blocked, disabled or waiting for its recursion level."""
        if compiled.index in book.done or compiled.index in book.blocked or compiled.entry.disabled:
            return None
        sticky = self.timers.sticky.get(compiled.timer_key)
        if sticky is None and self._waits_for_level(compiled, scan):
            return None
        search = self._searcher(book, compiled, scan)
        if compiled.entry.constant:
            is_sticky = sticky is not None
            rank = book.rank(compiled, sticky=is_sticky)
            return Candidate(book, compiled, search, is_sticky, Reason.CONSTANT, "constant", rank)
        if sticky is not None:
            detail = f"sticky since turn {sticky['start']}, until turn {sticky['end']}"
            return Candidate(
                book, compiled, search, True, Reason.STICKY, detail, book.rank(compiled, sticky=True)
            )
        return None

    def _keyed_candidate(
        self,
        book: BookRun,
        compiled: CompiledEntry,
        scan: _Scan,
        search: KeySearch,
        primary_bits: Bits,
        secondary_bits: Bits,
        matched: str,
    ) -> Candidate | None:
        """An entry its key table found (not constant, done or blocked), if its secondary logic
        lets it through; `matched` ends the report's detail."""
        if self.timers.sticky and compiled.timer_key in self.timers.sticky:
            return self._forced_candidate(book, compiled, scan)  # shares its uid with a sticky entry
        if compiled.recursion_level and self._waits_for_level(compiled, scan):
            return None
        key = primary_key_match(compiled, search, primary_bits)
        if key is None:
            return None
        detail = f'key "{key.text}" {matched}'
        if compiled.secondary:
            passed, why = secondary_logic_check(compiled, search, secondary_bits)
            if not passed:
                book.decide(compiled, Reason.SECONDARY_FAILED, f"{detail}, but {why}", self.pass_number)
                return None
            detail += f", {why}"
        rank = book.rank(compiled, sticky=False)
        return Candidate(
            book, compiled, search, False, Reason.KEY_MATCHED, detail, rank, primary_bits, secondary_bits
        )

    def _searcher(self, book: BookRun, compiled: CompiledEntry, scan: _Scan) -> KeySearch | None:
        """How to search the entry's haystack for its keys; None when it reads nothing."""
        haystack = self._haystack(book, compiled.profile, scan)
        if haystack is None:
            return None
        options = self._options(compiled)
        return lambda key: key.matches(haystack, **options)

    def _waits_for_level(self, compiled: CompiledEntry, scan: _Scan) -> bool:
        """A delay_until_recursion entry waits for a recursion pass of its level."""
        level = compiled.recursion_level
        return bool(level) and (scan is not _Scan.RECURSION or level > self.level)

    def _admit(self, candidate: Candidate) -> bool:
        """Roll the entry's probability and spend its tokens; True if it is activated."""
        compiled, book = candidate.compiled, candidate.book
        entry, pool = compiled.entry, book.pool
        if pool.overflowed and not entry.ignore_budget:
            detail = f"the budget of {pool.budget} tokens was already spent"
            book.decide(compiled, Reason.BUDGET_EXCEEDED, detail, self.pass_number)
            return False
        detail = candidate.detail
        if entry.use_probability and entry.probability < 100 and not candidate.sticky:
            roll = self.rng.random() * 100
            if roll > entry.probability:
                book.done.add(compiled.index)  # SillyTavern rolls once per entry and call
                detail = f"{detail}, but rolled {roll:.1f} > {entry.probability}%"
                book.decide(compiled, Reason.PROBABILITY_FAILED, detail, self.pass_number)
                return False
            detail += f", rolled {roll:.1f} <= {entry.probability}%"
        tokens = compiled.tokens(self.count_tokens)
        if not pool.spend(tokens, ignore_budget=entry.ignore_budget):
            detail = f"{detail}, but its {tokens} tokens did not fit ({pool.used} of {pool.budget} used)"
            book.decide(compiled, Reason.BUDGET_EXCEEDED, detail, self.pass_number)
            return False
        if entry.ignore_budget:
            detail += ", ignores the budget"
        if not compiled.inserts:
            detail += "; its content is empty, nothing is inserted"
        book.done.add(compiled.index)
        self.activated.append(Activated(book, compiled, candidate.reason, tokens))
        for group in compiled.groups:
            self.active_groups.setdefault(group, compiled.label)
        book.decide(compiled, candidate.reason, detail, self.pass_number, activated=True)
        return True

    def _score(self, candidate: Candidate) -> int:
        if candidate.search is None:
            return 0
        return group_score(
            candidate.compiled, candidate.search, candidate.primary_bits, candidate.secondary_bits
        )

    def _options(self, compiled: CompiledEntry) -> dict[str, bool]:
        return {
            "case_sensitive": setting(compiled.entry.case_sensitive, self.settings.case_sensitive),
            "whole_words": setting(compiled.entry.match_whole_words, self.settings.match_whole_words),
        }

    def _haystack(self, book: BookRun, profile: ScanProfile, scan: _Scan) -> Haystack | None:
        return self.buffer.haystack(
            profile,
            book_scan_depth=book.scan_depth,
            with_recursion=scan is _Scan.RECURSION and book.recursive,
        )

    # -- the report and the result -----------------------------------------------------------

    def _decide(self, candidate: Candidate, reason: Reason, detail: str, *, activated: bool = False) -> None:
        candidate.book.decide(candidate.compiled, reason, detail, self.pass_number, activated)

    def _build_result(self) -> ActivationResult:
        inserted = sorted(
            (item for item in self.activated if item.compiled.inserts),
            key=lambda item: item.book.rank(item.compiled, sticky=False),
            reverse=True,  # lower orders first: higher ones end up nearer the chat's end
        )
        state = timed_effects_record(
            self.timers,
            activated=[(item.compiled.timer_key, item.compiled.entry) for item in self.activated],
            turn=self.turn,
        )
        global_pool = self.global_pool
        alert = ""
        if self.settings.overflow_alert and global_pool.overflowed:
            alert = f"World info budget reached after {len(self.activated)} entries."
        return ActivationResult(
            entries=tuple(
                item.compiled.activated_entry(item.book.compiled.id, item.reason, item.tokens)
                for item in inserted
            ),
            tokens_used=sum(item.tokens for item in self.activated),
            budget=global_pool.budget,
            budget_overflowed=global_pool.overflowed,
            book_budgets={
                book.compiled.id: book.pool.spend_report()
                for book in self.books
                if book.pool is not global_pool
            },
            state=state,
            report=tuple(
                chain.from_iterable(
                    book.report_lines(highest_level_scanned=self.highest_level_scanned) for book in self.books
                )
            ),
            passes=self.pass_number,
            alert=alert,
        )


def _lengths(tables: Iterable[KeyTable]) -> LengthRange:
    ranges = [table.lengths for table in tables if table.lengths is not None]
    if not ranges:
        return (1, 1)
    return (min(shortest for shortest, _ in ranges), max(longest for _, longest in ranges))
