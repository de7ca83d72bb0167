"""JSON cards: V1/V2/V3 parsing, leniency, field-path errors, strict export, round trips."""

import json
import random

import pytest

from characters.cards import (
    CardData,
    CardError,
    Lorebook,
    LorebookEntry,
    card_from_json,
    card_to_v2_dict,
    card_to_v3_dict,
    export_json,
    parse_card_bytes,
)

MAX_BYTES = 20_000_000


def _parse_json(value: object) -> tuple[CardData, str]:
    result = parse_card_bytes(json.dumps(value).encode(), max_bytes=MAX_BYTES)
    assert result.avatar_png is None
    assert result.assets == {}
    return result.card, result.spec_version


def _v2(**data: object) -> dict[str, object]:
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Aria", **data}}


def _v3(**data: object) -> dict[str, object]:
    return {"spec": "chara_card_v3", "spec_version": "3.0", "data": {"name": "Aria", **data}}


def _full_card(description: str = "A bard.") -> CardData:
    return CardData(
        name="Aria",
        nickname="Ari",
        description=description,
        personality="cheerful",
        scenario="A tavern at dusk.",
        first_mes="Hello, {{user}}!",
        mes_example="<START>\n{{char}}: Hi.",
        alternate_greetings=["Hi again.", "Good evening."],
        group_only_greetings=["Hello, everyone."],
        system_prompt="Stay in character.",
        post_history_instructions="Be brief.",
        creator_notes="Made for testing.",
        creator_notes_multilingual={"en": "Made for testing.", "ja": "テスト用。"},
        creator="tester",
        character_version="1.2",
        tags=["bard", "fantasy"],
        source=["https://example.com/aria"],
        creation_date=1_700_000_000,
        modification_date=1_700_000_500,
        extensions={"talkativeness": "0.5", "depth_prompt": {"prompt": "x", "depth": 4}},
        assets=[{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}],
        character_book=Lorebook(
            name="Aria's world",
            entries=[LorebookEntry(uid=0, keys=["lute"], content="Aria plays the lute.")],
        ),
        extra={"x_custom": [1, 2, 3]},
    )


def _random_text(size: int) -> str:
    """Text that does not compress well, so archives stay under ratio limits."""
    rng = random.Random(7)
    words = ["lute", "tavern", "ember", "星", "月", "🎻", "story", "quiet", "rain", "歌"]
    parts: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(words) + str(rng.randrange(1000))
        parts.append(word)
        length += len(word.encode()) + 1
    return " ".join(parts)


def test_v1_card_reads_flat_fields():
    card, spec_version = _parse_json(
        {
            "name": "Aria",
            "description": "A bard.",
            "personality": "cheerful",
            "scenario": "A tavern.",
            "first_mes": "Hello!",
            "mes_example": "<START>",
        }
    )

    assert spec_version == "v1"
    assert card == CardData(
        name="Aria",
        description="A bard.",
        personality="cheerful",
        scenario="A tavern.",
        first_mes="Hello!",
        mes_example="<START>",
    )


def test_v1_card_from_sillytavern_moves_its_extras_like_sillytavern():
    card, _ = _parse_json(
        {
            "name": "Aria",
            "creatorcomment": "notes",
            "talkativeness": "0.5",
            "fav": False,
            "avatar": "none",
            "chat": "Aria - 2023-5-12",
            "create_date": "2023-5-12",
            "world": "Eldoria",
        }
    )

    assert card.creator_notes == "notes"
    assert card.extensions == {"talkativeness": "0.5", "fav": False}
    assert card.extra == {"world": "Eldoria"}


def test_gradio_card_maps_its_field_names():
    card, spec_version = _parse_json(
        {
            "char_name": "Aria",
            "char_persona": "A bard.",
            "world_scenario": "A tavern.",
            "char_greeting": "Hello!",
            "example_dialogue": "<START>",
        }
    )

    assert spec_version == "v1"
    assert (card.name, card.description, card.scenario, card.first_mes, card.mes_example) == (
        "Aria",
        "A bard.",
        "A tavern.",
        "Hello!",
        "<START>",
    )


def test_v2_card_reads_data_and_ignores_top_level_mirror():
    card, spec_version = _parse_json(
        {
            **_v2(description="inside data", alternate_greetings=["Hi."], tags=["a"]),
            "description": "top-level mirror",
            "talkativeness": "0.5",
        }
    )

    assert spec_version == "v2"
    assert card == CardData(name="Aria", description="inside data", alternate_greetings=["Hi."], tags=["a"])


