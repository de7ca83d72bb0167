"""Min activations: the scan widens one message at a time until enough entries activate."""

import random

from characters.cards.lorebook.book import Lorebook, LorebookEntry
from chats.prompting.lorebook import (
    ActivationResult,
    ActivationSettings,
    BookInput,
    Reason,
    ScanMessage,
    lorebook_activate,
)

HISTORY = ("a dragon, long ago", "then silence", "a knight arrives", "and waits")  # oldest first


def activate(*entries: LorebookEntry, settings: ActivationSettings) -> ActivationResult:
    return lorebook_activate(
        books=[BookInput(id=1, book=Lorebook(entries=list(entries)))],
        history=[ScanMessage(name="User", text=text, is_user=True) for text in HISTORY],
        settings=settings,
        state={},
        turn=len(HISTORY),
        rng=random.Random(0),
        count_tokens=lambda text: len(text.split()),
    )


def test_scan_widens_until_the_minimum_is_reached() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Old lore.")

    result = activate(entry, settings=ActivationSettings(scan_depth=1, min_activations=1))

    assert [e.uid for e in result.entries] == [1]
    assert result.passes == 5  # depths 1, 2, 3, 4, then a recursion pass on "Old lore."
    assert result.report[0].scan_pass == 4
    assert result.report[0].detail == 'key "dragon" matched (min activations pass 4)'


def test_scan_stops_widening_at_the_depth_maximum() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Old lore.")

    result = activate(
        entry, settings=ActivationSettings(scan_depth=1, min_activations=1, min_activations_depth_max=3)
    )

    assert result.entries == ()
    assert result.passes == 3
    assert result.report[0].reason is Reason.NOT_MATCHED


def test_scan_stops_widening_at_the_whole_history() -> None:
    entry = LorebookEntry(uid=1, keys=["unicorn"], content="Never.")

    result = activate(entry, settings=ActivationSettings(scan_depth=1, min_activations=1))

    assert result.entries == ()
    assert result.passes == 4


def test_no_widening_once_the_minimum_is_met() -> None:
    result = activate(
        LorebookEntry(uid=1, keys=["dragon"], content="Old lore."),
        LorebookEntry(uid=2, keys=["waits"], content="Patience."),
        settings=ActivationSettings(scan_depth=1, min_activations=1),
    )

    assert [e.uid for e in result.entries] == [2]
    assert result.passes == 2  # the first pass, then a recursion pass on "Patience."


def test_entry_with_its_own_scan_depth_does_not_widen() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="Old lore.", scan_depth=1)

    result = activate(entry, settings=ActivationSettings(scan_depth=1, min_activations=1))

    assert result.entries == ()


def test_entries_found_by_a_widened_scan_recurse() -> None:
    result = activate(
        LorebookEntry(uid=1, keys=["knight"], content="He carries a lance."),
        LorebookEntry(uid=2, keys=["lance"], content="Sharp."),
        settings=ActivationSettings(scan_depth=1, min_activations=2, max_recursion_steps=0),
    )

    assert sorted(e.uid for e in result.entries) == [1, 2]  # type: ignore[type-var]
    assert [line.scan_pass for line in result.report] == [2, 3]
