"""Recursion: activated content scanned again, prevent/exclude, delay until recursion, steps, book switch."""

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


def word_count(text: str) -> int:
    return len(text.split())


def activate(
    *books: Lorebook, said: str = "a dragon appears", settings: ActivationSettings | None = None
) -> ActivationResult:
    return lorebook_activate(
        books=[BookInput(id=number, book=book) for number, book in enumerate(books, start=1)],
        history=[ScanMessage(name="User", text=said, is_user=True)],
        settings=settings or ActivationSettings(),
        state={},
        turn=1,
        rng=random.Random(0),
        count_tokens=word_count,
    )


def uids(result: ActivationResult) -> list[int | str | None]:
    return sorted(entry.uid for entry in result.entries)  # type: ignore[type-var]


def chain() -> Lorebook:
    """dragon -> fire -> smoke -> ash: each entry's content names the next one's key."""
    return Lorebook(
        entries=[
            LorebookEntry(uid=1, keys=["dragon"], content="It breathes fire."),
            LorebookEntry(uid=2, keys=["fire"], content="Fire makes smoke."),
            LorebookEntry(uid=3, keys=["smoke"], content="Smoke leaves ash."),
            LorebookEntry(uid=4, keys=["ash"], content="Ash settles."),
        ]
    )


def test_recursion_follows_the_chain_until_nothing_new_activates() -> None:
    result = activate(chain())

    assert uids(result) == [1, 2, 3, 4]
    assert [line.scan_pass for line in result.report] == [1, 2, 3, 4]
    assert result.passes == 5
    assert result.report[1].detail == 'key "fire" matched (recursion pass 2)'


def test_recursion_off_scans_the_chat_only() -> None:
    result = activate(chain(), settings=ActivationSettings(recursive=False))

    assert uids(result) == [1]
    assert result.passes == 1
    assert result.report[1].reason is Reason.NOT_MATCHED


def test_max_recursion_steps_counts_every_pass_including_the_first() -> None:
    one = activate(chain(), settings=ActivationSettings(max_recursion_steps=1))
    two = activate(chain(), settings=ActivationSettings(max_recursion_steps=2))

    assert uids(one) == [1]
    assert uids(two) == [1, 2]
    assert two.passes == 2


def test_prevent_recursion_keeps_an_entry_out_of_the_recursion_buffer() -> None:
    book = chain()
    book.entries[0].prevent_recursion = True

    result = activate(book)

    assert uids(result) == [1]


def test_exclude_recursion_entry_is_matched_against_the_chat_only() -> None:
    book = chain()
    book.entries[1].exclude_recursion = True

    excluded = activate(book)
    in_chat = activate(book, said="a dragon spits fire")

    assert uids(excluded) == [1]
    assert uids(in_chat) == [1, 2, 3, 4]
    assert in_chat.report[1].scan_pass == 1


def test_delay_until_recursion_waits_for_the_first_recursion_pass() -> None:
    book = Lorebook(
        entries=[
            LorebookEntry(uid=1, keys=["dragon"], content="It breathes fire."),
            LorebookEntry(uid=2, keys=["dragon"], content="Dragons hoard gold.", delay_until_recursion=True),
        ]
    )

    result = activate(book)

    assert uids(result) == [1, 2]
    assert [line.scan_pass for line in result.report] == [1, 2]


def test_delay_until_recursion_never_activates_without_a_recursion_pass() -> None:
    book = Lorebook(
        entries=[LorebookEntry(uid=1, keys=["dragon"], content="Gold.", delay_until_recursion=True)]
    )

    result = activate(book, settings=ActivationSettings(recursive=False))

    assert uids(result) == []
    assert result.report[0].reason is Reason.DELAY_UNTIL_RECURSION


def test_delay_until_recursion_levels_open_in_order_once_lower_levels_are_done() -> None:
    book = Lorebook(
        entries=[
            LorebookEntry(uid=1, keys=["dragon"], content="It breathes fire."),
            LorebookEntry(uid=2, keys=["fire"], content="Smoke rises.", delay_until_recursion=1),
            LorebookEntry(uid=3, keys=["fire"], content="Ash falls.", delay_until_recursion=2),
            LorebookEntry(uid=4, keys=["smoke"], content="Birds flee.", delay_until_recursion=1),
        ]
    )

    result = activate(book)

    assert uids(result) == [1, 2, 3, 4]
    assert [line.scan_pass for line in result.report] == [1, 2, 5, 3]
    assert result.passes == 6


