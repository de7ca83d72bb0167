"""Card JSON as bytes: strict decoding of untrusted input, stable encoding."""

import json
import re
from typing import Any

from characters.cards.errors import CardError

_SURROGATE = re.compile("[\ud800-\udfff]")

# Real cards nest a few levels (extensions of extensions); anything deeper is
# hostile and would only exhaust the recursion limit later.
MAX_NESTING = 64


def _reject_constant(name: str) -> Any:
    raise CardError(f"invalid JSON: {name} is not allowed")


def _check_nesting(value: object, source: str) -> None:
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_NESTING:
            raise CardError(f"{source}: JSON nested deeper than {MAX_NESTING} levels")
        pending.extend((child, depth + 1) for child in children)


def _without_lone_surrogates(value: Any) -> Any:
    """Replace unpaired UTF-16 surrogates (from JS cutting an emoji in half) with U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(key): _without_lone_surrogates(item) for key, item in value.items()}
    return value


def load_json_text(text: str, *, source: str) -> object:
    try:
        value = json.loads(text.removeprefix("\ufeff"), parse_constant=_reject_constant)
    except CardError as error:
        raise CardError(f"{source}: {error}") from None
    except RecursionError:
        raise CardError(f"{source}: JSON nested too deeply") from None
    except ValueError as error:
        raise CardError(f"{source}: invalid JSON ({error})") from None
    _check_nesting(value, source)
    if "\\ud" in text.lower():
        # Only a \uD800-\uDFFF escape can put a lone surrogate in decoded text.
        value = _without_lone_surrogates(value)
    return value


def load_json_bytes(data: bytes, *, source: str) -> object:
    """Decode UTF-8 JSON (a leading BOM is allowed); ``source`` names it in errors."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CardError(f"{source}: not UTF-8 text (byte {error.start})") from None
    return load_json_text(text, source=source)


def dump_json_text(value: object, *, indent: int | None = None) -> str:
    """JSON with non-ASCII text kept as is (CJK, emoji) and no NaN/Infinity."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=indent, separators=separators)


def dump_json_bytes(value: object, *, indent: int | None = None) -> bytes:
    return dump_json_text(value, indent=indent).encode("utf-8")
