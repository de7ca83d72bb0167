"""Lorebook keys, parsed once: plain text (substring or whole word) or a `/pattern/flags` regex.

A key is matched against a `KeyText`: a piece of the scan buffer (`KeyPiece`),
or a whole buffer (`KeyHaystack`) made of pieces joined by newlines. A key that
cannot straddle a newline matches the buffer exactly when it matches one of its
pieces, so it asks the buffer to try the pieces (each remembers its answers
across the passes of one activation) instead of searching the ever longer
joined text; only a key that can straddle one searches the joined text.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Protocol

import regex

from characters.cards.lorebook.js_regex import js_regex_compile
from characters.cards.lorebook.regex_limits import regex_find

WORD_RUN = re.compile(r"\w+")
_WHOLE_WORD = re.compile(r"\w+\Z")
_SPACE = re.compile(r"\s")
_MOST_WINDOWS = 64  # past that many occurrences one search of the rest is cheaper


class KeyText(Protocol):
    def text(self, case_sensitive: bool) -> str: ...  # lower-cased unless case_sensitive

    def contains_word(self, form: str, case_sensitive: bool) -> bool: ...  # for forms of word characters

    def folded(self) -> str: ...  # text_fold() of the raw text

    def fold_exceptions(self) -> bool: ...  # has_fold_exceptions() of the raw text


class KeyPiece(KeyText, Protocol):
    def tokens(self, case_sensitive: bool) -> Set[str]: ...  # its maximal runs of word characters

    def lacks_word(self, form: str, case_sensitive: bool) -> bool: ...  # surely not in it; False: unknown


class KeyHaystack(KeyText, Protocol):
    def any_piece(self, key: Key, *, case_sensitive: bool, whole_words: bool) -> bool: ...


# Python's case-insensitive regex matching pairs these with ASCII letters although
# str.lower() does not (capital dotted I, dotless i, long s).
_FOLD_EXCEPTIONS = "\u0130\u0131\u017f"
_ASCII_FOLDS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})


def has_fold_exceptions(text: str) -> bool:
    return any(character in text for character in _FOLD_EXCEPTIONS)


def text_fold(text: str) -> str:
    """Text in which a case-insensitive regex's ASCII literal, lower-cased, is found wherever it can match."""
    return text.translate(_ASCII_FOLDS).lower()


@dataclass(frozen=True, eq=False, slots=True)
class PlainKey:
    """A key matched as text: a substring, or a whole word when that setting is on."""

    text: str
    lower: str
    is_word: bool  # only word characters, lower-cased too: it can never straddle two words
    has_space: bool  # whole-word matching falls back to a substring match
    multiline: bool  # holds a newline: it can straddle two pieces of a scan buffer
    _word_runs: dict[bool, tuple[str, ...]] = field(default_factory=dict)
    _whole_patterns: dict[bool, re.Pattern[str]] = field(default_factory=dict)

    def form(self, case_sensitive: bool) -> str:
        return self.text if case_sensitive else self.lower

    def anchor(self, case_sensitive: bool) -> str:
        """Its longest run of word characters: any occurrence of the key contains it."""
        runs = self.word_runs(case_sensitive)
        return runs[0] if runs else ""

    def word_runs(self, case_sensitive: bool) -> tuple[str, ...]:
        """Its runs of word characters, longest first: each lies in one word of any text holding the key."""
        runs = self._word_runs.get(case_sensitive)
        if runs is None:
            runs = tuple(sorted(WORD_RUN.findall(self.form(case_sensitive)), key=len, reverse=True))
            self._word_runs[case_sensitive] = runs
        return runs

    def matches(self, haystack: KeyHaystack, *, case_sensitive: bool, whole_words: bool) -> bool:
        if self.multiline:
            return self._found_in(haystack, case_sensitive=case_sensitive, whole_words=whole_words)
        return haystack.any_piece(self, case_sensitive=case_sensitive, whole_words=whole_words)

    def piece_matches(self, piece: KeyPiece, *, case_sensitive: bool, whole_words: bool) -> bool:
        if self.is_word:  # a word key is a whole word exactly when it is one of the piece's words
            form = self.form(case_sensitive)
            if whole_words:
                return form in piece.tokens(case_sensitive)
            return piece.contains_word(form, case_sensitive)
        runs = self.word_runs(case_sensitive)
        if runs and not piece.contains_word(runs[0], case_sensitive):
            return False
        # A set lookup per other word spares most searches of a long piece (the recursion text).
        if any(piece.lacks_word(run, case_sensitive) for run in runs[1:]):
            return False
        return self._found_in(piece, case_sensitive=case_sensitive, whole_words=whole_words)

    def _found_in(self, text: KeyText, *, case_sensitive: bool, whole_words: bool) -> bool:
        form = self.form(case_sensitive)
        if not whole_words or self.has_space:
            return form in text.text(case_sensitive)
        return self.whole_word_pattern(case_sensitive).search(text.text(case_sensitive)) is not None

    def whole_word_pattern(self, case_sensitive: bool) -> re.Pattern[str]:
        pattern = self._whole_patterns.get(case_sensitive)
        if pattern is None:
            # SillyTavern's own boundaries, which count punctuation as a boundary (unlike \b).
            pattern = re.compile(rf"(?:^|\W){re.escape(self.form(case_sensitive))}(?:$|\W)")
            self._whole_patterns[case_sensitive] = pattern
        return pattern


