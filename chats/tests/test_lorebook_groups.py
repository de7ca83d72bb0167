"""Inclusion groups: override, weighted roll, scoring, sticky winners, one winner per group and call."""

import random
from collections.abc import Mapping

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
    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def activate(
    *entries: LorebookEntry,
    said: str = "the weather today",
    rng: random.Random | None = None,
    settings: ActivationSettings | None = None,
    state: Mapping[str, object] | None = None,
    turn: int = 1,
) -> ActivationResult:
    return lorebook_activate(
        books=[BookInput(id=1, book=Lorebook(entries=list(entries)))],
        history=[ScanMessage(name="User", text=said, is_user=True)],
        settings=settings or ActivationSettings(),
        state=state or {},
        turn=turn,
        rng=rng or random.Random(0),
        count_tokens=lambda text: len(text.split()),
    )


def weather(uid: int, **fields: object) -> LorebookEntry:
    fields.setdefault("content", f"Weather {uid}.")
    return LorebookEntry(uid=uid, keys=["weather"], group="weather", **fields)  # type: ignore[arg-type]


def winners(result: ActivationResult) -> list[int | str | None]:
    return [entry.uid for entry in result.entries]


@pytest.mark.parametrize(
    ("roll", "winner"),
    [(0.0, 1), (0.24, 1), (0.26, 2), (0.99, 2)],
    ids=["roll-0-first", "roll-inside-first-weight", "roll-past-first-weight", "roll-at-the-end-last"],
)
def test_weighted_roll_picks_by_group_weight(roll: float, winner: int) -> None:
    result = activate(weather(1, group_weight=100), weather(2, group_weight=300), rng=FixedRandom(roll))

    assert winners(result) == [winner]


def test_weighted_roll_with_a_seeded_rng_is_reproducible() -> None:
    entries = [weather(uid) for uid in range(1, 6)]

    picks = [winners(activate(*entries, rng=random.Random(seed)))[0] for seed in range(8)]

    assert picks == [5, 1, 5, 2, 2, 4, 4, 2]  # Random(seed).random() * 500, in steps of 100


def test_zero_weight_member_never_wins_against_a_weighted_one() -> None:
    picks = {
        winners(activate(weather(1, group_weight=0), weather(2), rng=random.Random(seed)))[0]
        for seed in range(20)
    }

    assert picks == {2}


def test_loser_is_reported_with_the_winner_and_the_roll() -> None:
    result = activate(weather(1, comment="Sun"), weather(2, comment="Rain"), rng=FixedRandom(0.75))

    line = result.report_for(1, 1)
    assert line.reason is Reason.GROUP_LOST
    assert line.detail == 'lost group "weather" to uid 2 "Rain" (book 1) (weighted roll 150.0 of 200)'


def test_group_override_picks_the_highest_order_among_overrides() -> None:
    result = activate(
        weather(1, order=300),
        weather(2, order=10, group_override=True),
        weather(3, order=50, group_override=True),
        rng=FixedRandom(0.0),
    )

    assert winners(result) == [3]
    assert (
        result.report_for(1, 1).detail
        == 'lost group "weather" to uid 3 (book 1) (group override, highest order)'
    )


def test_group_scoring_keeps_the_entries_with_the_most_key_matches() -> None:
    one_key = weather(1, group_weight=1000)
    two_keys = LorebookEntry(uid=2, keys=["weather", "today"], content="x", group="weather", group_weight=1)

    scored = activate(
        one_key, two_keys, settings=ActivationSettings(use_group_scoring=True), rng=FixedRandom(0.0)
    )
    unscored = activate(one_key, two_keys, rng=FixedRandom(0.0))

    assert winners(scored) == [2]
    assert scored.report_for(1, 1).detail == 'lost group "weather" to uid 2 (book 1) on score (1 < 2)'
    assert winners(unscored) == [1]


def test_entry_level_group_scoring_applies_to_that_entry() -> None:
    scored = weather(1, use_group_scoring=True)
    two_keys = LorebookEntry(uid=2, keys=["weather", "today"], content="x", group="weather")

    result = activate(scored, two_keys, rng=FixedRandom(0.0))

    assert winners(result) == [2]


def test_secondary_keys_count_towards_the_score_under_and_any() -> None:
    with_secondary = weather(1, secondary_keys=["today"])
    plain = weather(2)

    result = activate(
        with_secondary, plain, settings=ActivationSettings(use_group_scoring=True), rng=FixedRandom(0.9)
    )

    assert winners(result) == [1]


def test_entry_in_several_groups_must_win_each() -> None:
    both = LorebookEntry(uid=1, keys=["weather"], content="x", group="weather, mood", group_override=True)
    moody = LorebookEntry(uid=2, keys=["weather"], content="y", group="mood", group_override=True, order=500)

    result = activate(both, moody)

    assert winners(result) == [2]
    assert (
        result.report_for(1, 1).detail
        == 'lost group "mood" to uid 2 (book 1) (group override, highest order)'
    )


def test_group_won_in_an_earlier_pass_admits_no_one_later() -> None:
    first = weather(1, content="A storm is coming.")
    later = LorebookEntry(uid=2, keys=["storm"], content="Storm lore.", group="weather")

    result = activate(first, later)

    assert winners(result) == [1]
    line = result.report_for(1, 2)
    assert line.reason is Reason.GROUP_LOST
    assert line.detail == 'group "weather" was already won by uid 1 (book 1)'
    assert line.scan_pass == 2


def test_sticky_member_wins_over_new_ones() -> None:
    state = {"1:2": {"sticky": {"start": 1, "end": 5, "protected": False}}}

    result = activate(weather(1, group_override=True, order=900), weather(2, sticky=4), state=state, turn=2)

    assert winners(result) == [2]
    assert result.report_for(1, 1).detail == 'lost group "weather" to sticky uid 2 (book 1)'


def test_entries_without_a_group_do_not_compete() -> None:
    result = activate(weather(1), LorebookEntry(uid=2, keys=["weather"], content="x"), rng=FixedRandom(0.0))

    assert sorted(winners(result)) == [1, 2]  # type: ignore[type-var]
