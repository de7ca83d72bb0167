"""Card files as users upload and download them: PNG, JSON or CHARX, told apart by content."""

from dataclasses import dataclass, field

from characters.cards.avatar import default_avatar_png
from characters.cards.charx import (
    DEFAULT_ICON_PATH,
    main_icon_path,
    read_charx,
    with_main_icon,
    write_charx,
)
from characters.cards.errors import CardError
from characters.cards.json_bytes import dump_json_bytes, load_json_bytes
from characters.cards.png import (
    PNG_SIGNATURE,
    card_json_from_png,
    strip_card_chunks,
    write_card_png,
)
from characters.cards.spec import (
    CardData,
    SpecVersion,
    card_from_json,
    card_to_v2_dict,
    card_to_v3_dict,
)

_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
_JSON_LEADING = b"\xef\xbb\xbf \t\r\n"  # UTF-8 BOM and whitespace


@dataclass(kw_only=True)
class ParsedCard:
    card: CardData
    spec_version: SpecVersion
    avatar_png: bytes | None  # the image without card chunks (PNG), the main icon (CHARX)
    assets: dict[str, bytes] = field(default_factory=dict)  # CHARX members by path


def _parse_png(data: bytes) -> ParsedCard:
    _keyword, card_json = card_json_from_png(data)
    card, spec_version = card_from_json(card_json)
    return ParsedCard(card=card, spec_version=spec_version, avatar_png=strip_card_chunks(data))


def _parse_charx(data: bytes, *, max_bytes: int) -> ParsedCard:
    archive = read_charx(data, max_total_bytes=max_bytes)
    icon_path = main_icon_path(archive.card)
    icon = archive.assets.get(icon_path) if icon_path else None
    return ParsedCard(
        card=archive.card,
        spec_version=archive.spec_version,
        avatar_png=icon if icon is not None and icon.startswith(PNG_SIGNATURE) else None,
        assets=archive.assets,
    )


def parse_card_bytes(data: bytes, *, filename: str | None = None, max_bytes: int) -> ParsedCard:
    """Read an uploaded card; the format comes from the content, never from ``filename``.

    ``max_bytes`` limits the upload and, for CHARX, everything it unpacks to.
    ``filename`` only makes error messages clearer.
    """
    label = f"{filename}: " if filename else ""
    if len(data) > max_bytes:
        raise CardError(f"{label}file is {len(data)} bytes, more than the limit of {max_bytes}")
    try:
        if data.startswith(PNG_SIGNATURE):
            return _parse_png(data)
        if data.startswith(_ZIP_SIGNATURES):
            return _parse_charx(data, max_bytes=max_bytes)
        if data.lstrip(_JSON_LEADING).startswith(b"{"):
            card, spec_version = card_from_json(load_json_bytes(data, source="JSON card"))
            return ParsedCard(card=card, spec_version=spec_version, avatar_png=None)
    except CardError as error:
        raise CardError(f"{label}{error}") from None
    raise CardError(f"{label}not a character card: expected a PNG, CHARX (zip) or JSON file")


def export_png(card: CardData, avatar_png: bytes | None = None) -> bytes:
    """The avatar (or a generated one) carrying ``chara`` (V2) and ``ccv3`` (V3) chunks."""
    image = avatar_png if avatar_png is not None else default_avatar_png(card.name)
    return write_card_png(image, v2_json=card_to_v2_dict(card), v3_json=card_to_v3_dict(card))


def export_json(card: CardData, spec: SpecVersion = "v3") -> bytes:
    if spec == "v2":
        return dump_json_bytes(card_to_v2_dict(card), indent=2)
    if spec == "v3":
        return dump_json_bytes(card_to_v3_dict(card), indent=2)
    raise ValueError(f"cards are exported as v2 or v3, not {spec!r}")


def export_charx(card: CardData, assets: dict[str, bytes], avatar_png: bytes | None) -> bytes:
    """A CHARX; the avatar becomes the main icon asset (added to the card if missing)."""
    if avatar_png is not None:
        path = main_icon_path(card)
        if path is None or not path.lower().endswith(".png"):
            path = DEFAULT_ICON_PATH
        card = with_main_icon(card, path)
        assets = {**assets, path: avatar_png}
    return write_charx(card, assets)
