"""Why each entry was or was not activated: what the prompt inspector shows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chats.prompting.lorebook.inputs import BookId


class Reason(StrEnum):
    # activated
    CONSTANT = "constant"
    KEY_MATCHED = "key matched"
    STICKY = "sticky"
    # not activated
    DISABLED = "disabled"
    NO_KEYS = "no keys"
    NOT_MATCHED = "no key matched"
    SECONDARY_FAILED = "secondary logic failed"
    DELAY = "delay"
    COOLDOWN = "cooldown"
    DELAY_UNTIL_RECURSION = "delay until recursion"
    GROUP_LOST = "group lost"
    PROBABILITY_FAILED = "probability roll failed"
    BUDGET_EXCEEDED = "budget exceeded"


@dataclass(frozen=True, slots=True)
class EntryReport:
    book_id: BookId
    uid: int | str | None
    comment: str
    activated: bool
    reason: Reason
    detail: str  # one sentence for people, e.g. 'key "dragon" matched'
    scan_pass: int = 0  # the pass that decided it (1: the first scan); 0: no pass reached it


def entry_label(*, book_id: BookId, uid: int | str | None, comment: str) -> str:
    """How a detail names another entry, e.g. 'uid 3 "Weather" (book 7)'."""
    named = f' "{comment}"' if comment else ""
    return f"uid {uid}{named} (book {book_id})"
