"""The texts keys are matched against, each prepared once per call.

A `ScanText` is one piece (a chat message, a persona description, the content of
the entries one pass activated); a `Haystack` is the pieces one entry reads in
one pass, joined with newlines as SillyTavern joins its scan buffer.

Matching thousands of keys fast rests on one fact: a key made only of word
characters can never straddle two words, so it occurs in a text exactly when it
is a substring of one of the text's words (and, matched as a whole word, exactly
when it *is* one of them). The set of those word substrings, within the lengths
keys have, is built once per piece and intersected with a book's key set in C.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from functools import lru_cache
from itertools import chain

from chats.prompting.lorebook.keys import WORD_RUN, Key, has_fold_exceptions, text_fold

LengthRange = tuple[int, int]  # shortest and longest word-key length a call looks up


class _Text:
    """What pieces and haystacks share: lazily computed views of one text."""

    __slots__ = ("_fold_exceptions", "_folded", "_substrings", "_text", "_tokens", "_word_lookup")

    def __init__(self) -> None:
        self._text: dict[bool, str] = {}
        self._tokens: dict[bool, Set[str]] = {}
        self._substrings: dict[tuple[bool, LengthRange], Set[str]] = {}
        self._word_lookup: dict[bool, tuple[int, int, Set[str]]] = {}  # the substrings, by case
        self._folded: str | None = None
        self._fold_exceptions: bool | None = None

    def _raw(self) -> str:
        raise NotImplementedError

    def _compute_tokens(self, case_sensitive: bool) -> Set[str]:
        raise NotImplementedError

    def _compute_substrings(self, case_sensitive: bool, lengths: LengthRange) -> Set[str]:
        raise NotImplementedError

    def text(self, case_sensitive: bool) -> str:
        text = self._text.get(case_sensitive)
        if text is None:
            text = self._raw() if case_sensitive else self.text(True).lower()
            self._text[case_sensitive] = text
        return text

    def tokens(self, case_sensitive: bool) -> Set[str]:
        tokens = self._tokens.get(case_sensitive)
        if tokens is None:
            tokens = self._compute_tokens(case_sensitive)
            self._tokens[case_sensitive] = tokens
        return tokens

    def substrings(self, case_sensitive: bool, lengths: LengthRange) -> Set[str]:
        """Every substring of every word of the text whose length is within `lengths`."""
        cache_key = (case_sensitive, lengths)
        found = self._substrings.get(cache_key)
        if found is None:
            found = self._compute_substrings(case_sensitive, lengths)
            self._substrings[cache_key] = found
            self._word_lookup[case_sensitive] = (*lengths, found)
        return found

    def contains_word(self, form: str, case_sensitive: bool) -> bool:
        """Whether `form`, made only of word characters, occurs in the text: a set lookup when it can be."""
        lookup = self._word_lookup.get(case_sensitive)
        if lookup is not None and lookup[0] <= len(form) <= lookup[1]:
            return form in lookup[2]
        return form in self.text(case_sensitive)

    def folded(self) -> str:
        if self._folded is None:
            self._folded = text_fold(self.text(True))
        return self._folded

    def fold_exceptions(self) -> bool:
        if self._fold_exceptions is None:
            self._fold_exceptions = has_fold_exceptions(self.text(True))
        return self._fold_exceptions


class ScanText(_Text):
    __slots__ = ("_key_results", "raw")

    def __init__(self, raw: str) -> None:
        super().__init__()
        self.raw = raw
        self._key_results: dict[tuple[Key, bool, bool], bool] = {}

    def _raw(self) -> str:
        return self.raw

    def _compute_tokens(self, case_sensitive: bool) -> Set[str]:
        return frozenset(WORD_RUN.findall(self.text(case_sensitive)))

    def _compute_substrings(self, case_sensitive: bool, lengths: LengthRange) -> Set[str]:
        shortest, longest = lengths
        return frozenset(
            chain.from_iterable(
                (_cached_word_substrings if len(token) <= _CACHED_WORD_LENGTH else _word_substrings)(
                    token, shortest, longest
                )
                for token in self.tokens(case_sensitive)
                if len(token) >= shortest
            )
        )

    def key_matches(self, key: Key, *, case_sensitive: bool, whole_words: bool) -> bool:
        """`key.piece_matches(self, ...)`, remembered for the rest of the activation."""
        cache_key = (key, case_sensitive, whole_words)
        found = self._key_results.get(cache_key)
        if found is None:
            found = key.piece_matches(self, case_sensitive=case_sensitive, whole_words=whole_words)
            self._key_results[cache_key] = found
        return found


class Haystack(_Text):
    """The pieces one entry scans in one pass (SillyTavern: newest message first, then extras, then recursion)."""

    __slots__ = ("parts",)

    def __init__(self, parts: Sequence[ScanText]) -> None:
        super().__init__()
        self.parts = tuple(parts)

    def _raw(self) -> str:
        return "\n".join(part.raw for part in self.parts)

    def _compute_tokens(self, case_sensitive: bool) -> Set[str]:
        return _union([part.tokens(case_sensitive) for part in self.parts])

    def _compute_substrings(self, case_sensitive: bool, lengths: LengthRange) -> Set[str]:
        return _union([part.substrings(case_sensitive, lengths) for part in self.parts])

    def any_piece(self, key: Key, *, case_sensitive: bool, whole_words: bool) -> bool:
        return any(
            part.key_matches(key, case_sensitive=case_sensitive, whole_words=whole_words)
            for part in self.parts
        )


def _word_substrings(word: str, shortest: int, longest: int) -> tuple[str, ...]:
    return tuple(
        word[start:end]
        for start in range(len(word) - shortest + 1)
        for end in range(start + shortest, min(len(word), start + longest) + 1)
    )


# Words recur across messages and turns; long ones (links, keyboard mashing) rarely do and cost most.
_CACHED_WORD_LENGTH = 20
_cached_word_substrings = lru_cache(maxsize=8192)(_word_substrings)


def _union(sets: list[Set[str]]) -> Set[str]:
    if len(sets) == 1:
        return sets[0]
    return frozenset().union(*sets)
