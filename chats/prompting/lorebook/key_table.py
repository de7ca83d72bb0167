"""A profile's keys arranged for lookup: what a pass asks first, for all the profile's entries at once.

Plain keys that cannot straddle a newline (most keys) are *indexed*: found piece
by piece, each piece once per call, all of them at once, and kept on the piece as
bits (bit i: the entry's i-th primary, or secondary, key is there). A haystack
ORs its pieces' bits on top of its base's (see scan_text), so a recursion pass
looks up only the text it adds, and an entry's first key, its secondary logic and
its group score read bits instead of searching.

Regex keys stay lazy, as SillyTavern tries them: one is searched only when its
answer decides something, and then only in the pieces holding its anchor (the
table notes which, per haystack). Keys holding a newline search the joined text.

What a table finds in an entry's content is a pure function of the two, and the
contents come back as recursion text turn after turn: the table remembers it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from itertools import chain

from characters.cards.lorebook.regex_limits import regex_timed_out
from chats.prompting.lorebook.keys import Key, PlainKey, RegexKey
from chats.prompting.lorebook.scan_text import Finds, Haystack, HaystackFinds, LengthRange, ScanText
from chats.prompting.lorebook.text_memo import TextMemo, text_key

Bits = int  # bit i set: key i of the entry's primary (or secondary) keys is found
KeySearch = Callable[[Key], bool]  # whether a key the bits do not cover is in the haystack


def key_indexed(key: Key) -> bool:
    """Whether the key is looked up through a `KeyIndex` (else it is searched for, entry by entry)."""
    return isinstance(key, PlainKey) and not key.multiline


def indexed_bits(keys: Sequence[Key]) -> Bits:
    return sum(1 << position for position, key in enumerate(keys) if key_indexed(key))


@dataclass(frozen=True, eq=False)
class KeyIndex:
    """Indexed keys of many entries; each (key, entry index, bit) found all at once in a piece."""

    exact: dict[str, tuple[tuple[int, Bits], ...]]  # word keys, by form: found by set membership alone
    exact_forms: frozenset[str]
    anchored: dict[str, tuple[tuple[PlainKey, int, Bits], ...]]  # other keys, by their longest word
    anchor_forms: frozenset[str]
    unanchored: tuple[tuple[PlainKey, int, Bits], ...]  # keys with no word character: always checked

    def piece_bits(
        self, piece: ScanText, *, case_sensitive: bool, whole_words: bool, lengths: LengthRange
    ) -> dict[int, Bits]:
        """Every indexed key found in `piece`, as bits by entry index."""
        found: dict[int, Bits] = {}
        if self.exact_forms:
            words = piece.tokens(case_sensitive) if whole_words else piece.substrings(case_sensitive, lengths)
            for form in self.exact_forms & words:
                for index, bits in self.exact[form]:
                    found[index] = found.get(index, 0) | bits
        checks: Iterable[tuple[PlainKey, int, Bits]] = self.unanchored
        if self.anchor_forms:
            present = self.anchor_forms & piece.substrings(case_sensitive, lengths)
            checks = chain(checks, *(self.anchored[anchor] for anchor in present))
        for key, index, bits in checks:  # each asked once per piece: nothing to remember
            if key.piece_matches(piece, case_sensitive=case_sensitive, whole_words=whole_words):
                found[index] = found.get(index, 0) | bits
        return found


@dataclass(frozen=True, eq=False)
class KeyTable:
    """A profile's keys under one case and whole-word setting, arranged for lookup."""

    whole_words: bool
    case_sensitive: bool
    primary: KeyIndex
    secondary: KeyIndex
    spanning: tuple[tuple[PlainKey, int], ...]  # primary keys holding a newline: the joined text tells
    regex_anchored: dict[str, tuple[tuple[RegexKey, int], ...]]  # primary regex keys, by RegexKey.anchor
    regex_unanchored: tuple[tuple[RegexKey, int], ...]
    regex_anchors: frozenset[str]  # of the primary and secondary regex keys: noted piece by piece
    lengths: LengthRange | None  # word lengths looked up among substrings; None: none are
    _texts: TextMemo[Finds]  # what it found in the texts it scanned (messages, extras, contents)
    _regex_texts: TextMemo[bool]  # whether a piecewise regex key matches a text

    def hits(self, haystack: Haystack, lengths: LengthRange, skip: Set[int]) -> dict[int, Bits]:
        """The members with a primary key in `haystack`, with the bits of their indexed primary keys
        found (0 when only other keys are); regex keys of `skip`ped ones are not searched.

        `lengths` must cover the table's own and stay the same for the pieces' life (one call)."""
        case, whole = self.case_sensitive, self.whole_words
        finds = self.finds(haystack, lengths)
        found = dict(finds.primary)
        for plain_key, index in self.spanning:
            if index not in found and plain_key.matches(haystack, case_sensitive=case, whole_words=whole):
                found[index] = 0
        regex_keys: Iterable[tuple[RegexKey, int]] = self.regex_unanchored
        if self.regex_anchored:
            if haystack.fold_exceptions():
                regex_keys = chain(regex_keys, *self.regex_anchored.values())
            else:
                present = self.regex_anchored.keys() & finds.regex_pieces.keys()
                regex_keys = chain(regex_keys, *(self.regex_anchored[anchor] for anchor in present))
        search = self.searcher(haystack, lengths)
        for regex_key, index in regex_keys:
            if index not in found and index not in skip and search(regex_key):
                found[index] = 0
        return found

    def searcher(self, haystack: Haystack, lengths: LengthRange) -> KeySearch:
        """Searches `haystack` for one key: a regex with an anchor only in the pieces holding it."""
        options = {"case_sensitive": self.case_sensitive, "whole_words": self.whole_words}
        regex_pieces = self.finds(haystack, lengths).regex_pieces
        anywhere = haystack.fold_exceptions()  # the anchors do not hold where these letters are

        def search(key: Key) -> bool:
            if isinstance(key, RegexKey) and key.piecewise and key.anchor and not anywhere:
                return haystack.remembered(
                    key,
                    lambda: any(
                        self._regex_in_piece(key, piece) for piece in regex_pieces.get(key.anchor, ())
                    ),
                    **options,
                )
            return key.matches(haystack, **options)

        return search

    def _regex_in_piece(self, key: RegexKey, piece: ScanText) -> bool:
        """Whether a piecewise regex key of the table, whose anchor `piece` holds, matches there."""
        if not piece.sections:
            return self._regex_in_text(key, piece.raw, piece)
        texts = piece.finds[self].regex_sections.get(key.anchor, ())
        return any(self._regex_in_text(key, text, None) for text in texts)

    def _regex_in_text(self, key: RegexKey, text: str, piece: ScanText | None) -> bool:
        """Whether the key matches `text` (`piece`, if there is one), remembered across calls unless
        the search ran out of time (then it counts as no match for this call only)."""
        found = self._regex_texts.get((key, *text_key(text)))
        if found is None:
            options = {"case_sensitive": self.case_sensitive, "whole_words": self.whole_words}
            found = key.piece_matches(piece or ScanText(text), **options)
            if not regex_timed_out(key.text):
                self._regex_texts.put((key, *text_key(text)), found, characters=len(text))
        return found

    def finds(self, haystack: Haystack, lengths: LengthRange) -> HaystackFinds:
        """The indexed keys and regex anchors in `haystack`: its base's, and its added pieces'."""
        finds = haystack.finds.get(self)
        if finds is not None:
            return finds
        layers = haystack.unknown_layers(lambda layer: self in layer.finds)
        below = layers[0].base
        finds = _NOTHING_IN_HAYSTACK if below is None else below.finds[self]
        for layer in layers:
            added = [(piece, self._piece_finds(piece, lengths)) for piece in layer.added]
            regex_pieces = finds.regex_pieces
            if any(piece_finds.regex_anchors for _, piece_finds in added):
                holding = {anchor: list(pieces) for anchor, pieces in regex_pieces.items()}
                for piece, piece_finds in added:
                    for anchor in piece_finds.regex_anchors:
                        holding.setdefault(anchor, []).append(piece)
                regex_pieces = {anchor: tuple(pieces) for anchor, pieces in holding.items()}
            finds = HaystackFinds(
                primary=_or_merged(finds.primary, [piece_finds.primary for _, piece_finds in added]),
                secondary=_or_merged(finds.secondary, [piece_finds.secondary for _, piece_finds in added]),
                regex_pieces=regex_pieces,
            )
            layer.finds[self] = finds
        return finds

    def _piece_finds(self, piece: ScanText, lengths: LengthRange) -> Finds:
        finds = piece.finds.get(self)
        if finds is None:
            if piece.sections:
                sections = [(text, self._text_finds(text, None, lengths)) for text in piece.sections]
                regex_sections: dict[str, list[str]] = {}
                for text, section in sections:
                    for anchor in section.regex_anchors:
                        regex_sections.setdefault(anchor, []).append(text)
                finds = Finds(
                    primary=_or_merged({}, [section.primary for _, section in sections]),
                    secondary=_or_merged({}, [section.secondary for _, section in sections]),
                    regex_anchors=frozenset(regex_sections),
                    regex_sections={anchor: tuple(texts) for anchor, texts in regex_sections.items()},
                )
            else:
                finds = self._text_finds(piece.raw, piece, lengths)
            piece.finds[self] = finds
        return finds

    def _text_finds(self, text: str, piece: ScanText | None, lengths: LengthRange) -> Finds:
        """What the table finds in `text` (`piece`, if there is one), remembered across calls."""
        finds = self._texts.get(text_key(text))
        if finds is None:
            finds = (
                self._scan(piece, lengths)
                if piece is not None
                else self._scan(ScanText(text), self.lengths or (1, 1))
            )
            self._texts.put(text_key(text), finds, characters=len(text))
        return finds

    def _scan(self, piece: ScanText, lengths: LengthRange) -> Finds:
        options = {"case_sensitive": self.case_sensitive, "whole_words": self.whole_words}
        return Finds(
            primary=self.primary.piece_bits(piece, lengths=lengths, **options),
            secondary=self.secondary.piece_bits(piece, lengths=lengths, **options),
            regex_anchors=(
                self.regex_anchors & piece.substrings(False, lengths) if self.regex_anchors else frozenset()
            ),
        )


