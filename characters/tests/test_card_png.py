"""PNG cards: tEXt chunks read and written by hand, pixels untouched, every damage refused."""

import base64
import io
import json
import struct
import zlib

import pytest
from PIL import Image

from characters.cards import CardData, CardError, Lorebook, LorebookEntry, export_png, parse_card_bytes
from characters.cards.png import read_card_chunks, strip_card_chunks, write_card_png

MAX_BYTES = 20_000_000


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _text(keyword: str, value: str) -> bytes:
    return _chunk(b"tEXt", keyword.encode("latin-1") + b"\x00" + value.encode("latin-1"))


def _card_text(keyword: str, card_json: object) -> bytes:
    return _text(keyword, base64.b64encode(json.dumps(card_json).encode()).decode())


IHDR = _chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0))
IDAT = _chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00\x00\x00\xff"))
IEND = _chunk(b"IEND", b"")
SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLAIN_PNG = SIGNATURE + IHDR + IDAT + IEND


def _png(*middle: bytes) -> bytes:
    return SIGNATURE + IHDR + IDAT + b"".join(middle) + IEND


def _v2(name: str) -> dict[str, object]:
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": name}}


def _v3(name: str) -> dict[str, object]:
    return {"spec": "chara_card_v3", "spec_version": "3.0", "data": {"name": name}}


def _chunk_kinds(png: bytes) -> list[tuple[bytes, str]]:
    kinds: list[tuple[bytes, str]] = []
    offset = 8
    while offset < len(png):
        (length,) = struct.unpack_from(">I", png, offset)
        kind = png[offset + 4 : offset + 8]
        keyword = png[offset + 8 : offset + 8 + length].split(b"\x00")[0].decode() if kind == b"tEXt" else ""
        kinds.append((kind, keyword))
        offset += 12 + length
    return kinds


def test_v2_card_in_chara_chunk_is_read():
    parsed = parse_card_bytes(_png(_card_text("chara", _v2("Aria"))), max_bytes=MAX_BYTES)

    assert (parsed.card.name, parsed.spec_version) == ("Aria", "v2")


def test_ccv3_chunk_wins_over_chara_whatever_the_order():
    png = _png(_card_text("ccv3", _v3("From V3")), _card_text("chara", _v2("From V2")))

    parsed = parse_card_bytes(png, max_bytes=MAX_BYTES)

    assert (parsed.card.name, parsed.spec_version) == ("From V3", "v3")


def test_v1_card_in_chara_chunk_is_read():
    png = _png(_card_text("chara", {"name": "Old", "description": "d"}))

    parsed = parse_card_bytes(png, max_bytes=MAX_BYTES)

    assert (parsed.card.name, parsed.card.description, parsed.spec_version) == ("Old", "d", "v1")


def test_read_card_chunks_returns_first_value_of_each_card_keyword_only():
    png = _png(
        _text("Software", "paint"), _text("chara", "AAAA"), _text("CHARA", "BBBB"), _text("ccv3", "CCCC")
    )

    assert read_card_chunks(png) == {"chara": "AAAA", "ccv3": "CCCC"}


def test_avatar_is_the_image_without_card_chunks():
    png = _png(_text("Software", "paint"), _card_text("chara", _v2("Aria")))

    parsed = parse_card_bytes(png, max_bytes=MAX_BYTES)

    assert parsed.avatar_png == _png(_text("Software", "paint"))


def test_write_replaces_old_card_chunks_with_chara_then_ccv3_before_iend():
    png = _png(_card_text("chara", _v2("Old")), _text("Software", "paint"), _card_text("ccv3", _v3("Old")))

    written = write_card_png(png, v2_json=_v2("New"), v3_json=_v3("New"))

    assert _chunk_kinds(written) == [
        (b"IHDR", ""),
        (b"IDAT", ""),
        (b"tEXt", "Software"),
        (b"tEXt", "chara"),
        (b"tEXt", "ccv3"),
        (b"IEND", ""),
    ]
    assert IDAT in written
    assert json.loads(base64.b64decode(read_card_chunks(written)["chara"])) == _v2("New")
    assert json.loads(base64.b64decode(read_card_chunks(written)["ccv3"])) == _v3("New")


def test_written_png_is_still_a_valid_image():
    written = export_png(CardData(name="Aria"), PLAIN_PNG)

    with Image.open(io.BytesIO(written)) as image:
        image.load()
        assert (image.size, image.getpixel((0, 0))) == ((2, 1), (255, 0, 0))


def test_bytes_after_iend_are_dropped_on_write():
    written = write_card_png(PLAIN_PNG + b"trailing", v2_json=_v2("A"), v3_json=_v3("A"))

    assert written.endswith(IEND)


def test_strip_card_chunks_of_a_plain_png_changes_nothing():
    assert strip_card_chunks(PLAIN_PNG) == PLAIN_PNG