def test_delay_until_recursion_level_never_reached_is_reported() -> None:
    book = Lorebook(
        entries=[
            LorebookEntry(uid=1, keys=["dragon"], content="It breathes fire."),
            LorebookEntry(uid=2, keys=["fire"], content="Ash.", delay_until_recursion=2),
        ]
    )

    result = activate(book, settings=ActivationSettings(max_recursion_steps=1))

    assert uids(result) == [1]
    line = result.report[1]
    assert line.reason is Reason.DELAY_UNTIL_RECURSION
    assert line.detail == "waits for recursion level 2, which no pass reached"


def test_book_without_recursive_scanning_neither_feeds_nor_reads_recursion() -> None:
    quiet = Lorebook(
        recursive_scanning=False,
        entries=[
            LorebookEntry(uid=1, keys=["dragon"], content="It breathes fire."),
            LorebookEntry(uid=2, keys=["storm"], content="Thunder."),
        ],
    )
    loud = Lorebook(
        entries=[
            LorebookEntry(uid=1, keys=["fire"], content="Fire burns."),
            LorebookEntry(uid=2, keys=["knight"], content="A storm gathers."),
        ]
    )

    result = activate(quiet, loud, said="a dragon and a knight")

    assert sorted((entry.book_id, entry.uid) for entry in result.entries) == [(1, 1), (2, 2)]


def test_book_recursive_scanning_overrides_the_global_switch() -> None:
    book = chain()
    book.recursive_scanning = True

    result = activate(book, settings=ActivationSettings(recursive=False))

    assert uids(result) == [1, 2, 3, 4]


def test_recursion_crosses_books() -> None:
    first = Lorebook(entries=[LorebookEntry(uid=1, keys=["dragon"], content="It breathes fire.")])
    second = Lorebook(entries=[LorebookEntry(uid=1, keys=["fire"], content="Fire burns.")])

    result = activate(first, second)

    assert sorted((entry.book_id, entry.uid) for entry in result.entries) == [(1, 1), (2, 1)]


def test_delay_levels_are_ranks_so_the_lowest_one_opens_with_the_first_recursion() -> None:
    book = Lorebook(
        entries=[
            LorebookEntry(uid=1, keys=["dragon"], content="It breathes fire."),
            LorebookEntry(uid=2, keys=["fire"], content="Ash.", delay_until_recursion=5),
        ]
    )

    result = activate(book)

    assert uids(result) == [1, 2]
    assert result.report[1].scan_pass == 2


def test_a_key_spanning_the_chat_and_the_recursion_text_matches_in_the_recursion_pass() -> None:
    # The buffer is the chat and the activated contents joined by newlines (SillyTavern's): a
    # recursion pass reads only the new text for most keys, but one that can span a newline
    # (a key holding one, a regex whose match can cross one) still reads the whole buffer.
    book = Lorebook(
        entries=[
            LorebookEntry(uid=1, keys=["dragon"], content="Fire everywhere."),
            LorebookEntry(uid=2, keys=["appears\nfire"], content="Smoke."),
            LorebookEntry(uid=3, keys=["/appears\\sfire/i"], content="Ash."),
        ]
    )

    result = activate(book)

    assert uids(result) == [1, 2, 3]
    assert [line.scan_pass for line in result.report] == [1, 2, 2]


def test_a_key_spanning_two_passes_contents_matches_once_both_are_in() -> None:
    book = Lorebook(
        entries=[
            LorebookEntry(uid=1, keys=["dragon"], content="It breathes fire."),
            LorebookEntry(uid=2, keys=["fire"], content="Smoke rises."),
            LorebookEntry(uid=3, keys=["fire.\nsmoke"], content="Ash falls."),
        ]
    )

    result = activate(book)

    assert uids(result) == [1, 2, 3]
    assert [line.scan_pass for line in result.report] == [1, 2, 3]
