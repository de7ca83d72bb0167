"""Answers about texts that recur from call to call, kept with a book's key tables.

What a key table finds in a text is a pure function of the two, and the texts
recur: a chat message is scanned on every turn until it leaves the scan depth,
an entry's content whenever the entry activates and feeds recursion. A memo
keeps the answers up to a bound on how many texts and how many characters it
holds; past it, it forgets everything at once (a bound against runaway memory,
not a policy: a book's own contents and a chat's recent messages fit well).
Tables are shared between threads: a lost update only costs a recomputation.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

MOST_CHARACTERS = 4_000_000


def text_key(text: str) -> tuple[int, int]:
    """A text's key in a memo: its hash and length, not the text, so that a memo never
    keeps users' messages alive. The hash is SipHash with this process's random key
    (Python's str hash), so no one can make two texts collide on purpose; by chance,
    two of the few thousand texts a memo holds collide with odds below 1 in 10^12."""
    return hash(text), len(text)


class TextMemo(Generic[V]):
    def __init__(self, *, most_texts: int, most_characters: int = MOST_CHARACTERS) -> None:
        self.most_texts = most_texts
        self.most_characters = most_characters
        self._answers: dict[Hashable, V] = {}
        self._characters = 0

    def get(self, key: Hashable) -> V | None:
        return self._answers.get(key)

    def put(self, key: Hashable, answer: V, *, characters: int) -> None:
        if characters > self.most_characters:
            return
        if len(self._answers) >= self.most_texts or self._characters + characters > self.most_characters:
            self._answers = {}
            self._characters = 0
        self._answers[key] = answer
        self._characters += characters
