"""Card JSON inside PNG ``tEXt`` chunks, read and written without decoding pixels.

SillyTavern stores ``chara`` (V2 JSON) and the V3 spec adds ``ccv3`` (V3
JSON), each base64 of UTF-8 JSON. Chunks are walked by hand so that every
length and CRC is checked and image data is copied through untouched.
"""

import base64
import binascii
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from characters.cards.errors import CardError
from characters.cards.json_bytes import dump_json_bytes, load_json_bytes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
V2_KEYWORD = "chara"
V3_KEYWORD = "ccv3"
CARD_KEYWORDS = (V3_KEYWORD, V2_KEYWORD)  # in order of preference

_MAX_CHUNK_LENGTH = 2**31 - 1  # PNG spec limit


@dataclass(frozen=True)
class _Chunk:
    kind: bytes
    body: memoryview
    raw: memoryview  # length, type, body and CRC, as found


def _chunks(data: bytes) -> Iterator[_Chunk]:
    """Every chunk up to and including IEND; raises CardError on any damage."""
    if not data.startswith(PNG_SIGNATURE):
        raise CardError("not a PNG file (bad signature)")
    view = memoryview(data)
    offset = len(PNG_SIGNATURE)
    first = True
    while True:
        if offset + 8 > len(data):
            raise CardError("PNG is truncated (no IEND chunk)")
        length, kind = struct.unpack_from(">I4s", data, offset)
        if not kind.isalpha():
            raise CardError(f"PNG chunk at byte {offset} has an invalid type {kind!r}")
        name = kind.decode("ascii")
        if length > _MAX_CHUNK_LENGTH:
            raise CardError(f"PNG chunk {name} declares an invalid length {length}")
        end = offset + 12 + length
        if end > len(data):
            raise CardError(f"PNG chunk {name} is truncated")
        body = view[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(body, zlib.crc32(kind)) != crc:
            raise CardError(f"PNG chunk {name} has a bad CRC")
        if first and kind != b"IHDR":
            raise CardError("PNG does not start with an IHDR chunk")
        first = False
        yield _Chunk(kind=kind, body=body, raw=view[offset:end])
        if kind == b"IEND":
            return
        offset = end


def _text_keyword(chunk: _Chunk) -> tuple[str, memoryview] | None:
    """(lower-cased keyword, text) of a tEXt chunk, or None for other chunks."""
    if chunk.kind != b"tEXt":
        return None
    separator = bytes(chunk.body[:80]).find(b"\x00")
    if separator < 1:
        return None  # malformed text chunk: not ours to judge
    keyword = bytes(chunk.body[:separator]).decode("latin-1").lower()
    return keyword, chunk.body[separator + 1 :]


def read_card_chunks(data: bytes) -> dict[str, str]:
    """The ``chara`` and ``ccv3`` tEXt values (base64 text), first of each keyword."""
    found: dict[str, str] = {}
    for chunk in _chunks(data):
        keyword_text = _text_keyword(chunk)
        if keyword_text is None:
            continue
        keyword, text = keyword_text
        if keyword in CARD_KEYWORDS and keyword not in found:
            found[keyword] = bytes(text).decode("latin-1")
    return found


def decode_card_chunk(keyword: str, text: str) -> object:
    """base64 → UTF-8 → JSON of one card chunk."""
    compact = "".join(text.split())
    compact += "=" * (-len(compact) % 4)
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise CardError(f"PNG chunk '{keyword}' is not valid base64") from None
    return load_json_bytes(raw, source=f"PNG chunk '{keyword}'")


def card_json_from_png(data: bytes) -> tuple[str, object]:
    """(keyword, decoded JSON) of the card in a PNG; ``ccv3`` wins over ``chara``."""
    chunks = read_card_chunks(data)
    for keyword in CARD_KEYWORDS:
        if keyword in chunks:
            return keyword, decode_card_chunk(keyword, chunks[keyword])
    raise CardError("PNG has no character card (no 'chara' or 'ccv3' text chunk)")


def _text_chunk(keyword: str, text: bytes) -> bytes:
    kind = b"tEXt"
    body = keyword.encode("latin-1") + b"\x00" + text
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))


def _without_card_chunks(image_png: bytes) -> tuple[list[memoryview], memoryview]:
    """The chunks before IEND except card text chunks, and the IEND chunk."""
    kept: list[memoryview] = []
    for chunk in _chunks(image_png):
        if chunk.kind == b"IEND":
            return kept, chunk.raw
        keyword_text = _text_keyword(chunk)
        if keyword_text is not None and keyword_text[0] in CARD_KEYWORDS:
            continue
        kept.append(chunk.raw)
    raise AssertionError("unreachable: _chunks always ends at IEND or raises")


def strip_card_chunks(image_png: bytes) -> bytes:
    """The image without card text chunks (and without bytes after IEND)."""
    kept, end = _without_card_chunks(image_png)
    return b"".join([PNG_SIGNATURE, *kept, end])


def _encode_card(card_json: dict[str, object]) -> bytes:
    return base64.b64encode(dump_json_bytes(card_json))


def write_card_png(image_png: bytes, *, v2_json: dict[str, object], v3_json: dict[str, object]) -> bytes:
    """Replace any card chunks with ``chara`` (V2) then ``ccv3`` (V3), just before IEND."""
    kept, end = _without_card_chunks(image_png)
    card_chunks = [
        _text_chunk(V2_KEYWORD, _encode_card(v2_json)),
        _text_chunk(V3_KEYWORD, _encode_card(v3_json)),
    ]
    return b"".join([PNG_SIGNATURE, *kept, *card_chunks, end])
