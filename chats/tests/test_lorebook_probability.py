"""Probability: one roll per activation attempt, `rng.random() * 100 <= probability`."""

import random

import pytest

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
    def __init__(self, *values: float) -> None:
        super().__init__(0)
        self.values = list(values)
        self.calls = 0

    def random(self) -> float:
        self.calls += 1
        return self.values.pop(0)


def activate(*entries: LorebookEntry, rng: random.Random, said: str = "a dragon") -> ActivationResult:
    return lorebook_activate(
        books=[BookInput(id=1, book=Lorebook(entries=list(entries)))],
        history=[ScanMessage(name="User", text=said, is_user=True)],
        settings=ActivationSettings(),
        state={},
        turn=1,
        rng=rng,
        count_tokens=lambda text: len(text.split()),
    )


@pytest.mark.parametrize(
    ("probability", "roll", "activated"),
    [(30, 0.2, True), (30, 0.3, True), (30, 0.31, False), (1, 0.0, True), (0, 0.0, True), (0, 0.001, False)],
    ids=[
        "roll-below-activates",
        "roll-equal-activates",
        "roll-above-fails",
        "one-percent-lowest-roll",
        "zero-percent-only-on-a-zero-roll",
        "zero-percent-fails",
    ],
)
def test_roll_against_probability(probability: int, roll: float, activated: bool) -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", probability=probability)

    result = activate(entry, rng=FixedRandom(roll))

    assert (len(result.entries) == 1) is activated


def test_failed_roll_is_reported_with_the_value() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", probability=30)

    result = activate(entry, rng=FixedRandom(0.5))

    line = result.report[0]
    assert line.reason is Reason.PROBABILITY_FAILED
    assert line.detail == 'key "dragon" matched, but rolled 50.0 > 30%'


def test_passed_roll_is_reported_with_the_value() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", probability=30)

    result = activate(entry, rng=FixedRandom(0.125))

    assert result.report[0].detail == 'key "dragon" matched, rolled 12.5 <= 30%'


@pytest.mark.parametrize(
    ("fields"),
    [{"probability": 100}, {"probability": 10, "use_probability": False}],
    ids=["hundred-percent", "probability-not-used"],
)
def test_no_roll_when_probability_does_not_apply(fields: dict[str, object]) -> None:
    rng = FixedRandom()
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Lore.", **fields)  # type: ignore[arg-type]

    result = activate(entry, rng=rng)

    assert (len(result.entries), rng.calls) == (1, 0)


def test_constants_roll_too() -> None:
    entry = LorebookEntry(uid=1, constant=True, content="Lore.", probability=50)

    result = activate(entry, rng=FixedRandom(0.9), said="calm")

    assert result.entries == ()
    assert result.report[0].detail == "constant, but rolled 90.0 > 50%"


def test_failed_roll_is_not_retried_in_a_recursion_pass() -> None:
    unlucky = LorebookEntry(uid=1, keys=["dragon", "fire"], content="Lore.", probability=50)
    trigger = LorebookEntry(uid=2, keys=["dragon"], content="It breathes fire.")
    rng = FixedRandom(0.9)

    result = activate(unlucky, trigger, rng=rng)

    assert [entry.uid for entry in result.entries] == [2]
    assert rng.calls == 1
    assert result.report[0].scan_pass == 1


def test_seeded_rng_gives_the_same_activations() -> None:
    entries = [LorebookEntry(uid=uid, keys=["dragon"], content="x", probability=50) for uid in range(20)]

    first = activate(*entries, rng=random.Random(42))
    second = activate(*entries, rng=random.Random(42))

    assert [entry.uid for entry in first.entries] == [entry.uid for entry in second.entries]
    assert len(first.entries) == 11
