"""Property tests: malformed bytes and values raise CardError and nothing else; whatever
parses round-trips exactly."""

import base64
import io
import json
import struct
import zipfile
import zlib

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from characters.cards import (
    CardError,
    ParsedCard,
    card_from_json,
    card_to_v3_dict,
    export_json,
    export_png,
    lorebook_from_book,
    lorebook_to_book,
    parse_card_bytes,
    world_from_sillytavern,
    world_to_sillytavern,
)

MAX_BYTES = 5_000_000
FUZZ = settings(database=None, deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


PLAIN_PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    + _chunk(b"IDAT", zlib.compress(b"\x00\x10\x20\x30"))
    + _chunk(b"IEND", b"")
)
CARD_JSON = {
    "spec": "chara_card_v3",
    "spec_version": "3.0",
    "data": {
        "name": "Aria",
        "alternate_greetings": ["hi"],
        "character_book": {"entries": [{"keys": ["a"], "content": "A", "enabled": True, "id": 1}]},
    },
}


def _png_with_text(keyword: bytes, text: bytes) -> bytes:
    return PLAIN_PNG[:-12] + _chunk(b"tEXt", keyword + b"\x00" + text) + PLAIN_PNG[-12:]


VALID_PNG = _png_with_text(b"ccv3", base64.b64encode(json.dumps(CARD_JSON).encode()))


