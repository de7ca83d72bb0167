"""The report: one line per entry of every book, saying why it was or was not activated."""

import random

import pytest

from characters.cards.lorebook.book import Lorebook, LorebookEntry
from chats.prompting.lorebook import (
    ActivationResult,
    ActivationSettings,
    BookInput,
    EntryReport,
    Reason,
    ScanMessage,
    lorebook_activate,
)


class FixedRandom(random.Random):
    def random(self) -> float:
        return 0.5


def everything() -> ActivationResult:
    """One turn in which every reason happens to one entry."""
    entries = [
        LorebookEntry(uid=1, constant=True, content="always"),
        LorebookEntry(uid=2, keys=["moon", "dragon"], content="keyed", comment="Dragons"),
        LorebookEntry(uid=3, keys=["unicorn"], content="kept", sticky=7),
        LorebookEntry(uid=4, keys=["dragon"], content="off", disabled=True),
        LorebookEntry(uid=5, content="keyless"),
        LorebookEntry(uid=6, keys=["dragon"], content="resting", cooldown=4),
        LorebookEntry(uid=7, keys=["dragon"], content="later", delay=10),
        LorebookEntry(uid=8, keys=["unicorn"], content="absent"),
        LorebookEntry(uid=9, keys=["dragon"], secondary_keys=["moon"], content="picky"),
        LorebookEntry(uid=10, keys=["dragon"], content="unlucky", probability=10),
        LorebookEntry(uid=11, keys=["dragon"], content="winner", group="g", group_override=True),
        LorebookEntry(uid=12, keys=["dragon"], content="loser", group="g"),
        LorebookEntry(uid=13, keys=["dragon"], content="patient", delay_until_recursion=2),
        LorebookEntry(uid=14, keys=["dragon"], content=" ".join(["big"] * 60), order=1),
    ]
    state = {
        "1:3": {"sticky": {"start": 2, "end": 9, "protected": False}},
        "1:6": {"cooldown": {"start": 3, "end": 7, "protected": False}},
    }
    return lorebook_activate(
        books=[BookInput(id=1, book=Lorebook(entries=entries))],
        history=[ScanMessage(name="User", text="the dragon lands", is_user=True)],
        settings=ActivationSettings(context_tokens=100, budget_percent=50, max_recursion_steps=1),
        state=state,
        turn=5,
        rng=FixedRandom(0),
        count_tokens=lambda text: len(text.split()),
    )


EXPECTED = [
    EntryReport(1, 1, "", True, Reason.CONSTANT, "constant", 1),
    EntryReport(1, 2, "Dragons", True, Reason.KEY_MATCHED, 'key "dragon" matched', 1),
    EntryReport(1, 3, "", True, Reason.STICKY, "sticky since turn 2, until turn 9", 1),
    EntryReport(1, 4, "", False, Reason.DISABLED, "disabled", 0),
    EntryReport(1, 5, "", False, Reason.NO_KEYS, "no keys and not constant", 0),
    EntryReport(1, 6, "", False, Reason.COOLDOWN, "on cooldown until turn 7", 0),
    EntryReport(1, 7, "", False, Reason.DELAY, "waits for 10 messages; the chat has 5", 0),
    EntryReport(1, 8, "", False, Reason.NOT_MATCHED, "no key matched", 0),
    EntryReport(
        1,
        9,
        "",
        False,
        Reason.SECONDARY_FAILED,
        'key "dragon" matched, but no secondary key matched (AND ANY)',
        1,
    ),
    EntryReport(
        1, 10, "", False, Reason.PROBABILITY_FAILED, 'key "dragon" matched, but rolled 50.0 > 10%', 1
    ),
    EntryReport(1, 11, "", True, Reason.KEY_MATCHED, 'key "dragon" matched', 1),
    EntryReport(
        1,
        12,
        "",
        False,
        Reason.GROUP_LOST,
        'lost group "g" to uid 11 (book 1) (group override, highest order)',
        1,
    ),
    EntryReport(
        1,
        13,
        "",
        False,
        Reason.DELAY_UNTIL_RECURSION,
        "waits for recursion level 2, which no pass reached",
        0,
    ),
    EntryReport(
        1,
        14,
        "",
        False,
        Reason.BUDGET_EXCEEDED,
        'key "dragon" matched, but its 60 tokens did not fit (4 of 50 used)',
        1,
    ),
]


def test_report_has_one_line_per_entry_in_book_order() -> None:
    result = everything()

    assert [line.uid for line in result.report] == list(range(1, 15))


@pytest.mark.parametrize("expected", EXPECTED, ids=[line.reason.value.replace(" ", "-") for line in EXPECTED])
def test_each_reason_is_reported_as_documented(expected: EntryReport) -> None:
    result = everything()

    assert result.report_for(1, expected.uid) == expected


def test_every_reason_appears() -> None:
    assert {line.reason for line in everything().report} == set(Reason)


def test_report_covers_every_book_in_order() -> None:
    result = lorebook_activate(
        books=[
            BookInput(id="a", book=Lorebook(entries=[LorebookEntry(uid=1, keys=["x"])])),
            BookInput(
                id="b", book=Lorebook(entries=[LorebookEntry(uid=1, keys=["y"]), LorebookEntry(uid=2)])
            ),
        ],
        history=[],
        settings=ActivationSettings(),
        state={},
        turn=0,
        rng=random.Random(0),
        count_tokens=lambda text: len(text.split()),
    )

    assert [(line.book_id, line.uid, line.reason) for line in result.report] == [
        ("a", 1, Reason.NOT_MATCHED),
        ("b", 1, Reason.NOT_MATCHED),
        ("b", 2, Reason.NO_KEYS),
    ]


def test_a_book_given_twice_takes_part_once() -> None:
    book = BookInput(id=1, book=Lorebook(entries=[LorebookEntry(uid=1, constant=True, content="x")]))

    result = lorebook_activate(
        books=[book, book],
        history=[],
        settings=ActivationSettings(),
        state={},
        turn=0,
        rng=random.Random(0),
        count_tokens=lambda text: len(text.split()),
    )

    assert [(entry.book_id, entry.uid) for entry in result.entries] == [(1, 1)]
    assert len(result.report) == 1
