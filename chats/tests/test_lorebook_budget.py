"""The token budget: percent of the context, cap, a book's own budget, priority order, ignore_budget."""

import random

import pytest

from characters.cards.lorebook.book import Lorebook, LorebookEntry
from chats.prompting.lorebook import (
    ActivationResult,
    ActivationSettings,
    BookInput,
    BudgetSpend,
    Reason,
    ScanMessage,
    lorebook_activate,
    lorebook_budget,
)

TEN_TOKENS = ActivationSettings(context_tokens=100, budget_percent=10)


def word_count(text: str) -> int:
    return len(text.split())


def words(count: int) -> str:
    return " ".join(["word"] * count)


def activate(*books: Lorebook, settings: ActivationSettings = TEN_TOKENS) -> ActivationResult:
    return lorebook_activate(
        books=[BookInput(id=number, book=book) for number, book in enumerate(books, start=1)],
        history=[ScanMessage(name="User", text="a dragon", is_user=True)],
        settings=settings,
        state={},
        turn=1,
        rng=random.Random(0),
        count_tokens=word_count,
    )


def dragon(uid: int, size: int, **fields: object) -> LorebookEntry:
    return LorebookEntry(uid=uid, keys=["dragon"], content=words(size), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("context", "percent", "cap", "expected"),
    [
        (8192, 25, 0, 2048),
        (1000, 10, 0, 100),
        (1000, 10, 50, 50),
        (1000, 10, 500, 100),
        (10, 25, 0, 3),
        (3, 10, 0, 1),
    ],
    ids=[
        "defaults",
        "percent-of-context",
        "cap-lowers-it",
        "cap-above-is-unused",
        "rounds-half-up",
        "at-least-one",
    ],
)
def test_budget_is_a_percent_of_the_context_within_the_cap(
    context: int, percent: int, cap: int, expected: int
) -> None:
    settings = ActivationSettings(context_tokens=context, budget_percent=percent, budget_cap=cap)

    assert lorebook_budget(settings) == expected


def test_higher_order_entries_spend_the_budget_first_and_the_first_miss_stops_adding() -> None:
    book = Lorebook(entries=[dragon(1, 2, order=100), dragon(2, 5, order=200), dragon(3, 6, order=300)])

    result = activate(book)

    assert [entry.uid for entry in result.entries] == [3]
    assert (result.tokens_used, result.budget, result.budget_overflowed) == (6, 10, True)
    assert result.report_for(1, 2).reason is Reason.BUDGET_EXCEEDED
    assert (
        result.report_for(1, 2).detail == 'key "dragon" matched, but its 5 tokens did not fit (6 of 10 used)'
    )
    assert result.report_for(1, 1).detail == "the budget of 10 tokens was already spent"


def test_entries_that_exactly_fill_the_budget_all_fit() -> None:
    book = Lorebook(entries=[dragon(1, 4, order=100), dragon(2, 6, order=200)])

    result = activate(book)

    assert sorted(entry.uid for entry in result.entries) == [1, 2]  # type: ignore[type-var]
    assert (result.tokens_used, result.budget_overflowed) == (10, False)


def test_ignore_budget_entry_is_added_after_the_budget_overflowed_and_counts() -> None:
    book = Lorebook(
        entries=[
            dragon(1, 8, order=300),
            dragon(2, 5, order=200),
            dragon(3, 20, order=100, ignore_budget=True),
        ]
    )

    result = activate(book)

    assert sorted(entry.uid for entry in result.entries) == [1, 3]  # type: ignore[type-var]
    assert result.tokens_used == 28
    assert result.report_for(1, 3).detail == 'key "dragon" matched, ignores the budget'


def test_equal_orders_spend_constants_first_then_lower_uids() -> None:
    book = Lorebook(
        entries=[
            dragon(2, 5),
            dragon(1, 5),
            LorebookEntry(uid=3, constant=True, content=words(5)),
            dragon(4, 5),
        ]
    )

    result = activate(book)

    assert sorted(entry.uid for entry in result.entries) == [1, 3]  # type: ignore[type-var]


def test_earlier_book_wins_a_tie_between_books() -> None:
    result = activate(Lorebook(entries=[dragon(9, 10)]), Lorebook(entries=[dragon(1, 10)]))

    assert [(entry.book_id, entry.uid) for entry in result.entries] == [(1, 9)]


def test_cap_limits_the_budget() -> None:
    settings = ActivationSettings(context_tokens=100, budget_percent=50, budget_cap=3)

    result = activate(Lorebook(entries=[dragon(1, 3, order=2), dragon(2, 1, order=1)]), settings=settings)

    assert [entry.uid for entry in result.entries] == [1]
    assert result.budget == 3


def test_book_token_budget_is_its_own_pool() -> None:
    own = Lorebook(token_budget=5, entries=[dragon(1, 4, order=2), dragon(2, 4, order=1)])
    shared = Lorebook(entries=[dragon(1, 9)])

    result = activate(own, shared)

    assert sorted((entry.book_id, entry.uid) for entry in result.entries) == [(1, 1), (2, 1)]
    assert result.book_budgets == {1: BudgetSpend(budget=5, used=4, overflowed=True)}
    assert (result.tokens_used, result.budget, result.budget_overflowed) == (13, 10, False)


def test_overflow_stops_recursion() -> None:
    book = Lorebook(
        entries=[
            LorebookEntry(uid=1, keys=["dragon"], content="fire " + words(7), order=200),
            dragon(2, 5, order=100),
            LorebookEntry(uid=3, keys=["fire"], content="x"),
        ]
    )

    result = activate(book)

    assert [entry.uid for entry in result.entries] == [1]
    assert result.passes == 1


@pytest.mark.parametrize(
    ("overflow_alert", "alert"),
    [(True, "World info budget reached after 1 entries."), (False, "")],
    ids=["alert-on-says-so", "alert-off-is-silent"],
)
def test_overflow_alert(overflow_alert: bool, alert: str) -> None:
    settings = ActivationSettings(context_tokens=100, budget_percent=10, overflow_alert=overflow_alert)

    result = activate(Lorebook(entries=[dragon(1, 8, order=2), dragon(2, 8, order=1)]), settings=settings)

    assert result.alert == alert


def test_tokens_are_counted_with_the_offline_tokenizer_by_default() -> None:
    book = Lorebook(entries=[LorebookEntry(uid=1, constant=True, content="Dragons breathe fire.")])

    result = lorebook_activate(
        books=[BookInput(id=1, book=book)],
        history=[],
        settings=ActivationSettings(),
        state={},
        turn=0,
        rng=random.Random(0),
    )

    assert [entry.tokens for entry in result.entries] == [5]  # Drag|ons| breathe| fire|.
    assert result.tokens_used == 5