@dataclass(frozen=True, eq=False, slots=True)
class RegexKey:
    """A `/pattern/flags` key (see js_regex); `pattern` is None when it does not compile.
    Every search runs within the time limits of regex_limits."""

    text: str
    pattern: regex.Pattern[str] | None
    error: str = ""
    sticky: bool = False
    ignore_case: bool = False
    literal: str = ""
    anchor: str = ""
    piecewise: bool = False
    window: int = 0

    def matches(self, haystack: KeyHaystack, *, case_sensitive: bool, whole_words: bool) -> bool:
        if self.pattern is None:
            return False
        if self.piecewise:
            return haystack.any_piece(self, case_sensitive=case_sensitive, whole_words=whole_words)
        return self.piece_matches(haystack, case_sensitive=case_sensitive, whole_words=whole_words)

    def piece_matches(self, piece: KeyText, *, case_sensitive: bool, whole_words: bool) -> bool:
        """Search `piece` (the regex carries its own case flag and ignores the whole-word setting)."""
        if self.pattern is None:
            return False
        # The anchor sits inside one word of the lower-cased text, but for the fold exceptions.
        if self.anchor and not piece.fold_exceptions() and not piece.contains_word(self.anchor, False):
            return False
        text = piece.text(True)
        if not self.literal:
            return regex_find(self.text, self.pattern, text, sticky=self.sticky) is not None
        literal_text = piece.folded() if self.ignore_case else text  # same length as `text`
        occurrence = literal_text.find(self.literal)
        if occurrence < 0:
            return False
        if not self.window:
            return regex_find(self.text, self.pattern, text, sticky=self.sticky) is not None
        return self._search_around(text, literal_text, occurrence)

    def _search_around(self, text: str, literal_text: str, occurrence: int) -> bool:
        """Search only within `window` characters of each occurrence of the literal.

        Any match holds an occurrence and is at most `window` long, so it lies inside
        that occurrence's window. A match found there that stops short of the window's
        end is a real match; one that reaches it might owe that to the cut (`$`, `\b`),
        so the whole text decides.
        """
        pattern = self.pattern
        if pattern is None:
            return False
        width, length = self.window, len(text)
        for _ in range(_MOST_WINDOWS):
            start, end = max(0, occurrence - width), min(length, occurrence + width + 1)
            found = regex_find(self.text, pattern, text, start, end)
            if found is not None:
                return found.end() < end or end == length or regex_find(self.text, pattern, text) is not None
            occurrence = literal_text.find(self.literal, occurrence + 1)
            if occurrence < 0:
                return False
        return regex_find(self.text, pattern, text, max(0, occurrence - width)) is not None


Key = PlainKey | RegexKey


def key_parse(raw: str) -> Key | None:
    """The key `raw` stands for, or None for a blank one (blank keys are ignored)."""
    text = raw.strip()
    if not text:
        return None
    regex = js_regex_compile(text)
    if regex is not None:
        return RegexKey(
            text=text,
            pattern=regex.pattern,
            error=regex.error,
            sticky=regex.sticky,
            ignore_case=regex.ignore_case,
            literal=regex.literal,
            anchor=regex.anchor,
            piecewise=regex.piecewise,
            window=regex.window,
        )
    return PlainKey(
        text=text,
        lower=text.lower(),
        # "İ" lower-cases to "i" and a combining dot, which is no word character.
        is_word=_WHOLE_WORD.match(text) is not None and _WHOLE_WORD.match(text.lower()) is not None,
        has_space=_SPACE.search(text) is not None,
        multiline="\n" in text,
    )