_NOTHING_IN_HAYSTACK = HaystackFinds(primary={}, secondary={}, regex_pieces={})


def _or_merged(first: dict[int, Bits], more: list[dict[int, Bits]]) -> dict[int, Bits]:
    """The bits of each entry, ORed over the dicts (which are left as they are)."""
    more = [found for found in more if found]
    if not more:
        return first
    if not first and len(more) == 1:
        return more[0]
    merged = dict(first)
    for found in more:
        for index, bits in found.items():
            merged[index] = merged.get(index, 0) | bits
    return merged


KeyedEntry = tuple[int, Sequence[Key], Sequence[Key]]  # entry index, primary keys, secondary keys


def key_table_build(entries: Iterable[KeyedEntry], *, case_sensitive: bool, whole_words: bool) -> KeyTable:
    primary, secondary = _IndexBuilder(case_sensitive), _IndexBuilder(case_sensitive)
    spanning: list[tuple[PlainKey, int]] = []
    regex_anchored: dict[str, list[tuple[RegexKey, int]]] = {}
    regex_unanchored: list[tuple[RegexKey, int]] = []
    regex_anchors: set[str] = set()
    members = 0
    for index, primary_keys, secondary_keys in entries:
        members += 1
        for position, key in enumerate(primary_keys):
            if isinstance(key, RegexKey):
                if key.pattern is not None and key.anchor:
                    regex_anchored.setdefault(key.anchor, []).append((key, index))
                elif key.pattern is not None:
                    regex_unanchored.append((key, index))
            elif key.multiline:
                spanning.append((key, index))
            else:
                primary.add(key, index, position)
        for position, key in enumerate(secondary_keys):
            if isinstance(key, PlainKey) and not key.multiline:  # key_indexed
                secondary.add(key, index, position)
            elif isinstance(key, RegexKey) and key.pattern is not None and key.anchor:
                regex_anchors.add(key.anchor)
    regex_anchors.update(regex_anchored)
    looked_up = [*primary.anchored, *secondary.anchored, *regex_anchors]
    if not whole_words:
        looked_up += [*primary.exact, *secondary.exact]
    return KeyTable(
        whole_words=whole_words,
        case_sensitive=case_sensitive,
        primary=primary.build(),
        secondary=secondary.build(),
        spanning=tuple(spanning),
        regex_anchored={anchor: tuple(keys) for anchor, keys in regex_anchored.items()},
        regex_unanchored=tuple(regex_unanchored),
        regex_anchors=frozenset(regex_anchors),
        lengths=(min(map(len, looked_up)), max(map(len, looked_up))) if looked_up else None,
        # Room for every content of the book twice over, and a good many messages.
        _texts=TextMemo(most_texts=2 * members + 1024),
        _regex_texts=TextMemo(most_texts=4 * members + 4096),
    )


class _IndexBuilder:
    def __init__(self, case_sensitive: bool) -> None:
        self.case_sensitive = case_sensitive
        self.exact: dict[str, dict[int, Bits]] = {}
        self.anchored: dict[str, list[tuple[PlainKey, int, Bits]]] = {}
        self.unanchored: list[tuple[PlainKey, int, Bits]] = []

    def add(self, key: PlainKey, index: int, position: int) -> None:
        bit = 1 << position
        if key.is_word:
            by_index = self.exact.setdefault(key.form(self.case_sensitive), {})
            by_index[index] = by_index.get(index, 0) | bit  # "Dragon" and "dragon", case ignored
        elif anchor := key.anchor(self.case_sensitive):
            self.anchored.setdefault(anchor, []).append((key, index, bit))
        else:
            self.unanchored.append((key, index, bit))

    def build(self) -> KeyIndex:
        return KeyIndex(
            exact={form: tuple(by_index.items()) for form, by_index in self.exact.items()},
            exact_forms=frozenset(self.exact),
            anchored={anchor: tuple(keys) for anchor, keys in self.anchored.items()},
            anchor_forms=frozenset(self.anchored),
            unanchored=tuple(self.unanchored),
        )
