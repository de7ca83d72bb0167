"""Where activated entries go: grouped by position, at depth by depth and role, outlets, insertion order."""

import random

from characters.cards.lorebook.book import Lorebook, LorebookEntry, Position, Role
from chats.prompting.lorebook import (
    ActivatedEntry,
    ActivationResult,
    ActivationSettings,
    BookInput,
    Reason,
    ScanMessage,
    lorebook_activate,
)


def activate(*entries: LorebookEntry) -> ActivationResult:
    return lorebook_activate(
        books=[BookInput(id="world", book=Lorebook(entries=list(entries)))],
        history=[ScanMessage(name="User", text="hello", is_user=True)],
        settings=ActivationSettings(),
        state={},
        turn=1,
        rng=random.Random(0),
        count_tokens=lambda text: len(text.split()),
    )


def lore(uid: int, **fields: object) -> LorebookEntry:
    fields.setdefault("content", f"lore {uid}")
    return LorebookEntry(uid=uid, constant=True, **fields)  # type: ignore[arg-type]


def uids(entries: tuple[ActivatedEntry, ...]) -> list[int | str | None]:
    return [entry.uid for entry in entries]


def test_entries_are_grouped_by_position() -> None:
    result = activate(*(lore(number, position=position) for number, position in enumerate(Position, start=1)))

    assert uids(result.before_char) == [1]
    assert uids(result.after_char) == [2]
    assert uids(result.an_top) == [3]
    assert uids(result.an_bottom) == [4]
    assert uids(result.at_position(Position.AT_DEPTH)) == [5]
    assert uids(result.em_top) == [6]
    assert uids(result.em_bottom) == [7]
    assert uids(result.at_position(Position.OUTLET)) == [8]


def test_each_position_lists_lower_orders_first() -> None:
    result = activate(
        lore(1, order=300),
        lore(2, order=5),
        lore(3, order=40, position=Position.AFTER_CHAR),
        lore(4, order=100),
        lore(5, order=1, position=Position.AFTER_CHAR),
    )

    assert uids(result.before_char) == [2, 4, 1]
    assert uids(result.after_char) == [5, 3]
    assert uids(result.entries) == [5, 2, 3, 4, 1]


def test_equal_orders_put_the_higher_priority_entry_last() -> None:
    result = activate(
        LorebookEntry(uid=1, keys=["hello"], content="keyed"),
        lore(2),
        lore(3),
    )

    assert uids(result.before_char) == [1, 3, 2]


def test_at_depth_entries_are_grouped_by_depth_and_role() -> None:
    result = activate(
        lore(1, position=Position.AT_DEPTH, depth=4, order=20),
        lore(2, position=Position.AT_DEPTH, depth=4, role=Role.USER),
        lore(3, position=Position.AT_DEPTH, depth=0, role=Role.ASSISTANT),
        lore(4, position=Position.AT_DEPTH, depth=4, order=10),
    )

    assert {place: uids(entries) for place, entries in result.at_depth.items()} == {
        (4, Role.SYSTEM): [4, 1],
        (4, Role.USER): [2],
        (0, Role.ASSISTANT): [3],
    }


def test_outlet_entries_are_grouped_by_name() -> None:
    result = activate(
        lore(1, position=Position.OUTLET, outlet_name="map", order=2),
        lore(2, position=Position.OUTLET, outlet_name="inventory"),
        lore(3, position=Position.OUTLET, outlet_name="map", order=1),
    )

    assert {name: uids(entries) for name, entries in result.outlet.items()} == {
        "map": [3, 1],
        "inventory": [2],
    }


def test_activated_entry_carries_what_the_prompt_builder_needs() -> None:
    entry = lore(7, position=Position.AT_DEPTH, depth=2, role=Role.USER, order=42, content="two words")

    result = activate(entry)

    assert result.entries == (
        ActivatedEntry(
            book_id="world",
            entry=entry,
            content="two words",
            position=Position.AT_DEPTH,
            depth=2,
            role=Role.USER,
            order=42,
            outlet_name="",
            reason=Reason.CONSTANT,
            tokens=2,
        ),
    )


def test_entry_with_empty_content_activates_but_inserts_nothing() -> None:
    result = activate(lore(1, content="  "), lore(2))

    assert uids(result.entries) == [2]
    line = result.report_for("world", 1)
    assert (line.activated, line.detail) == (True, "constant; its content is empty, nothing is inserted")
