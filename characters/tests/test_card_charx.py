"""CHARX archives: round trips with assets, and refusal of traversal, bombs and damage."""

import io
import json
import random
import struct
import zipfile

import pytest

from characters.cards import CardData, CardError, Lorebook, LorebookEntry, export_charx, parse_card_bytes
from characters.cards.charx import read_charx, write_charx

MAX_BYTES = 20_000_000
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"not really pixels"


def _zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _card_json(name: str = "Aria", **data: object) -> bytes:
    return json.dumps(
        {"spec": "chara_card_v3", "spec_version": "3.0", "data": {"name": name, **data}}
    ).encode()


def _random_text(size: int) -> str:
    rng = random.Random(11)
    words = ["ember", "lute", "星", "歌", "🎻", "rain", "moss", "月"]
    parts: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(words) + str(rng.randrange(10_000))
        parts.append(word)
        length += len(word.encode()) + 1
    return " ".join(parts)


def test_charx_card_and_assets_are_read():
    data = _zip(
        {
            "card.json": _card_json(
                assets=[
                    {
                        "type": "icon",
                        "uri": "embeded://assets/icon/images/main.png",
                        "name": "main",
                        "ext": "png",
                    }
                ]
            ),
            "assets/icon/images/main.png": PNG_BYTES,
            "assets/emotion/images/joy.webp": b"RIFF....WEBP",
            "x_app.json": b"{}",
        }
    )

    parsed = parse_card_bytes(data, max_bytes=MAX_BYTES)

    assert (parsed.card.name, parsed.spec_version) == ("Aria", "v3")
    assert parsed.avatar_png == PNG_BYTES
    assert parsed.assets == {
        "assets/icon/images/main.png": PNG_BYTES,
        "assets/emotion/images/joy.webp": b"RIFF....WEBP",
        "x_app.json": b"{}",
    }


def test_directories_in_the_archive_are_skipped():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("assets/", b"")
        archive.writestr("card.json", _card_json())

    parsed = parse_card_bytes(buffer.getvalue(), max_bytes=MAX_BYTES)

    assert parsed.assets == {}


def test_icon_that_is_not_png_gives_no_avatar_but_stays_an_asset():
    data = _zip(
        {
            "card.json": _card_json(
                assets=[
                    {
                        "type": "icon",
                        "uri": "embeded://assets/icon/images/main.webp",
                        "name": "main",
                        "ext": "webp",
                    }
                ]
            ),
            "assets/icon/images/main.webp": b"RIFF....WEBP",
        }
    )

    parsed = parse_card_bytes(data, max_bytes=MAX_BYTES)

    assert parsed.avatar_png is None
    assert parsed.assets == {"assets/icon/images/main.webp": b"RIFF....WEBP"}


@pytest.mark.parametrize(
    "description",
    ["吟遊詩人", "🎻🐉 👩‍👩‍👧", _random_text(1_000_000)],
    ids=["cjk", "emoji", "one-megabyte"],
)
def test_charx_round_trip_is_exact(description):
    card = CardData(
        name="Aria 星",
        description=description,
        group_only_greetings=["皆さん 🎉"],
        assets=[
            {"type": "emotion", "uri": "embeded://assets/emotion/images/joy.png", "name": "joy", "ext": "png"}
        ],
        character_book=Lorebook(entries=[LorebookEntry(uid=0, keys=["月"], content="🌙")]),
        extra={"x_unknown": True},
    )
    assets = {"assets/emotion/images/joy.png": PNG_BYTES + b"joy"}

    parsed = parse_card_bytes(write_charx(card, assets), max_bytes=MAX_BYTES)

    assert parsed.card == card
    assert parsed.assets == assets
    assert parsed.avatar_png is None


def test_export_charx_adds_the_avatar_as_main_icon():
    card = CardData(name="Aria")

    parsed = parse_card_bytes(export_charx(card, {}, PNG_BYTES), max_bytes=MAX_BYTES)

    assert parsed.avatar_png == PNG_BYTES
    assert parsed.assets == {"assets/icon/images/main.png": PNG_BYTES}
    assert parsed.card == CardData(
        name="Aria",
        assets=[
            {"type": "icon", "uri": "embeded://assets/icon/images/main.png", "name": "main", "ext": "png"}
        ],
    )


def test_export_charx_points_a_default_main_icon_at_the_avatar():
    card = CardData(name="Aria", assets=[{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}])

    parsed = parse_card_bytes(export_charx(card, {}, PNG_BYTES), max_bytes=MAX_BYTES)

    assert parsed.card.assets == [
        {"type": "icon", "uri": "embeded://assets/icon/images/main.png", "name": "main", "ext": "png"}
    ]


def test_export_charx_is_reproducible():
    card = CardData(name="Aria")

    assert export_charx(card, {"a/b.txt": b"x"}, PNG_BYTES) == export_charx(
        card, {"a/b.txt": b"x"}, PNG_BYTES
    )


