"""Sticky and cooldown across turns, as SillyTavern keeps them in `chat_metadata.timedWorldInfo`.

The clock is the number of messages in the chat (`turn`). An effect set at turn
`start` lasts while `turn < end`. The state is a plain JSON dict the caller keeps
in the chat between turns:

    {"<book id>:<uid>": {"sticky": {"start": 4, "end": 7, "protected": false},
                         "cooldown": {"start": 7, "end": 9, "protected": true}}}

SillyTavern's rules, kept here:
* an effect whose chat has not advanced past its start (a regenerate or swipe of
  the same turn) is dropped, so the turn is decided afresh, unless protected;
* when a sticky period ends and the entry has a cooldown, the cooldown starts
  then (protected) and applies at once;
* an effect of an entry missing from the books is kept until it ends;
* on activation, an entry gets a sticky and a cooldown effect unless it has one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, TypedDict

from characters.cards.lorebook.book import LorebookEntry

EffectType = Literal["sticky", "cooldown"]
_EFFECT_TYPES: tuple[EffectType, ...] = ("sticky", "cooldown")


class TimedEffect(TypedDict):
    start: int  # the turn it was set
    end: int  # the first turn it no longer applies
    protected: bool  # kept even when the chat has not advanced past `start`


class EntryTimers(TypedDict, total=False):
    sticky: TimedEffect
    cooldown: TimedEffect


TimedEffectsState = dict[str, EntryTimers]


@dataclass(frozen=True)
class TimedEffectsNow:
    """The effects in force this turn, and the state with the ended ones removed."""

    state: TimedEffectsState
    sticky: Mapping[str, TimedEffect]
    cooldown: Mapping[str, TimedEffect]


def timed_effects_now(
    *, state: Mapping[str, object], turn: int, find_entry: Callable[[str], LorebookEntry | None]
) -> TimedEffectsNow:
    """Expire the effects of `state` at `turn`; `find_entry` finds a books' entry by its timer key."""
    kept: TimedEffectsState = {}
    sticky: dict[str, TimedEffect] = {}
    cooldown: dict[str, TimedEffect] = {}
    for key, raw_timers in state.items():
        if not isinstance(raw_timers, Mapping):
            continue
        entry = find_entry(key)
        timers: EntryTimers = {}
        for effect_type in _EFFECT_TYPES:
            effect = _effect(raw_timers.get(effect_type))
            if effect is None:
                continue
            if effect_type == "cooldown" and "cooldown" in timers:
                continue  # a sticky period that just ended started a new one
            if turn <= effect["start"] and not effect["protected"]:
                continue  # the chat has not advanced: decide this turn afresh
            if entry is None:
                if turn < effect["end"]:
                    timers[effect_type] = effect  # another character's book, maybe: keep it
                continue
            duration = _duration(entry, effect_type)
            if not duration:
                continue
            if turn >= effect["end"]:
                cooldown_after = _duration(entry, "cooldown")
                if effect_type == "sticky" and cooldown_after:
                    timers["cooldown"] = {"start": turn, "end": turn + cooldown_after, "protected": True}
                    cooldown[key] = timers["cooldown"]
                continue
            timers[effect_type] = effect
            (sticky if effect_type == "sticky" else cooldown)[key] = effect
        if timers:
            kept[key] = timers
    return TimedEffectsNow(state=kept, sticky=sticky, cooldown=cooldown)


def timed_effects_record(
    now: TimedEffectsNow, *, activated: Iterable[tuple[str, LorebookEntry]], turn: int
) -> TimedEffectsState:
    """The state after this turn: activated entries start the effects they do not have yet."""
    state: TimedEffectsState = {key: EntryTimers(**timers) for key, timers in now.state.items()}
    for key, entry in activated:
        if entry.sticky is None and entry.cooldown is None:
            continue  # most entries have neither
        for effect_type in _EFFECT_TYPES:
            duration = _duration(entry, effect_type)
            if duration and effect_type not in state.get(key, {}):
                state.setdefault(key, {})[effect_type] = {
                    "start": turn,
                    "end": turn + duration,
                    "protected": False,
                }
    return state


def _duration(entry: LorebookEntry, effect_type: EffectType) -> int:
    value = entry.sticky if effect_type == "sticky" else entry.cooldown
    return value if value and value > 0 else 0


def _effect(raw: object) -> TimedEffect | None:
    """A stored effect, or None if it is not one (state written by hand or by an older version)."""
    if not isinstance(raw, Mapping):
        return None
    start, end = raw.get("start"), raw.get("end")
    if (
        not isinstance(start, int)
        or not isinstance(end, int)
        or isinstance(start, bool)
        or isinstance(end, bool)
    ):
        return None
    return {"start": start, "end": end, "protected": raw.get("protected") is True}