def _card_with(description: str) -> CardData:
    return CardData(
        name="Aria 星",
        nickname="アリア",
        description=description,
        alternate_greetings=["🎉 hi"],
        group_only_greetings=["皆さん"],
        creation_date=1_700_000_000,
        extensions={"talkativeness": "0.5"},
        character_book=Lorebook(entries=[LorebookEntry(uid=0, keys=["月"], content="🌙")]),
        extra={"x_unknown": {"a": [1]}},
    )


@pytest.mark.parametrize(
    "description",
    ["吟遊詩人です。", "🎻🐉 👩‍👩‍👧", "長" * 350_000],
    ids=["cjk", "emoji", "one-megabyte-of-cjk"],
)
def test_png_round_trip_is_exact_through_ccv3(description):
    card = _card_with(description)

    parsed = parse_card_bytes(export_png(card, PLAIN_PNG), max_bytes=MAX_BYTES)

    assert parsed.card == card
    assert parsed.spec_version == "v3"
    assert parsed.avatar_png == PLAIN_PNG


def test_chara_chunk_of_an_export_holds_the_v2_card():
    card = _card_with("d")

    chunks = read_card_chunks(export_png(card, PLAIN_PNG))

    v2 = json.loads(base64.b64decode(chunks["chara"]))
    assert (v2["spec"], v2["data"]["name"], "nickname" in v2["data"]) == ("chara_card_v2", "Aria 星", False)


def test_export_without_avatar_generates_one():
    written = export_png(CardData(name="Aria"), None)

    with Image.open(io.BytesIO(written)) as image:
        assert (image.format, image.size) == ("PNG", (256, 256))
    assert parse_card_bytes(written, max_bytes=MAX_BYTES).card == CardData(name="Aria")


def _bad_crc() -> bytes:
    png = bytearray(_png(_card_text("chara", _v2("A"))))
    png[-20] ^= 0xFF  # a byte of the tEXt text, so its CRC no longer matches
    return bytes(png)


@pytest.mark.parametrize(
    ("png", "message"),
    [
        (
            b"\x89PNX\r\n\x1a\n" + IHDR + IEND,
            "not a character card: expected a PNG, CHARX (zip) or JSON file",
        ),
        (_png(_card_text("chara", _v2("A")))[:-30], "PNG chunk tEXt is truncated"),
        (PLAIN_PNG[:-12], "PNG is truncated (no IEND chunk)"),
        (_bad_crc(), "PNG chunk tEXt has a bad CRC"),
        (SIGNATURE + IDAT + IHDR + IEND, "PNG does not start with an IHDR chunk"),
        (
            SIGNATURE + IHDR + b"\x00\x00\x00\x00\x00\x01\x02\x03" + IEND,
            "PNG chunk at byte 33 has an invalid type",
        ),
        (SIGNATURE + IHDR + b"\xff\xff\xff\xffIDAT", "PNG chunk IDAT declares an invalid length 4294967295"),
        (PLAIN_PNG, "PNG has no character card (no 'chara' or 'ccv3' text chunk)"),
        (_png(_text("chara", "not base64 ***")), "PNG chunk 'chara' is not valid base64"),
        (
            _png(_text("ccv3", base64.b64encode(b'{"name": "\xff"}').decode())),
            "PNG chunk 'ccv3': not UTF-8 text (byte 10)",
        ),
        (_png(_text("chara", base64.b64encode(b'{"name": ').decode())), "PNG chunk 'chara': invalid JSON"),
        (_png(_card_text("chara", ["not", "a", "card"])), "card: expected a JSON object"),
    ],
    ids=[
        "bad-signature",
        "truncated-chunk",
        "no-iend",
        "bad-crc",
        "no-ihdr-first",
        "invalid-chunk-type",
        "impossible-length",
        "no-card-chunk",
        "bad-base64",
        "bad-utf8",
        "bad-json",
        "json-not-an-object",
    ],
)
def test_damaged_png_raises_card_error(png, message):
    with pytest.raises(CardError) as raised:
        parse_card_bytes(png, max_bytes=MAX_BYTES)

    assert str(raised.value).startswith(message)


def test_base64_without_padding_or_with_line_breaks_is_read():
    encoded = base64.b64encode(json.dumps(_v2("Aria")).encode()).decode().rstrip("=")
    wrapped = "\n".join(encoded[index : index + 76] for index in range(0, len(encoded), 76))

    parsed = parse_card_bytes(_png(_text("chara", wrapped)), max_bytes=MAX_BYTES)

    assert parsed.card.name == "Aria"


def test_writing_into_a_damaged_png_raises_card_error():
    with pytest.raises(CardError) as raised:
        write_card_png(PLAIN_PNG[:-12], v2_json=_v2("A"), v3_json=_v3("A"))

    assert str(raised.value) == "PNG is truncated (no IEND chunk)"