@pytest.mark.parametrize(
    "name",
    [
        "../card.json",
        "assets/../../etc/passwd",
        "/etc/passwd",
        "C:/windows/x",
        "assets\\..\\x",
        "assets//x",
        "./x",
    ],
    ids=[
        "parent",
        "nested-parent",
        "absolute",
        "drive-letter",
        "backslashes",
        "empty-segment",
        "dot-segment",
    ],
)
def test_unsafe_member_paths_are_refused(name):
    data = _zip({"card.json": _card_json(), name: b"x"})

    with pytest.raises(CardError) as raised:
        parse_card_bytes(data, max_bytes=MAX_BYTES)

    assert str(raised.value) == f"CHARX member {name!r}: unsafe path"


@pytest.mark.parametrize(
    "name",
    ["../evil.png", "card.json", "assets/"],
    ids=["traversal", "reserved-card-json", "directory"],
)
def test_unsafe_asset_paths_are_refused_on_write(name):
    with pytest.raises(CardError):
        write_charx(CardData(name="Aria"), {name: b"x"})


def test_too_many_entries_are_refused_before_reading():
    data = _zip({"card.json": _card_json(), **{f"assets/other/{index}.txt": b"" for index in range(30)}})

    with pytest.raises(CardError) as raised:
        read_charx(data, max_total_bytes=MAX_BYTES, max_entries=10)

    assert str(raised.value) == "CHARX has 31 entries, more than the limit of 10"


def test_declared_total_size_over_the_limit_is_refused():
    data = _zip({"card.json": _card_json(), "assets/other/big.bin": b"\x00" * 5_000})

    with pytest.raises(CardError) as raised:
        parse_card_bytes(data, max_bytes=4_000)

    assert str(raised.value) == "CHARX unpacks to more than the limit of 4000 bytes"


def test_compression_ratio_bomb_is_refused():
    data = _zip({"card.json": _card_json(), "assets/other/zeros.bin": b"\x00" * 5_000_000})

    with pytest.raises(CardError) as raised:
        parse_card_bytes(data, max_bytes=MAX_BYTES)

    assert str(raised.value) == "CHARX member 'assets/other/zeros.bin' is compressed suspiciously well"


def _with_declared_size(data: bytes, member: str, size: int) -> bytes:
    """The archive with one member's size fields (local and central) rewritten."""
    patched = bytearray(data)
    encoded = member.encode()
    for signature, size_offset, name_offset in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        position = patched.find(signature)
        while position >= 0:
            name_length_offset = name_offset - (4 if signature == b"PK\x03\x04" else 18)
            (name_length,) = struct.unpack_from("<H", patched, position + name_length_offset)
            if patched[position + name_offset : position + name_offset + name_length] == encoded:
                struct.pack_into("<I", patched, position + size_offset, size)
            position = patched.find(signature, position + 4)
    return bytes(patched)


def test_member_inflating_past_its_declared_size_is_cut_off_and_refused():
    data = _with_declared_size(
        _zip({"card.json": _card_json(), "assets/other/data.bin": bytes(range(256)) * 400}),
        "assets/other/data.bin",
        1_000,
    )

    with pytest.raises(CardError) as raised:
        parse_card_bytes(data, max_bytes=MAX_BYTES)

    assert (
        str(raised.value)
        == "CHARX is not a readable zip archive (Bad CRC-32 for file 'assets/other/data.bin')"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_zip({"character.json": _card_json()}), "CHARX has no card.json at its root"),
        (_zip({"card.json": b"{not json"}), "CHARX card.json: invalid JSON"),
        (_zip({"card.json": b'{"data": 1}'}), "data: expected an object"),
        (b"PK\x03\x04" + b"\x00" * 40, "CHARX is not a readable zip archive"),
        (_zip({"card.json": _card_json()})[:-10], "CHARX is not a readable zip archive"),
    ],
    ids=[
        "no-card-json",
        "card-json-not-json",
        "card-json-not-a-card",
        "garbage-after-signature",
        "truncated",
    ],
)
def test_damaged_charx_raises_card_error(data, message):
    with pytest.raises(CardError) as raised:
        parse_card_bytes(data, max_bytes=MAX_BYTES)

    assert str(raised.value).startswith(message)


def test_encrypted_member_is_refused():
    data = bytearray(_zip({"card.json": _card_json()}, compression=zipfile.ZIP_STORED))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.find(signature)
        data[position + flag_offset] |= 0x1

    with pytest.raises(CardError) as raised:
        parse_card_bytes(bytes(data), max_bytes=MAX_BYTES)

    assert str(raised.value) == "CHARX member 'card.json' is encrypted"


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_duplicate_member_names_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("card.json", _card_json("First"))
        archive.writestr("card.json", _card_json("Second"))

    with pytest.raises(CardError) as raised:
        parse_card_bytes(buffer.getvalue(), max_bytes=MAX_BYTES)

    assert str(raised.value) == "CHARX member 'card.json' appears twice"