def test_v2_card_without_name_in_data_falls_back_to_top_level_name():
    card, _ = _parse_json({"spec": "chara_card_v2", "name": "Top", "data": {"description": "d"}})

    assert card.name == "Top"


def test_v3_card_reads_every_field():
    card = _full_card()

    parsed, spec_version = _parse_json(card_to_v3_dict(card))

    assert spec_version == "v3"
    assert parsed == card


@pytest.mark.parametrize(
    ("spec", "spec_version", "expected"),
    [
        ("chara_card_v3", "3.0", "v3"),
        ("chara_card_v2", "2.0", "v2"),
        (None, "3.0", "v3"),
        ("something_else", "2.0", "v2"),
        (None, None, "v2"),
    ],
    ids=["v3-spec", "v2-spec", "no-spec-version-3", "unknown-spec-version-2", "data-only"],
)
def test_spec_version_comes_from_spec_then_spec_version(spec, spec_version, expected):
    obj: dict[str, object] = {"data": {"name": "Aria"}}
    if spec is not None:
        obj["spec"] = spec
    if spec_version is not None:
        obj["spec_version"] = spec_version

    assert card_from_json(obj)[1] == expected


@pytest.mark.parametrize(
    ("data", "attribute", "expected"),
    [
        ({"description": None}, "description", ""),
        ({"character_version": 1.0}, "character_version", "1"),
        ({"character_version": 2.5}, "character_version", "2.5"),
        ({"alternate_greetings": None}, "alternate_greetings", []),
        ({"alternate_greetings": "Hi there, friend"}, "alternate_greetings", ["Hi there, friend"]),
        ({"alternate_greetings": ["a", None, "b"]}, "alternate_greetings", ["a", "b"]),
        ({"tags": "fantasy, bard ,,"}, "tags", ["fantasy", "bard"]),
        ({"tags": [1, "two"]}, "tags", ["1", "two"]),
        ({"extensions": None}, "extensions", {}),
        ({"extensions": {"talkativeness": "0.5"}}, "extensions", {"talkativeness": "0.5"}),
        ({"creation_date": "1700000000"}, "creation_date", 1_700_000_000),
        ({"creation_date": 1700000000.75}, "creation_date", 1_700_000_000),
        ({"modification_date": None}, "modification_date", None),
        (
            {"assets": [{"type": "icon", "uri": "ccdefault:"}]},
            "assets",
            [{"type": "icon", "uri": "ccdefault:", "name": "", "ext": "unknown"}],
        ),
        (
            {
                "assets": [
                    {"type": "x_voice", "uri": "https://a/b.mp3", "name": "v", "ext": "mp3", "x_meta": 1}
                ]
            },
            "assets",
            [{"type": "x_voice", "uri": "https://a/b.mp3", "name": "v", "ext": "mp3", "x_meta": 1}],
        ),
        ({"character_book": {"name": "W"}}, "character_book", Lorebook(name="W")),
    ],
    ids=[
        "null-string-is-empty",
        "integral-number-version-is-text",
        "fractional-number-version-is-text",
        "null-list-is-empty",
        "lone-greeting-string-is-one-greeting",
        "null-items-are-dropped",
        "comma-separated-tags-are-split",
        "number-tags-are-text",
        "null-extensions-are-empty",
        "talkativeness-string-stays-untouched",
        "numeric-string-date",
        "fractional-date-is-truncated",
        "null-date-stays-unset",
        "asset-without-name-and-ext",
        "asset-keeps-unknown-keys",
        "book-without-entries-or-extensions",
    ],
)
def test_lenient_reading_of_loose_values(data, attribute, expected):
    card, _ = _parse_json(_v2(**data))

    assert getattr(card, attribute) == expected


