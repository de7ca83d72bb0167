"""CHARX: a zip holding ``card.json`` (V3) and assets addressed as ``embeded://path``.

Archives are untrusted: member paths are checked for traversal, and the
entry count, the declared sizes, the compression ratio and the bytes actually
inflated are all limited before anything is kept in memory.
"""

import io
import lzma
import struct
import zipfile
import zlib
from dataclasses import dataclass, replace

from characters.cards.errors import CardError
from characters.cards.json_bytes import dump_json_bytes, load_json_bytes
from characters.cards.spec import CardData, SpecVersion, card_from_json, card_to_v3_dict

CARD_MEMBER = "card.json"
DEFAULT_ICON_PATH = "assets/icon/images/main.png"
EMBEDDED_URI_PREFIXES = ("embeded://", "embedded://")  # the spec's spelling, and the fixed one
MAX_ENTRIES = 1000
MAX_COMPRESSION_RATIO = 100
_RATIO_CHECK_FROM_BYTES = 1 << 20  # small members may compress well without harm
_READ_BLOCK_BYTES = 1 << 16
_END_OF_CENTRAL_DIRECTORY = b"PK\x05\x06"
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # reproducible archives

# What zipfile raises on damaged archives besides BadZipFile.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    IndexError,
    KeyError,
    OverflowError,
    struct.error,
    zlib.error,
    lzma.LZMAError,
)


@dataclass(kw_only=True)
class CharxArchive:
    card: CardData
    spec_version: SpecVersion
    assets: dict[str, bytes]  # member path → bytes, every member but card.json


def checked_member_path(path: str) -> str:
    """The path if it is a safe relative zip path, else CardError."""
    if not path or "\\" in path or "\x00" in path or path.startswith("/"):
        raise CardError(f"CHARX member {path!r}: unsafe path")
    parts = path.removesuffix("/").split("/")
    if any(part in ("", ".", "..") for part in parts) or ":" in parts[0]:
        raise CardError(f"CHARX member {path!r}: unsafe path")
    return path


def _declared_entry_count(data: bytes) -> int:
    """Entry count stated by the end-of-central-directory record, read before zipfile parses it."""
    position = data.rfind(_END_OF_CENTRAL_DIRECTORY, max(0, len(data) - 65_557))
    if position < 0 or position + 22 > len(data):
        return 0
    (count,) = struct.unpack_from("<H", data, position + 10)
    return 0 if count == 0xFFFF else count  # 0xFFFF: the real count is in ZIP64 records


def _checked_members(
    archive: zipfile.ZipFile, *, max_total_bytes: int, max_entries: int
) -> list[zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > max_entries:
        raise CardError(f"CHARX has {len(infos)} entries, more than the limit of {max_entries}")
    seen: set[str] = set()
    declared_total = 0
    files: list[zipfile.ZipInfo] = []
    for info in infos:
        checked_member_path(info.filename)
        if info.filename in seen:
            raise CardError(f"CHARX member {info.filename!r} appears twice")
        seen.add(info.filename)
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            raise CardError(f"CHARX member {info.filename!r} is encrypted")
        declared_total += info.file_size
        if declared_total > max_total_bytes:
            raise CardError(f"CHARX unpacks to more than the limit of {max_total_bytes} bytes")
        if info.file_size > _RATIO_CHECK_FROM_BYTES and (
            info.file_size > info.compress_size * MAX_COMPRESSION_RATIO
        ):
            raise CardError(f"CHARX member {info.filename!r} is compressed suspiciously well")
        files.append(info)
    return files


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """The member's bytes; stops as soon as it outgrows its declared size or the budget."""
    limit = min(info.file_size, budget)
    parts: list[bytes] = []
    size = 0
    with archive.open(info) as stream:
        while block := stream.read(_READ_BLOCK_BYTES):
            size += len(block)
            if size > limit:
                raise CardError(f"CHARX member {info.filename!r} inflates past its limit")
            parts.append(block)
    return b"".join(parts)


def read_charx(data: bytes, *, max_total_bytes: int, max_entries: int = MAX_ENTRIES) -> CharxArchive:
    declared = _declared_entry_count(data)
    if declared > max_entries:
        raise CardError(f"CHARX has {declared} entries, more than the limit of {max_entries}")
    members: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            budget = max_total_bytes
            for info in _checked_members(archive, max_total_bytes=max_total_bytes, max_entries=max_entries):
                content = _read_member(archive, info, budget)
                budget -= len(content)
                members[info.filename] = content
    except CardError:
        raise
    except _ZIP_ERRORS as error:
        raise CardError(f"CHARX is not a readable zip archive ({error})") from None
    card_bytes = members.pop(CARD_MEMBER, None)
    if card_bytes is None:
        raise CardError(f"CHARX has no {CARD_MEMBER} at its root")
    card, spec_version = card_from_json(load_json_bytes(card_bytes, source=f"CHARX {CARD_MEMBER}"))
    return CharxArchive(card=card, spec_version=spec_version, assets=members)


def write_charx(card: CardData, assets: dict[str, bytes]) -> bytes:
    """A CHARX with the card as V3 ``card.json`` and each asset at its path."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        members = {CARD_MEMBER: dump_json_bytes(card_to_v3_dict(card), indent=2)}
        for path, content in assets.items():
            if checked_member_path(path) == CARD_MEMBER or path.endswith("/"):
                raise CardError(f"CHARX asset path {path!r} is reserved or a directory")
            members[path] = content
        for path, content in members.items():
            info = zipfile.ZipInfo(path, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def embedded_path(uri: str) -> str | None:
    """The archive path of an ``embeded://`` asset URI, else None."""
    for prefix in EMBEDDED_URI_PREFIXES:
        if uri.startswith(prefix):
            return uri.removeprefix(prefix)
    return None


def _is_icon(asset: dict[str, object]) -> bool:
    return asset.get("type") == "icon"


def main_icon_path(card: CardData) -> str | None:
    """Archive path of the main icon (the ``main`` icon, else the first icon) if embedded."""
    icons = [asset for asset in card.assets if _is_icon(asset)]
    if not icons:
        return None
    main = next((asset for asset in icons if asset.get("name") == "main"), icons[0])
    return embedded_path(str(main.get("uri", "")))


def with_main_icon(card: CardData, path: str) -> CardData:
    """A copy of the card whose main icon asset points at ``embeded://path``."""
    icon = {"type": "icon", "uri": f"embeded://{path}", "name": "main", "ext": "png"}
    assets = [dict(asset) for asset in card.assets]
    for asset in assets:
        if _is_icon(asset) and asset.get("name") == "main":
            asset.update(uri=icon["uri"], ext="png")
            break
    else:
        assets.insert(0, icon)
    return replace(card, assets=assets)
