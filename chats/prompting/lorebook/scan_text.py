"""The texts keys are matched against, each prepared once per call.

A `ScanText` is one piece (a chat message, a persona description, the content of
the entries one pass activated); a `Haystack` is the pieces one entry reads in
one pass, joined with newlines as SillyTavern joins its scan buffer.

Matching thousands of keys fast rests on two facts. A key made only of word
characters can never straddle two words, so it occurs in a text exactly when it
is a substring of one of the text's words (and, matched as a whole word, exactly
when it *is* one of them): the set of those word substrings, within the lengths
keys have, is built once per piece and intersected with a book's key set in C.
And a key that cannot straddle a newline is in a haystack exactly when it is in
one of its pieces, so a haystack answers from its pieces' remembered answers.

A recursion pass reads the haystack of the pass before plus the text that pass
activated. Such a haystack is built on the earlier one (its `base`) and answers
from the base's answers and its `added` pieces alone, so each pass reads only
the new text, however many passes came before. Only keys that can straddle a
newline (see `keys`) still read the joined text, which is what makes a key
spanning the old buffer and the new text match as it did on the joined buffer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain

from chats.prompting.lorebook.keys import WORD_RUN, Key, has_fold_exceptions, text_fold

LengthRange = tuple[int, int]  # shortest and longest word-key length a call looks up


@dataclass(frozen=True, slots=True)
class Finds:
    """What one key table (key_table.KeyTable) found in one piece: the bits of the indexed primary
    and secondary keys there, by entry index, and the regex anchors present (and, in a piece of
    sections, the sections holding each)."""

    primary: dict[int, int]
    secondary: dict[int, int]
    regex_anchors: frozenset[str]
    regex_sections: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HaystackFinds:
    """The same for a haystack: its pieces' bits ORed, and the pieces holding each regex anchor."""

    primary: dict[int, int]
    secondary: dict[int, int]
    regex_pieces: dict[str, tuple[ScanText, ...]]


class _Text:
    """What pieces and haystacks share: lazily computed views of one text."""

    __slots__ = ("_fold_exceptions", "_folded", "_text")

    def __init__(self) -> None:
        self._text: dict[bool, str] = {}
        self._folded: str | None = None
        self._fold_exceptions: bool | None = None

    def _raw(self) -> str:
        raise NotImplementedError

    def text(self, case_sensitive: bool) -> str:
        text = self._text.get(case_sensitive)
        if text is None:
            text = self._raw() if case_sensitive else self.text(True).lower()
            self._text[case_sensitive] = text
        return text

    def folded(self) -> str:
        if self._folded is None:
            self._folded = text_fold(self.text(True))
        return self._folded