@pytest.mark.parametrize(
    ("card_json", "message"),
    [
        (_v2(name={"first": "A"}), "data.name: expected a string, got object"),
        (_v2(alternate_greetings=3), "data.alternate_greetings: expected an array of strings, got number"),
        (
            _v2(alternate_greetings=["ok", {"x": 1}]),
            "data.alternate_greetings[1]: expected a string, got object",
        ),
        (_v2(tags=True), "data.tags: expected an array of strings, got boolean"),
        (_v2(extensions=[1]), "data.extensions: expected an object, got array"),
        (_v3(creation_date="yesterday"), "data.creation_date: expected an integer, got 'yesterday'"),
        (_v3(creation_date=True), "data.creation_date: expected an integer, got boolean"),
        (_v3(assets={"type": "icon"}), "data.assets: expected an array of assets"),
        (
            _v3(assets=[{"type": "icon", "uri": 5.5, "name": []}]),
            "data.assets[0].name: expected a string, got array",
        ),
        (
            _v3(creator_notes_multilingual={"en": ["x"]}),
            "data.creator_notes_multilingual.en: expected a string, got array",
        ),
        (_v2(character_book=[]), "data.character_book: expected an object"),
        (
            _v2(character_book={"entries": [{"keys": 7}]}),
            "data.character_book.entries[0].keys: expected an array of strings, got number",
        ),
        ({"spec": "chara_card_v2", "data": "Aria"}, "data: expected an object"),
        ({"description": "no name"}, "card: not a character card (no 'data' object and no 'name')"),
        ({"name": ["Aria"]}, "card.name: expected a string, got array"),
    ],
    ids=[
        "name-is-object",
        "greetings-is-number",
        "greeting-item-is-object",
        "tags-is-boolean",
        "extensions-is-array",
        "date-is-word",
        "date-is-boolean",
        "assets-is-object",
        "asset-name-is-array",
        "multilingual-note-is-array",
        "book-is-array",
        "book-entry-keys-is-number",
        "data-is-string",
        "no-name-and-no-data",
        "v1-name-is-array",
    ],
)
def test_uninterpretable_values_raise_card_error_naming_the_field(card_json, message):
    with pytest.raises(CardError) as raised:
        _parse_json(card_json)

    assert str(raised.value) == message


def test_top_level_json_that_is_not_an_object_is_refused():
    with pytest.raises(CardError) as raised:
        parse_card_bytes(b'["Aria"]', max_bytes=MAX_BYTES)

    assert str(raised.value) == "not a character card: expected a PNG, CHARX (zip) or JSON file"


def test_unknown_data_keys_are_kept_and_written_back():
    card, _ = _parse_json(_v3(x_app={"theme": "dark"}, risu_flag=True))

    assert card.extra == {"x_app": {"theme": "dark"}, "risu_flag": True}
    assert card_to_v3_dict(card)["data"]["x_app"] == {"theme": "dark"}
    assert card_to_v2_dict(card)["data"]["risu_flag"] is True


def test_v2_export_is_exactly_the_v2_spec_shape():
    card = CardData(name="Aria", nickname="Ari", group_only_greetings=["Hi all"], source=["x"])

    assert card_to_v2_dict(card) == {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": "Aria",
            "description": "",
            "personality": "",
            "scenario": "",
            "first_mes": "",
            "mes_example": "",
            "creator_notes": "",
            "system_prompt": "",
            "post_history_instructions": "",
            "alternate_greetings": [],
            "tags": [],
            "creator": "",
            "character_version": "",
            "extensions": {},
        },
    }


def test_v3_export_writes_required_fields_and_only_the_optional_ones_set():
    card = CardData(name="Aria", creation_date=0)

    data = card_to_v3_dict(card)["data"]

    assert sorted(data) == sorted(
        [
            "name",
            "description",
            "personality",
            "scenario",
            "first_mes",
            "mes_example",
            "creator_notes",
            "system_prompt",
            "post_history_instructions",
            "alternate_greetings",
            "tags",
            "creator",
            "character_version",
            "extensions",
            "group_only_greetings",
            "creation_date",
        ]
    )
    assert data["creation_date"] == 0


def test_v3_export_of_a_card_with_a_book_writes_the_book():
    card = _full_card()

    book = card_to_v3_dict(card)["data"]["character_book"]

    assert book["name"] == "Aria's world"
    assert book["extensions"] == {}
    assert book["entries"][0]["keys"] == ["lute"]


def test_known_fields_win_over_colliding_extra_keys():
    card = CardData(name="Aria", extra={"name": "Other", "x": 1})

    data = card_to_v3_dict(card)["data"]

    assert (data["name"], data["x"]) == ("Aria", 1)


