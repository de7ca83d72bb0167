"""Lorebooks: SillyTavern world files and character_book, defaults, mappings, round trips."""

import json

import pytest

from characters.cards import (
    CardError,
    Lorebook,
    LorebookEntry,
    Position,
    Role,
    SelectiveLogic,
    lorebook_from_book,
    lorebook_to_book,
    world_from_sillytavern,
    world_to_sillytavern,
)


def _sparse_world_entry(number: int, **fields: object) -> dict[str, object]:
    """An entry as in SillyTavern's bundled Eldoria.json: only nine fields."""
    return {
        "uid": number,
        "key": ["eldoria", "forest"],
        "keysecondary": [],
        "comment": "",
        "content": "Eldoria is a forest.",
        "constant": False,
        "selective": False,
        "order": 100,
        "position": 0,
        **fields,
    }


def _rich_entry() -> LorebookEntry:
    return LorebookEntry(
        uid=7,
        keys=["dragon", "/wyrm(s)?/i"],
        secondary_keys=["fire"],
        comment="Dragons",
        content="Dragons 🐉 live in 山.",
        constant=True,
        vectorized=True,
        selective=True,
        selective_logic=SelectiveLogic.NOT_ALL,
        order=42,
        position=Position.AT_DEPTH,
        disabled=True,
        exclude_recursion=True,
        prevent_recursion=True,
        delay_until_recursion=2,
        probability=55,
        use_probability=False,
        depth=6,
        outlet_name="side",
        group="beasts",
        group_override=True,
        group_weight=30,
        scan_depth=3,
        case_sensitive=True,
        match_whole_words=False,
        use_group_scoring=True,
        automation_id="auto-1",
        role=Role.ASSISTANT,
        sticky=2,
        cooldown=4,
        delay=1,
        display_index=9,
        match_persona_description=True,
        match_character_description=True,
        match_character_personality=True,
        match_character_depth_prompt=True,
        match_scenario=True,
        match_creator_notes=True,
        ignore_budget=True,
        triggers=["normal", "swipe"],
        name="dragon-entry",
        priority=5,
        use_regex=True,
        extra={"x_tool": {"v": 1}},
    )


def _rich_book() -> Lorebook:
    return Lorebook(
        name="Bestiary",
        description="Creatures",
        scan_depth=4,
        token_budget=1024,
        recursive_scanning=True,
        extensions={"x_book": True},
        entries=[_rich_entry(), LorebookEntry(uid=8, keys=["elf"], content="Elves.")],
        extra={"x_top": "kept"},
    )


def test_sparse_world_entry_gets_sillytavern_defaults():
    book = world_from_sillytavern({"entries": {"0": _sparse_world_entry(0)}})

    assert book == Lorebook(
        entries=[
            LorebookEntry(
                uid=0,
                keys=["eldoria", "forest"],
                content="Eldoria is a forest.",
                selective=False,
                order=100,
                position=Position.BEFORE_CHAR,
                probability=100,
                use_probability=True,
                depth=4,
                group_weight=100,
                role=Role.SYSTEM,
            )
        ]
    )


def test_missing_selective_in_a_world_entry_defaults_to_true_like_a_new_sillytavern_entry():
    entry = _sparse_world_entry(0)
    del entry["selective"]

    book = world_from_sillytavern({"entries": {"0": entry}})

    assert book.entries[0].selective is True


def test_missing_selective_in_a_book_entry_defaults_to_false_like_sillytavern_import():
    book = lorebook_from_book({"entries": [{"keys": ["a"], "content": "A", "enabled": True}]})

    assert book.entries[0].selective is False


@pytest.mark.parametrize(
    ("number", "position"),
    [
        (0, Position.BEFORE_CHAR),
        (1, Position.AFTER_CHAR),
        (2, Position.AN_TOP),
        (3, Position.AN_BOTTOM),
        (4, Position.AT_DEPTH),
        (5, Position.EM_TOP),
        (6, Position.EM_BOTTOM),
        (7, Position.OUTLET),
    ],
    ids=["before-char", "after-char", "an-top", "an-bottom", "at-depth", "em-top", "em-bottom", "outlet"],
)
def test_world_position_numbers_map_both_ways(number, position):
    book = world_from_sillytavern({"entries": {"0": _sparse_world_entry(0, position=number)}})

    assert book.entries[0].position == position
    assert world_to_sillytavern(book)["entries"]["0"]["position"] == number
    assert lorebook_to_book(book)["entries"][0]["extensions"]["position"] == number


