"""Sticky, cooldown and delay across turns, carried by the returned state."""

import copy
import json
import random
from collections.abc import Mapping

from characters.cards.lorebook.book import Lorebook, LorebookEntry
from chats.prompting.lorebook import (
    ActivationResult,
    ActivationSettings,
    BookInput,
    Reason,
    ScanMessage,
    lorebook_activate,
)


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def take_turn(
    entry: LorebookEntry, *, turn: int, said: str, state: Mapping[str, object], roll: float = 0.0
) -> ActivationResult:
    return lorebook_activate(
        books=[BookInput(id=1, book=Lorebook(entries=[entry]))],
        history=[ScanMessage(name="User", text=said, is_user=True)],
        settings=ActivationSettings(),
        state=state,
        turn=turn,
        rng=FixedRandom(roll),
        count_tokens=lambda text: len(text.split()),
    )


def play(entry: LorebookEntry, turns: list[tuple[int, str]]) -> list[ActivationResult]:
    results: list[ActivationResult] = []
    state: Mapping[str, object] = {}
    for turn, said in turns:
        result = take_turn(entry, turn=turn, said=said, state=state)
        results.append(result)
        state = result.state
    return results


def test_sticky_entry_stays_active_for_its_turns_without_a_match() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", sticky=3)

    results = play(entry, [(1, "a dragon"), (2, "calm"), (3, "calm"), (4, "calm")])

    assert [len(result.entries) for result in results] == [1, 1, 1, 0]
    assert results[0].state == {"1:1": {"sticky": {"start": 1, "end": 4, "protected": False}}}
    assert results[1].report[0].reason is Reason.STICKY
    assert results[1].report[0].detail == "sticky since turn 1, until turn 4"
    assert results[3].state == {}


def test_cooldown_blocks_the_entry_after_its_activation() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", cooldown=2)

    results = play(entry, [(1, "a dragon"), (2, "a dragon"), (3, "a dragon")])

    assert [len(result.entries) for result in results] == [1, 0, 1]
    assert results[1].report[0].reason is Reason.COOLDOWN
    assert results[1].report[0].detail == "on cooldown until turn 3"
    assert results[2].state == {"1:1": {"cooldown": {"start": 3, "end": 5, "protected": False}}}


def test_cooldown_starts_when_the_sticky_period_ends() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", sticky=2, cooldown=3)

    results = play(entry, [(turn, "a dragon") for turn in range(1, 8)])

    assert [len(result.entries) for result in results] == [1, 1, 0, 0, 0, 1, 1]
    assert [line.reason for result in results for line in result.report] == [
        Reason.KEY_MATCHED,
        Reason.STICKY,
        Reason.COOLDOWN,
        Reason.COOLDOWN,
        Reason.COOLDOWN,
        Reason.KEY_MATCHED,
        Reason.STICKY,
    ]
    assert results[2].state == {"1:1": {"cooldown": {"start": 3, "end": 6, "protected": True}}}


def test_delay_blocks_the_entry_until_the_chat_is_long_enough() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", delay=3)

    results = play(entry, [(2, "a dragon"), (3, "a dragon")])

    assert [len(result.entries) for result in results] == [0, 1]
    assert results[0].report[0].reason is Reason.DELAY
    assert results[0].report[0].detail == "waits for 3 messages; the chat has 2"


def test_delay_blocks_a_sticky_entry_too() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", sticky=5, delay=3)
    state = {"1:1": {"sticky": {"start": 1, "end": 6, "protected": False}}}

    result = take_turn(entry, turn=2, said="calm", state=state)

    assert result.entries == ()
    assert result.report[0].reason is Reason.DELAY


def test_sticky_entry_does_not_roll_its_probability_again() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", sticky=3, probability=50)

    first = take_turn(entry, turn=1, said="a dragon", state={}, roll=0.1)
    second = take_turn(entry, turn=2, said="a dragon", state=first.state, roll=0.99)

    assert [len(first.entries), len(second.entries)] == [1, 1]
    assert second.report[0].reason is Reason.STICKY


def test_regenerating_the_same_turn_decides_it_afresh() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", sticky=3, cooldown=2)
    first = take_turn(entry, turn=1, said="a dragon", state={})

    regenerated = take_turn(entry, turn=1, said="calm", state=first.state)

    assert regenerated.entries == ()
    assert regenerated.state == {}


def test_effects_of_entries_missing_from_the_books_are_kept_until_they_end() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.")
    other = {"7:3": {"sticky": {"start": 1, "end": 5, "protected": False}}}

    during = take_turn(entry, turn=4, said="calm", state=other)
    after = take_turn(entry, turn=5, said="calm", state=other)

    assert during.state == other
    assert after.state == {}


def test_effects_of_an_entry_that_lost_its_setting_are_dropped() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.")
    state = {"1:1": {"sticky": {"start": 1, "end": 5, "protected": False}}}

    result = take_turn(entry, turn=2, said="calm", state=state)

    assert result.entries == ()
    assert result.state == {}


def test_state_is_json_and_the_given_state_is_not_modified() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", sticky=2, cooldown=1)
    state = {"1:1": {"sticky": {"start": 1, "end": 3, "protected": False}}}
    given = copy.deepcopy(state)

    result = take_turn(entry, turn=2, said="a dragon", state=state)

    assert state == given
    assert json.loads(json.dumps(result.state)) == result.state
    assert result.state == {
        "1:1": {
            "sticky": {"start": 1, "end": 3, "protected": False},
            "cooldown": {"start": 2, "end": 3, "protected": False},
        }
    }


def test_malformed_state_is_ignored() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", sticky=2)
    state = {"1:1": "garbage", "x": {"sticky": {"start": "a", "end": 3}}, "y": {"cooldown": [1, 2]}}

    result = take_turn(entry, turn=2, said="a dragon", state=state)

    assert [e.uid for e in result.entries] == [1]
    assert result.state == {"1:1": {"sticky": {"start": 2, "end": 4, "protected": False}}}


def test_entries_without_uid_are_keyed_by_their_position() -> None:
    entry = LorebookEntry(keys=["dragon"], content="Lore.", sticky=2)

    result = take_turn(entry, turn=1, said="a dragon", state={})

    assert list(result.state) == ["1:0"]