@pytest.mark.parametrize(
    "description",
    ["A bard. 吟遊詩人です。歌が好き。", "🎻🐉✨ with ZWJ 👩‍👩‍👧 and flags 🇯🇵", _random_text(1_000_000)],
    ids=["cjk", "emoji", "one-megabyte"],
)
@pytest.mark.parametrize("spec", ["v2", "v3"], ids=["as-v2", "as-v3"])
def test_json_round_trip(description, spec):
    card = CardData(
        name="Aria 星",
        description=description,
        alternate_greetings=["こんにちは", "🎉"],
        tags=["歌"],
        extensions={"emoji": "🐉", "nested": {"list": [1, 2.5, None, True]}},
        character_book=Lorebook(entries=[LorebookEntry(uid=1, keys=["月"], content=description[:100])]),
        extra={"x_note": "メモ"},
    )

    exported = export_json(card, spec)
    parsed = parse_card_bytes(exported, max_bytes=MAX_BYTES)

    assert parsed.card == card
    assert parsed.spec_version == spec


def test_json_export_keeps_non_ascii_text_unescaped():
    exported = export_json(CardData(name="星 🎻"), "v3")

    assert "星 🎻".encode() in exported


def test_v3_round_trip_of_every_field_is_exact():
    card = _full_card()

    assert card_from_json(json.loads(export_json(card, "v3"))) == (card, "v3")


def test_v2_export_drops_v3_only_fields():
    card = _full_card()

    parsed, spec_version = card_from_json(json.loads(export_json(card, "v2")))

    assert spec_version == "v2"
    assert parsed == CardData(
        **{
            **card.__dict__,
            "nickname": "",
            "group_only_greetings": [],
            "creator_notes_multilingual": {},
            "source": [],
            "creation_date": None,
            "modification_date": None,
            "assets": [],
        }
    )


def test_v1_card_round_trips_through_v2_and_v3():
    v1 = {
        "name": "Aria",
        "description": "d",
        "personality": "p",
        "scenario": "s",
        "first_mes": "f",
        "mes_example": "m",
    }
    card, _ = _parse_json(v1)

    for spec in ("v2", "v3"):
        assert parse_card_bytes(export_json(card, spec), max_bytes=MAX_BYTES).card == card


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"name": "Aria",', "JSON card: invalid JSON"),
        (b'{"name": "\xff"}', "JSON card: not UTF-8 text (byte 10)"),
        (b'{"name": NaN}', "JSON card: invalid JSON: NaN is not allowed"),
        (b'{"a":' * 100 + b"1" + b"}" * 100, "JSON card: JSON nested deeper than 64 levels"),
        (b'{"a":' * 100_000, "JSON card: "),
    ],
    ids=["truncated", "bad-utf8", "nan", "deeply-nested", "recursion-bomb"],
)
def test_broken_json_raises_card_error(raw, message):
    with pytest.raises(CardError) as raised:
        parse_card_bytes(raw, max_bytes=MAX_BYTES)

    assert str(raised.value).startswith(message)


def test_json_with_bom_and_leading_whitespace_is_read():
    parsed = parse_card_bytes(b'\xef\xbb\xbf \n{"name": "Aria"}', max_bytes=MAX_BYTES)

    assert parsed.card.name == "Aria"


def test_lone_surrogate_from_a_cut_emoji_becomes_replacement_character():
    parsed = parse_card_bytes(b'{"name": "Aria \\ud83c"}', max_bytes=MAX_BYTES)

    assert parsed.card.name == "Aria \ufffd"
    assert json.loads(export_json(parsed.card, "v3"))["data"]["name"] == "Aria \ufffd"


def test_format_is_sniffed_from_content_not_filename():
    parsed = parse_card_bytes(b'{"name": "Aria"}', filename="aria.png", max_bytes=MAX_BYTES)

    assert parsed.card.name == "Aria"


def test_filename_is_named_in_errors():
    with pytest.raises(CardError) as raised:
        parse_card_bytes(b"hello", filename="aria.json", max_bytes=MAX_BYTES)

    assert str(raised.value) == ("aria.json: not a character card: expected a PNG, CHARX (zip) or JSON file")


def test_upload_over_max_bytes_is_refused_before_parsing():
    with pytest.raises(CardError) as raised:
        parse_card_bytes(b'{"name": "Aria"}', max_bytes=10)

    assert str(raised.value) == "file is 16 bytes, more than the limit of 10"