@pytest.mark.parametrize(
    ("entry_json", "position"),
    [
        ({"position": "before_char"}, Position.BEFORE_CHAR),
        ({"position": "after_char"}, Position.AFTER_CHAR),
        ({"position": "after_char", "extensions": {"position": 4}}, Position.AT_DEPTH),
        ({"position": "before_char", "extensions": {"position": None}}, Position.BEFORE_CHAR),
        ({}, Position.AFTER_CHAR),
        ({"position": "sideways"}, Position.AFTER_CHAR),
        ({"position": 3}, Position.AN_BOTTOM),
    ],
    ids=[
        "v2-before-char",
        "v2-after-char",
        "sillytavern-extension-wins",
        "null-extension-falls-back",
        "missing-is-after-as-in-sillytavern",
        "unknown-string-is-after-as-in-sillytavern",
        "number-at-top-level",
    ],
)
def test_book_position_reads_v2_strings_and_sillytavern_extension(entry_json, position):
    book = lorebook_from_book({"entries": [{"keys": ["a"], "content": "A", "enabled": True, **entry_json}]})

    assert book.entries[0].position == position


@pytest.mark.parametrize(
    ("position", "v2_string"),
    [
        (Position.BEFORE_CHAR, "before_char"),
        (Position.AFTER_CHAR, "after_char"),
        (Position.AT_DEPTH, "after_char"),
    ],
    ids=["before", "after", "non-v2-position-is-after"],
)
def test_book_export_writes_the_v2_position_string(position, v2_string):
    book = lorebook_to_book(Lorebook(entries=[LorebookEntry(position=position)]))

    assert book["entries"][0]["position"] == v2_string


@pytest.mark.parametrize(
    ("number", "logic"),
    [
        (0, SelectiveLogic.AND_ANY),
        (1, SelectiveLogic.NOT_ALL),
        (2, SelectiveLogic.NOT_ANY),
        (3, SelectiveLogic.AND_ALL),
    ],
    ids=["and-any", "not-all", "not-any", "and-all"],
)
def test_selective_logic_numbers_map_both_ways(number, logic):
    book = world_from_sillytavern({"entries": {"0": _sparse_world_entry(0, selectiveLogic=number)}})

    assert book.entries[0].selective_logic == logic
    assert world_to_sillytavern(book)["entries"]["0"]["selectiveLogic"] == number
    assert lorebook_to_book(book)["entries"][0]["extensions"]["selectiveLogic"] == number


@pytest.mark.parametrize(
    ("number", "role"),
    [(0, Role.SYSTEM), (1, Role.USER), (2, Role.ASSISTANT), (None, Role.SYSTEM)],
    ids=["system", "user", "assistant", "null-is-system"],
)
def test_role_numbers_map(number, role):
    book = world_from_sillytavern({"entries": {"0": _sparse_world_entry(0, role=number)}})

    assert book.entries[0].role == role


def test_book_entry_reads_sillytavern_extensions_like_seraphina():
    book = lorebook_from_book(
        {
            "name": "Eldoria",
            "entries": [
                {
                    "id": 3,
                    "keys": ["power", "magic"],
                    "secondary_keys": [],
                    "comment": "",
                    "content": "Powers.",
                    "constant": False,
                    "selective": False,
                    "insertion_order": 100,
                    "enabled": True,
                    "position": "before_char",
                    "extensions": {"position": 0, "probability": None, "useProbability": False},
                }
            ],
        }
    )

    assert book == Lorebook(
        name="Eldoria",
        entries=[
            LorebookEntry(
                uid=3,
                keys=["power", "magic"],
                content="Powers.",
                selective=False,
                position=Position.BEFORE_CHAR,
                probability=100,
                use_probability=False,
            )
        ],
    )


