"""A lorebook regex can never freeze a scan: each search has a time limit, all of one
activation share a budget, a search that runs out counts as no match and is reported,
and the search lets other threads run meanwhile (H1: `/(a+)+$/` and 27 `a`s froze the
whole web process for 20 s)."""

import random
import threading

import pytest

from characters.cards.lorebook import regex_limits
from characters.cards.lorebook.book import Lorebook, LorebookEntry
from chats.prompting.lorebook import (
    ActivationSettings,
    BookInput,
    ScanMessage,
    lorebook_activate,
    lorebook_compile,
)

# `regex` finishes (a+)+$ at once; alternatives of different lengths still explode.
SLOW_KEY = "/(a|aa)+$/"
SLOW_TEXT = "a" * 60 + "b"


def _activate(*entries: LorebookEntry, said: str):
    return lorebook_activate(
        books=[BookInput(id="b", book=Lorebook(entries=list(entries)))],
        history=[ScanMessage(name="User", text=said, is_user=True)],
        settings=ActivationSettings(),
        state={},
        turn=1,
        rng=random.Random(0),
        count_tokens=lambda text: len(text.split()),
    )


def test_a_regex_that_runs_out_of_time_counts_as_no_match_and_is_reported():
    slow = LorebookEntry(uid=1, keys=[SLOW_KEY], content="never")
    plain = LorebookEntry(uid=2, keys=["aaa"], content="found")

    result = _activate(slow, plain, said=SLOW_TEXT)

    assert [entry.uid for entry in result.entries] == [2]
    assert result.regex_timeouts == (SLOW_KEY,)


def test_a_regex_answer_cut_short_by_the_time_limit_is_not_remembered(monkeypatch):
    # Key tables remember a regex key's answer for an entry's content across calls (contents come
    # back as recursion text every turn), but not an answer the time limit made up.
    book = lorebook_compile(
        BookInput(
            id="b",
            book=Lorebook(
                entries=[
                    LorebookEntry(uid=1, keys=["dragon"], content="The dragon hums zzza."),
                    LorebookEntry(uid=2, keys=["/hums? zzz/"], content="A bee."),
                ]
            ),
        )
    )

    def run():
        return lorebook_activate(
            books=[book],
            history=[ScanMessage(name="User", text="a dragon", is_user=True)],
            settings=ActivationSettings(),
            state={},
            turn=1,
            rng=random.Random(0),
            count_tokens=lambda text: len(text.split()),
        )

    monkeypatch.setattr(regex_limits, "SEARCH_SECONDS", 0.0)
    cut_short = run()
    monkeypatch.undo()
    in_time = run()

    assert [entry.uid for entry in cut_short.entries] == [1]
    assert cut_short.regex_timeouts == ("/hums? zzz/",)
    assert sorted(entry.uid for entry in in_time.entries) == [1, 2]
    assert in_time.regex_timeouts == ()


def test_many_slow_regexes_share_one_budget():
    entries = [LorebookEntry(uid=n, keys=[f"/(a|aa)+${'x' * n}|zz{n}/"], content="x") for n in range(20)]

    result = _activate(*entries, said=SLOW_TEXT)

    # Each search stops after SEARCH_SECONDS; once the activation's budget is spent the
    # remaining keys are not searched at all. Either way they count as no match.
    assert result.entries == ()
    assert len(result.regex_timeouts) == 20


def test_a_long_search_lets_other_threads_run(monkeypatch):
    monkeypatch.setattr(regex_limits, "SEARCH_SECONDS", 1.0)
    searching = threading.Thread(
        target=lambda: _activate(LorebookEntry(uid=1, keys=[SLOW_KEY], content="x"), said=SLOW_TEXT)
    )
    steps = 0

    searching.start()
    while searching.is_alive():
        steps += 1  # with `re` the search held the interpreter lock: this loop stood still

    searching.join()
    assert steps > 1_000


@pytest.mark.parametrize(
    ("key", "refused"),
    [
        ("/(a+)+$/", True),
        ("/(\\w+\\s?)*$/", True),
        ("/(a|a?)+/", True),
        ("/(a|aa)+$/", True),
        ("/\\bdrag(on|ons)\\b/i", False),
        ("/dragon(s)?/", False),
        ("dragon", False),
        ("/[/", False),  # does not compile: never matches, nothing to refuse
    ],
    ids=[
        "nested-repeat",
        "repeat-of-optional-separator",
        "alternative-that-can-be-empty",
        "overlapping-alternatives-found-by-the-probe",
        "word-boundaries",
        "optional-suffix",
        "plain-text",
        "invalid-regex",
    ],
)
def test_pathological_regex_keys_are_recognised(key, refused):
    from characters.cards.lorebook.key_check import key_refusal

    assert bool(key_refusal(key)) is refused


def test_one_import_probes_keys_for_a_bounded_time_and_still_refuses_the_obvious(monkeypatch):
    from characters.cards.lorebook import key_check

    monkeypatch.setattr(key_check, "PROBE_SECONDS", 0.0)  # the probing budget already spent
    deadline = key_check.probe_deadline()

    # Only a probe sees that this one is slow: unprobed, it is stored and limited at scan time.
    assert key_check.keys_refusal(["/(a|aa)+$/"], deadline=deadline) == ""
    # The static check needs no probe.
    assert key_check.keys_refusal(["/(a+)+$/"], deadline=deadline).startswith("the regex /(a+)+$/ is refused")