class ScanText(_Text):
    """One piece; a recursion piece also keeps the entry contents it joins (`sections`): they
    recur turn after turn, so key tables remember what they find in each (see key_table)."""

    __slots__ = ("_key_results", "_substrings", "_tokens", "_word_lookup", "finds", "raw", "sections")

    def __init__(self, raw: str, *, sections: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.raw = raw
        self.sections = sections
        self.finds: dict[object, Finds] = {}  # by the key table that found them (for one call)
        self._tokens: dict[bool, Set[str]] = {}
        self._substrings: dict[tuple[bool, LengthRange], Set[str]] = {}
        self._word_lookup: dict[bool, tuple[int, int, Set[str]]] = {}  # the substrings, by case
        self._key_results: dict[tuple[Key, bool, bool], bool] = {}

    @classmethod
    def joined(cls, sections: Sequence[str]) -> ScanText:
        """The piece of `sections` joined by newlines, as SillyTavern joins its recursion buffer."""
        return cls("\n".join(sections), sections=tuple(sections))

    def _raw(self) -> str:
        return self.raw

    def tokens(self, case_sensitive: bool) -> Set[str]:
        """Its maximal runs of word characters."""
        tokens = self._tokens.get(case_sensitive)
        if tokens is None:
            tokens = frozenset(WORD_RUN.findall(self.text(case_sensitive)))
            self._tokens[case_sensitive] = tokens
        return tokens

    def substrings(self, case_sensitive: bool, lengths: LengthRange) -> Set[str]:
        """Every substring of every word of the text whose length is within `lengths`."""
        cache_key = (case_sensitive, lengths)
        found = self._substrings.get(cache_key)
        if found is None:
            shortest, longest = lengths
            found = frozenset(
                chain.from_iterable(
                    (_cached_word_substrings if len(token) <= _CACHED_WORD_LENGTH else _word_substrings)(
                        token, shortest, longest
                    )
                    for token in self.tokens(case_sensitive)
                    if len(token) >= shortest
                )
            )
            self._substrings[cache_key] = found
            self._word_lookup[case_sensitive] = (*lengths, found)
        return found

    def contains_word(self, form: str, case_sensitive: bool) -> bool:
        """Whether `form`, made only of word characters, occurs in the text: a set lookup when it can be."""
        lookup = self._word_lookup.get(case_sensitive)
        if lookup is not None and lookup[0] <= len(form) <= lookup[1]:
            return form in lookup[2]
        return form in self.text(case_sensitive)

    def lacks_word(self, form: str, case_sensitive: bool) -> bool:
        """Whether `form`, made only of word characters, is surely not in the text (a set lookup);
        False when only a search would tell."""
        lookup = self._word_lookup.get(case_sensitive)
        return lookup is not None and lookup[0] <= len(form) <= lookup[1] and form not in lookup[2]

    def fold_exceptions(self) -> bool:
        if self._fold_exceptions is None:
            self._fold_exceptions = has_fold_exceptions(self.raw)
        return self._fold_exceptions

    def key_matches(self, key: Key, *, case_sensitive: bool, whole_words: bool) -> bool:
        """`key.piece_matches(self, ...)`, remembered for the rest of the activation."""
        cache_key = (key, case_sensitive, whole_words)
        found = self._key_results.get(cache_key)
        if found is None:
            found = key.piece_matches(self, case_sensitive=case_sensitive, whole_words=whole_words)
            self._key_results[cache_key] = found
        return found


class Haystack(_Text):
    """The pieces one entry scans in one pass (SillyTavern: newest message first, then extras, then recursion).

    `base`, when given, is a haystack whose pieces begin these: this one then asks
    it first, and searches only its `added` pieces."""

    __slots__ = ("_facts", "added", "base", "finds", "parts")

    def __init__(self, parts: Sequence[ScanText], *, base: Haystack | None = None) -> None:
        super().__init__()
        self.parts = tuple(parts)
        if base is not None and self.parts[: len(base.parts)] != base.parts:
            raise ValueError("a haystack's base must hold the first of its pieces")
        self.base = base
        self.added = self.parts[len(base.parts) :] if base is not None else self.parts
        # Whether a key matches a piece (key, case, whole words) or a word is in one (form, case).
        self._facts: dict[tuple[Key, bool, bool] | tuple[str, bool], bool] = {}
        self.finds: dict[object, HaystackFinds] = {}  # by the key table that found them

    def _raw(self) -> str:
        return "\n".join(part.raw for part in self.parts)

    def any_piece(self, key: Key, *, case_sensitive: bool, whole_words: bool) -> bool:
        """Whether `key` matches one of the pieces."""
        cache_key = (key, case_sensitive, whole_words)
        found = self._facts.get(cache_key)
        if found is None:
            found = self._fact(
                cache_key,
                lambda pieces: any(
                    piece.key_matches(key, case_sensitive=case_sensitive, whole_words=whole_words)
                    for piece in pieces
                ),
            )
        return found

    def remembered(
        self, key: Key, find: Callable[[], bool], *, case_sensitive: bool, whole_words: bool
    ) -> bool:
        """`any_piece`, with `find()` answering it when the haystack does not know yet (a caller
        that knows where the key can be)."""
        cache_key = (key, case_sensitive, whole_words)
        found = self._facts.get(cache_key)
        if found is None:
            found = find()
            self._facts[cache_key] = found
        return found

    def contains_word(self, form: str, case_sensitive: bool) -> bool:
        """Whether `form`, made only of word characters (never a newline), is in one of the pieces."""
        cache_key = (form, case_sensitive)
        found = self._facts.get(cache_key)
        if found is None:
            found = self._fact(
                cache_key, lambda pieces: any(piece.contains_word(form, case_sensitive) for piece in pieces)
            )
        return found

    def fold_exceptions(self) -> bool:
        if self._fold_exceptions is None:  # the newlines joining the pieces are none
            self._fold_exceptions = any(part.fold_exceptions() for part in self.parts)
        return self._fold_exceptions

    def unknown_layers(self, knows: Callable[[Haystack], bool]) -> list[Haystack]:
        """This haystack and its bases down to the first that `knows` (left out), the lowest first.

        A loop, not recursion: a long chain of recursion passes must not reach Python's limit."""
        layers: list[Haystack] = []
        haystack: Haystack | None = self
        while haystack is not None and not knows(haystack):
            layers.append(haystack)
            haystack = haystack.base
        layers.reverse()
        return layers

    def _fact(
        self,
        cache_key: tuple[Key, bool, bool] | tuple[str, bool],
        in_pieces: Callable[[tuple[ScanText, ...]], bool],
    ) -> bool:
        """A fact true of the haystack when true of one piece, from the bases' answers up."""
        layers = self.unknown_layers(lambda layer: cache_key in layer._facts)
        below = layers[0].base
        found = below is not None and below._facts[cache_key]
        for layer in layers:
            found = found or in_pieces(layer.added)
            layer._facts[cache_key] = found
        return found


def _word_substrings(word: str, shortest: int, longest: int) -> tuple[str, ...]:
    return tuple(
        word[start:end]
        for start in range(len(word) - shortest + 1)
        for end in range(start + shortest, min(len(word), start + longest) + 1)
    )


# Words recur across messages and turns; long ones (links, keyboard mashing) rarely do and cost most.
_CACHED_WORD_LENGTH = 20
_cached_word_substrings = lru_cache(maxsize=8192)(_word_substrings)
