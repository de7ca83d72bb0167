"""Lorebook activation for a turn: the chat's books through SillyTavern's rules."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from characters.models import Character, Lorebook

from .prompting.builder import HistoryMessage, LoreInsert


def lore_for_turn(
    *,
    books: Sequence[Lorebook],
    history: Sequence[HistoryMessage],
    state: dict[str, Any],
    context_size: int,
    turn: int,
    speaker: Character,
    persona_description: str,
    rng: random.Random,
) -> tuple[list[LoreInsert], dict[str, Any]]:
    return [], state