def _charx(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


VALID_CHARX = _charx({"card.json": json.dumps(CARD_JSON).encode(), "assets/icon/images/main.png": PLAIN_PNG})


def _parse_or_card_error(data: bytes) -> ParsedCard | None:
    try:
        return parse_card_bytes(data, max_bytes=MAX_BYTES)
    except CardError:
        return None


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


def _maybe(plausible: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly plausible values, sometimes anything JSON can hold."""
    return st.one_of(plausible, plausible, json_values)


_numbers = st.integers(min_value=-5, max_value=200) | st.sampled_from(["3", "1.0", "", " 7 "])
book_entries = st.fixed_dictionaries(
    {},
    optional={
        "keys": _maybe(st.lists(st.text(max_size=8), max_size=3) | st.text(max_size=12)),
        "secondary_keys": _maybe(st.lists(st.text(max_size=8), max_size=3)),
        "content": _maybe(st.text(max_size=20)),
        "enabled": _maybe(st.booleans()),
        "insertion_order": _maybe(_numbers),
        "id": _maybe(st.integers(0, 20) | st.text(max_size=3)),
        "position": _maybe(st.sampled_from(["before_char", "after_char", "other"]) | st.integers(0, 8)),
        "selective": _maybe(st.booleans()),
        "constant": _maybe(st.booleans()),
        "case_sensitive": _maybe(st.booleans() | st.none()),
        "use_regex": _maybe(st.booleans()),
        "name": _maybe(st.text(max_size=5)),
        "priority": _maybe(_numbers),
        "depth": _maybe(_numbers),
        "x_unknown": json_values,
        "extensions": _maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "position": st.integers(0, 8) | st.none(),
                    "selectiveLogic": st.integers(0, 4),
                    "role": st.integers(0, 3) | st.none(),
                    "probability": _numbers | st.none(),
                    "useProbability": st.booleans(),
                    "depth": _numbers,
                    "delay_until_recursion": st.booleans() | st.integers(0, 3),
                    "sticky": _numbers | st.none(),
                    "display_index": _numbers | st.none(),
                    "triggers": st.lists(st.text(max_size=5), max_size=2),
                    "x_ext": json_values,
                },
            )
        ),
    },
)
character_books = st.fixed_dictionaries(
    {},
    optional={
        "name": _maybe(st.text(max_size=8)),
        "scan_depth": _maybe(_numbers),
        "recursive_scanning": _maybe(st.booleans()),
        "extensions": _maybe(st.dictionaries(st.text(max_size=5), json_values, max_size=2)),
        "entries": _maybe(st.lists(book_entries, max_size=3)),
        "x_book": json_values,
    },
)
card_data = st.fixed_dictionaries(
    {},
    optional={
        "name": _maybe(st.text(max_size=10)),
        "nickname": _maybe(st.text(max_size=10)),
        "description": _maybe(st.text(max_size=30)),
        "character_version": _maybe(st.text(max_size=5) | st.floats(0, 10)),
        "alternate_greetings": _maybe(st.lists(st.text(max_size=8), max_size=3)),
        "group_only_greetings": _maybe(st.lists(st.text(max_size=8), max_size=3)),
        "tags": _maybe(st.lists(st.text(max_size=8), max_size=3) | st.text(max_size=12)),
        "source": _maybe(st.lists(st.text(max_size=8), max_size=2)),
        "creator_notes_multilingual": _maybe(
            st.dictionaries(st.text(max_size=3), st.text(max_size=8), max_size=2)
        ),
        "creation_date": _maybe(st.integers(0, 2**40) | st.floats(0, 2e9) | st.text(max_size=10)),
        "extensions": _maybe(st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
        "assets": _maybe(
            st.lists(
                st.fixed_dictionaries(
                    {"type": st.text(max_size=5), "uri": st.text(max_size=10)},
                    optional={"name": st.text(max_size=5), "ext": st.text(max_size=4), "x": json_values},
                ),
                max_size=2,
            )
        ),
        "character_book": _maybe(character_books | st.none()),
        "x_unknown": json_values,
    },
)
cards = st.one_of(
    st.builds(
        lambda spec, data: {"spec": spec, "spec_version": "3.0", "data": data},
        st.sampled_from(["chara_card_v2", "chara_card_v3", "other"]),
        card_data,
    ),
    card_data,  # flat, as a V1 card
    json_values,
)
world_entries = st.fixed_dictionaries(
    {},
    optional={
        "uid": _maybe(st.integers(0, 20)),
        "key": _maybe(st.lists(st.text(max_size=8), max_size=3)),
        "content": _maybe(st.text(max_size=20)),
        "position": _maybe(st.integers(0, 8)),
        "selectiveLogic": _maybe(st.integers(0, 4)),
        "role": _maybe(st.integers(0, 3) | st.none()),
        "disable": _maybe(st.booleans()),
        "order": _maybe(_numbers),
        "probability": _maybe(_numbers),
        "scanDepth": _maybe(_numbers | st.none()),
        "caseSensitive": _maybe(st.booleans() | st.none()),
        "delayUntilRecursion": _maybe(st.booleans() | st.integers(0, 3)),
        "addMemo": json_values,
        "extensions": _maybe(
            st.dictionaries(st.sampled_from(["name", "priority", "depth", "x"]), json_values)
        ),
    },
)
worlds = st.one_of(
    st.fixed_dictionaries(
        {"entries": _maybe(st.dictionaries(st.text(max_size=3), world_entries, max_size=3))},
        optional={"name": _maybe(st.text(max_size=5)), "x_world": json_values},
    ),
    json_values,
)


@FUZZ
@given(st.binary(max_size=2_000))
def test_random_bytes_raise_only_card_error(data):
    _parse_or_card_error(data)


@FUZZ
@given(
    st.sampled_from([b"\x89PNG\r\n\x1a\n", b"PK\x03\x04", b"PK\x05\x06", b"{", b"\xef\xbb\xbf{"]), st.binary()
)
def test_random_bytes_behind_a_known_signature_raise_only_card_error(signature, rest):
    _parse_or_card_error(signature + rest)


@FUZZ
@given(st.data())
def test_mutated_png_card_raises_only_card_error(data):
    png = bytearray(VALID_PNG)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        png[data.draw(st.integers(0, len(png) - 1), label="index")] = data.draw(
            st.integers(0, 255), label="byte"
        )
    _parse_or_card_error(bytes(png[: data.draw(st.integers(0, len(png)), label="cut")]))


@FUZZ
@given(st.binary(max_size=200) | st.binary(max_size=200).map(base64.b64encode))
def test_any_card_chunk_text_raises_only_card_error(text):
    _parse_or_card_error(_png_with_text(b"chara", text))


@FUZZ
@given(json_values | st.text().map(lambda text: {"name": text}))
def test_any_json_inside_a_card_chunk_raises_only_card_error(value):
    _parse_or_card_error(_png_with_text(b"ccv3", base64.b64encode(json.dumps(value).encode())))


@FUZZ
@given(st.data())
def test_mutated_charx_raises_only_card_error(data):
    archive = bytearray(VALID_CHARX)
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        archive[data.draw(st.integers(0, len(archive) - 1), label="index")] = data.draw(
            st.integers(0, 255), label="byte"
        )
    _parse_or_card_error(bytes(archive[: data.draw(st.integers(0, len(archive)), label="cut")]))


_member_names = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12)


@FUZZ
@given(st.dictionaries(_member_names, st.binary(max_size=50), max_size=4), st.booleans())
def test_any_charx_members_raise_only_card_error(members, with_card):
    if with_card:
        members = {**members, "card.json": json.dumps(CARD_JSON).encode()}
    _parse_or_card_error(_charx(members))


@FUZZ
@given(cards)
def test_any_card_json_raises_only_card_error_and_what_parses_round_trips(card_json):
    parsed = _parse_or_card_error(json.dumps(card_json).encode())
    if parsed is None:
        return

    assert card_from_json(card_to_v3_dict(parsed.card))[0] == parsed.card
    assert parse_card_bytes(export_json(parsed.card, "v3"), max_bytes=MAX_BYTES).card == parsed.card


@settings(database=None, deadline=None, max_examples=50)
@given(card_data)
def test_what_parses_round_trips_through_png(data):
    parsed = _parse_or_card_error(json.dumps({"spec": "chara_card_v3", "data": data}).encode())
    if parsed is None:
        return

    assert parse_card_bytes(export_png(parsed.card, PLAIN_PNG), max_bytes=MAX_BYTES).card == parsed.card


@FUZZ
@given(character_books)
def test_any_character_book_raises_only_card_error_and_what_parses_round_trips(book_json):
    try:
        book = lorebook_from_book(book_json)
    except CardError:
        return

    assert lorebook_from_book(json.loads(json.dumps(lorebook_to_book(book)))) == book


@FUZZ
@given(worlds)
def test_any_world_raises_only_card_error_and_what_parses_round_trips(world_json):
    try:
        book = world_from_sillytavern(world_json)
    except CardError:
        return
    uids = [str(entry.uid) for entry in book.entries]
    assume(len(set(uids)) == len(uids))

    assert world_from_sillytavern(json.loads(json.dumps(world_to_sillytavern(book)))) == book
