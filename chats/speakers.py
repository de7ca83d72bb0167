"""Who speaks next in a group chat (SillyTavern's activation strategies)."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    character_id: int
    name: str
    talkativeness: float
    is_muted: bool


def _mentioned(text: str, candidates: Sequence[Candidate]) -> list[Candidate]:
    found = []
    for candidate in candidates:
        first_name = candidate.name.split()[0] if candidate.name.split() else candidate.name
        pattern = rf"(?<!\w)({re.escape(candidate.name)}|{re.escape(first_name)})(?!\w)"
        match = re.search(pattern, text, flags=re.IGNORECASE)
        if match:
            found.append((match.start(), candidate))
    return [candidate for _, candidate in sorted(found, key=lambda item: item[0])]


def next_speaker(
    *,
    strategy: str,
    candidates: Sequence[Candidate],
    last_user_text: str,
    last_speaker_id: int | None,
    requested_id: int | None,
    rng: random.Random,
    user_spoke_last: bool = False,
) -> Candidate | None:
    """The character who replies now, or None (manual mode with nobody chosen).
    `user_spoke_last`: the turn answers the user, so whoever spoke before may answer
    again (SillyTavern bans the last speaker only when a character spoke last)."""
    active = [c for c in candidates if not c.is_muted]
    if requested_id is not None:
        return next((c for c in active if c.character_id == requested_id), None)
    if not active:
        return None
    if len(active) == 1:
        return active[0]
    if strategy == "manual":
        return None
    if strategy == "round_robin":
        ids = [c.character_id for c in active]
        if last_speaker_id in ids:
            return active[(ids.index(last_speaker_id) + 1) % len(active)]
        return active[0]
    # natural: mentioned first; then talkativeness rolls; no character answers itself
    banned = None if user_spoke_last else last_speaker_id
    others = [c for c in active if c.character_id != banned] or active
    mentioned = _mentioned(last_user_text, others)
    if mentioned:
        return mentioned[0]
    shuffled = list(others)
    rng.shuffle(shuffled)
    for candidate in shuffled:
        if rng.random() < candidate.talkativeness:
            return candidate
    return rng.choice(others)