def test_book_export_puts_spec_fields_on_top_and_sillytavern_fields_in_extensions():
    book = lorebook_to_book(_rich_book())

    entry = book["entries"][0]
    assert {key: value for key, value in entry.items() if key != "extensions"} == {
        "id": 7,
        "keys": ["dragon", "/wyrm(s)?/i"],
        "secondary_keys": ["fire"],
        "comment": "Dragons",
        "content": "Dragons 🐉 live in 山.",
        "constant": True,
        "selective": True,
        "insertion_order": 42,
        "name": "dragon-entry",
        "priority": 5,
        "use_regex": True,
        "enabled": False,
        "position": "after_char",
        "case_sensitive": True,
    }
    assert entry["extensions"] == {
        "x_tool": {"v": 1},
        "vectorized": True,
        "selectiveLogic": 1,
        "exclude_recursion": True,
        "prevent_recursion": True,
        "delay_until_recursion": 2,
        "probability": 55,
        "useProbability": False,
        "depth": 6,
        "outlet_name": "side",
        "group": "beasts",
        "group_override": True,
        "group_weight": 30,
        "scan_depth": 3,
        "match_whole_words": False,
        "use_group_scoring": True,
        "automation_id": "auto-1",
        "role": 2,
        "sticky": 2,
        "cooldown": 4,
        "delay": 1,
        "display_index": 9,
        "match_persona_description": True,
        "match_character_description": True,
        "match_character_personality": True,
        "match_character_depth_prompt": True,
        "match_scenario": True,
        "match_creator_notes": True,
        "ignore_budget": True,
        "triggers": ["normal", "swipe"],
        "position": 4,
        "case_sensitive": True,
    }
    assert {key: value for key, value in book.items() if key != "entries"} == {
        "x_top": "kept",
        "name": "Bestiary",
        "description": "Creatures",
        "scan_depth": 4,
        "token_budget": 1024,
        "recursive_scanning": True,
        "extensions": {"x_book": True},
    }


def test_world_export_writes_sillytavern_field_names():
    world = world_to_sillytavern(_rich_book())

    entry = world["entries"]["7"]
    assert entry == {
        "x_tool": {"v": 1},
        "uid": 7,
        "key": ["dragon", "/wyrm(s)?/i"],
        "keysecondary": ["fire"],
        "comment": "Dragons",
        "content": "Dragons 🐉 live in 山.",
        "constant": True,
        "selective": True,
        "order": 42,
        "vectorized": True,
        "selectiveLogic": 1,
        "excludeRecursion": True,
        "preventRecursion": True,
        "delayUntilRecursion": 2,
        "probability": 55,
        "useProbability": False,
        "depth": 6,
        "outletName": "side",
        "group": "beasts",
        "groupOverride": True,
        "groupWeight": 30,
        "scanDepth": 3,
        "matchWholeWords": False,
        "useGroupScoring": True,
        "automationId": "auto-1",
        "role": 2,
        "sticky": 2,
        "cooldown": 4,
        "delay": 1,
        "displayIndex": 9,
        "matchPersonaDescription": True,
        "matchCharacterDescription": True,
        "matchCharacterPersonality": True,
        "matchCharacterDepthPrompt": True,
        "matchScenario": True,
        "matchCreatorNotes": True,
        "ignoreBudget": True,
        "triggers": ["normal", "swipe"],
        "disable": True,
        "position": 4,
        "caseSensitive": True,
        "extensions": {"name": "dragon-entry", "priority": 5, "use_regex": True},
    }
    assert list(world["entries"]) == ["7", "8"]


@pytest.mark.parametrize(
    "book",
    [_rich_book(), Lorebook(), Lorebook(entries=[LorebookEntry(uid=0)])],
    ids=["every-field-set", "empty", "all-defaults"],
)
def test_world_round_trip_is_exact(book):
    world = json.loads(json.dumps(world_to_sillytavern(book)))

    assert world_from_sillytavern(world) == book


@pytest.mark.parametrize(
    "book",
    [_rich_book(), Lorebook(), Lorebook(entries=[LorebookEntry()])],
    ids=["every-field-set", "empty", "entry-without-uid"],
)
def test_book_round_trip_is_exact(book):
    assert lorebook_from_book(json.loads(json.dumps(lorebook_to_book(book)))) == book


def test_world_to_book_to_world_keeps_every_field():
    book = _rich_book()

    assert world_from_sillytavern(world_to_sillytavern(lorebook_from_book(lorebook_to_book(book)))) == book


def test_unknown_world_fields_are_kept():
    world = {
        "entries": {"0": _sparse_world_entry(0, addMemo=True, characterFilter={"names": ["A"]})},
        "x_world": 1,
    }

    book = world_from_sillytavern(world)

    assert book.entries[0].extra == {"addMemo": True, "characterFilter": {"names": ["A"]}}
    assert book.extra == {"x_world": 1}
    exported = world_to_sillytavern(book)
    assert exported["entries"]["0"]["characterFilter"] == {"names": ["A"]}
    assert exported["x_world"] == 1


def test_unknown_book_fields_are_kept_in_extensions():
    book = lorebook_from_book(
        {
            "entries": [
                {"keys": ["a"], "content": "A", "enabled": True, "x_top": 1, "extensions": {"x_ext": 2}}
            ],
            "x_book": 3,
        }
    )

    assert book.entries[0].extra == {"x_ext": 2, "x_top": 1}
    assert book.extra == {"x_book": 3}
    assert lorebook_to_book(book)["entries"][0]["extensions"]["x_top"] == 1


