"""Time limits for the regexes that cards and lorebooks bring.

A key such as `/(a+)+$/` backtracks exponentially: with Python's `re`, 27 `a`s and
a `b` held the interpreter lock for seconds and froze every user of the process.
Lorebook regexes therefore run on the `regex` engine, which takes a timeout and
releases the interpreter lock while it searches (`concurrent=True`):

* each search stops after `SEARCH_SECONDS`;
* all searches of one activation share `ACTIVATION_SECONDS` (`regex_budget`), so
  a book of many slow keys cannot add them up;
* a search that runs out of time counts as no match, and the key is named in the
  budget's `timed_out`, which the activation report passes on.

`regex_pathology` is the check at the edge (import, editing): a key that a probe
of likely attack strings cannot finish in time is refused with a reason, before it
is stored.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from re import _constants as sre_constants
from re import _parser as sre_parse

import regex

SEARCH_SECONDS = 0.05
ACTIVATION_SECONDS = 0.25
PROBE_SECONDS = 0.1  # thousands of times what a linear pattern needs on a probe
_PROBE_LENGTH = 2_000


@dataclass
class RegexBudget:
    """The time the regex keys of one activation may still take, and which ran out."""

    deadline: float
    timed_out: list[str] = field(default_factory=list)

    def next_timeout(self) -> float:
        return min(SEARCH_SECONDS, self.deadline - time.monotonic())


_budget: contextvars.ContextVar[RegexBudget | None] = contextvars.ContextVar("regex_budget", default=None)


@contextlib.contextmanager
def regex_budget(seconds: float = ACTIVATION_SECONDS) -> Iterator[RegexBudget]:
    """Searches made inside share `seconds` (on top of each one's own limit)."""
    budget = RegexBudget(deadline=time.monotonic() + seconds)
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


def regex_compile(source: str, flags: int) -> regex.Pattern[str]:
    """`source` (Python `re` syntax, already checked by `re`) for the time-limited engine."""
    return regex.compile(source, flags)


def regex_find(
    key: str,
    pattern: regex.Pattern[str],
    text: str,
    pos: int = 0,
    endpos: int | None = None,
    *,
    sticky: bool = False,
) -> regex.Match[str] | None:
    """`pattern.search` (or `.match` for a sticky key) within the time limits; None when
    it found nothing or ran out of time."""
    budget = _budget.get()
    timeout = SEARCH_SECONDS if budget is None else budget.next_timeout()
    if timeout <= 0:
        _timed_out(budget, key)
        return None
    find = pattern.match if sticky else pattern.search
    try:
        return find(text, pos, len(text) if endpos is None else endpos, concurrent=True, timeout=timeout)
    except TimeoutError:
        _timed_out(budget, key)
        return None


def regex_timed_out(key: str) -> bool:
    """Whether a search for `key` ran out of time in the current budget: an answer not to keep
    beyond it (True when no budget is open, since then nothing records it)."""
    budget = _budget.get()
    return budget is None or key in budget.timed_out


def _timed_out(budget: RegexBudget | None, key: str) -> None:
    if budget is not None and key not in budget.timed_out:
        budget.timed_out.append(key)


# ---------------------------------------------------------------- at the edge


def regex_pathology(source: str, flags: int, *, probe: bool = True) -> str:
    """Why this regex could freeze a scan ("" when it looks safe).

    A loop whose body can go round in more than one way over the same text
    (`(a+)+`, `(\\w+\\s?)*`, `(a?)+`) backtracks exponentially when the text
    almost matches; a probe with strings built from the pattern's own characters
    catches more of what a short time limit can see."""
    try:
        parsed = sre_parse.parse(source, flags)
    except (re.error, RecursionError, OverflowError):
        return ""  # it does not compile: the key never matches, which the editor reports
    if _has_ambiguous_loop(parsed, parsed.state):
        return (
            "it repeats a part that can itself repeat or be empty (as in (a+)+ or (a?)*), "
            "which can take exponential time on some texts"
        )
    if not probe:
        return ""
    try:
        pattern = regex.compile(source, flags)
    except (regex.error, RecursionError, OverflowError):
        return ""
    for text in _probes(parsed):
        # Twice before refusing: one pause of a busy machine is not the pattern's fault.
        if not _finishes(pattern, text) and not _finishes(pattern, text):
            return "it takes too long on some texts (catastrophic backtracking)"
    return ""


def _finishes(pattern: regex.Pattern[str], probe: str) -> bool:
    try:
        pattern.search(probe, concurrent=True, timeout=PROBE_SECONDS)
    except TimeoutError:
        return False
    return True


_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)


def _has_ambiguous_loop(items: list[tuple[object, object]], state: object) -> bool:
    for op, value in items:
        if op in _REPEATS and value[1] == sre_constants.MAXREPEAT and _ambiguous_body(list(value[2]), state):  # type: ignore[index]
            return True
        if any(_has_ambiguous_loop(child, state) for child in _children(op, value)):
            return True
    return False


def _children(op: object, value: object) -> list[list[tuple[object, object]]]:
    """The sub-patterns that may backtrack (possessive repeats and atomic groups never do)."""
    if op in _REPEATS:
        return [list(value[2])]  # type: ignore[index]
    if op is sre_constants.SUBPATTERN:
        return [list(value[3])]  # type: ignore[index]
    if op is sre_constants.BRANCH:
        return [list(branch) for branch in value[1]]  # type: ignore[index]
    return []


def _ambiguous_body(body: list[tuple[object, object]], state: object) -> bool:
    """Whether one pass of a loop can match more than one way: it can be empty while
    matching something, or it holds an unbounded repeat and nothing else it must match."""
    flat = _flatten_groups(body)
    if _min_width(flat, state) == 0 and _max_width(flat, state) > 0:
        return True
    return any(
        op in _REPEATS
        and value[1] == sre_constants.MAXREPEAT  # type: ignore[index]
        and _min_width(flat[:index] + flat[index + 1 :], state) == 0
        for index, (op, value) in enumerate(flat)
    )


def _flatten_groups(items: list[tuple[object, object]]) -> list[tuple[object, object]]:
    """A body's items, with plain groups opened up: `((a+))` is `a+`."""
    flat: list[tuple[object, object]] = []
    for op, value in items:
        if op is sre_constants.SUBPATTERN:
            flat.extend(_flatten_groups(list(value[3])))  # type: ignore[index]
        else:
            flat.append((op, value))
    return flat


def _min_width(items: list[tuple[object, object]], state: object) -> int:
    return sre_parse.SubPattern(state, items).getwidth()[0]


def _max_width(items: list[tuple[object, object]], state: object) -> int:
    return sre_parse.SubPattern(state, items).getwidth()[1]


def _probes(parsed: sre_parse.SubPattern) -> Iterator[str]:
    """Long runs of each character the pattern names, ended by one it does not expect."""
    characters: list[str] = []
    for op, value in _walk(list(parsed)):
        if op is sre_constants.LITERAL and len(characters) < 8:
            characters.append(chr(value))  # type: ignore[arg-type]
    for character in [*dict.fromkeys(characters), "a", " ", "0"]:
        yield character * _PROBE_LENGTH + "\u0000"
        yield (character + " ") * (_PROBE_LENGTH // 2) + "\u0000"


def _walk(items: list[tuple[object, object]]) -> Iterator[tuple[object, object]]:
    for op, value in items:
        yield op, value
        for child in _children(op, value):
            yield from _walk(child)