def test_world_entry_extensions_copied_from_a_card_keep_only_unknown_keys():
    entry = _sparse_world_entry(0, extensions={"position": 4, "depth": 9, "x_keep": True, "priority": 2})

    book = world_from_sillytavern({"entries": {"0": entry}})

    assert (book.entries[0].position, book.entries[0].depth) == (Position.BEFORE_CHAR, 4)
    assert book.entries[0].priority == 2
    assert book.entries[0].extra == {"x_keep": True}


def test_original_data_cache_of_a_world_is_not_kept():
    world = {"entries": {}, "originalData": {"entries": [{"keys": ["a"]}]}}

    assert world_from_sillytavern(world) == Lorebook()


def test_flattened_sillytavern_fields_on_a_book_entry_are_read():
    book = lorebook_from_book({"entries": [{"keys": ["a"], "enabled": True, "depth": 2, "probability": 40}]})

    assert (book.entries[0].depth, book.entries[0].probability) == (2, 40)
    assert book.entries[0].extra == {}


def test_world_entries_as_a_list_are_accepted():
    book = world_from_sillytavern({"entries": [{"key": ["a"], "content": "A"}]})

    assert book.entries[0].uid == 0


def test_world_export_gives_missing_and_duplicate_uids_the_next_free_number():
    book = Lorebook(
        entries=[LorebookEntry(uid=1), LorebookEntry(), LorebookEntry(uid=1), LorebookEntry(uid=0)]
    )

    world = world_to_sillytavern(book)

    assert [(key, entry["uid"]) for key, entry in world["entries"].items()] == [
        ("1", 1),
        ("2", 2),
        ("3", 3),
        ("0", 0),
    ]


@pytest.mark.parametrize(
    ("loose", "field", "expected"),
    [
        ({"order": "50"}, "order", 50),
        ({"probability": 75.0}, "probability", 75),
        ({"disable": 1}, "disabled", True),
        ({"constant": "true"}, "constant", True),
        ({"key": "a, b"}, "keys", ["a", "b"]),
        ({"caseSensitive": None}, "case_sensitive", None),
        ({"delayUntilRecursion": True}, "delay_until_recursion", True),
        ({"position": "at_depth"}, "position", Position.AT_DEPTH),
        ({"uid": "12"}, "uid", 12),
    ],
    ids=[
        "numeric-string-order",
        "integral-float-probability",
        "number-one-is-true",
        "true-string",
        "comma-separated-keys",
        "null-case-sensitive",
        "boolean-delay-until-recursion",
        "position-by-name",
        "numeric-string-uid",
    ],
)
def test_loose_world_values_are_interpreted(loose, field, expected):
    book = world_from_sillytavern({"entries": {"0": _sparse_world_entry(0, **loose)}})

    assert getattr(book.entries[0], field) == expected


@pytest.mark.parametrize(
    ("world", "message"),
    [
        ([], "world: expected an object with 'entries'"),
        ({"entries": 3}, "entries: expected an object of entries keyed by uid"),
        ({"entries": {"0": "text"}}, "entries.0: expected an object"),
        ({"entries": {"0": {"key": {"a": 1}}}}, "entries.0.key: expected an array of strings, got object"),
        (
            {"entries": {"0": {"position": 9}}},
            "entries.0.position: expected one of 0 (before_char), "
            "1 (after_char), 2 (an_top), 3 (an_bottom), 4 (at_depth), 5 (em_top), 6 (em_bottom), "
            "7 (outlet), got 9",
        ),
        (
            {"entries": {"0": {"selectiveLogic": "or"}}},
            "entries.0.selectiveLogic: expected one of "
            "0 (and_any), 1 (not_all), 2 (not_any), 3 (and_all), got 'or'",
        ),
        ({"entries": {"0": {"order": 1.5}}}, "entries.0.order: expected an integer, got 1.5"),
        ({"entries": {"0": {"disable": "maybe"}}}, "entries.0.disable: expected a boolean, got string"),
    ],
    ids=[
        "not-an-object",
        "entries-is-number",
        "entry-is-string",
        "keys-is-object",
        "position-out-of-range",
        "unknown-selective-logic",
        "fractional-order",
        "disable-is-word",
    ],
)
def test_uninterpretable_world_values_raise_card_error_naming_the_field(world, message):
    with pytest.raises(CardError) as raised:
        world_from_sillytavern(world)

    assert str(raised.value) == message
