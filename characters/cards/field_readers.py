"""Lenient readers for JSON values found in cards and lorebooks.

Real cards are loose: ``null`` where a string belongs, numbers as strings, a
comma-separated string where a list belongs. Each reader accepts what can be
interpreted without guessing and raises ``CardError`` naming the field path
for anything else.
"""

from typing import Any

from characters.cards.errors import CardError

JsonObject = dict[str, Any]


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _wrong_type(path: str, expected: str, value: object) -> CardError:
    return CardError(f"{path}: expected {expected}, got {_type_name(value)}")


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_text(value: object, path: str, default: str = "") -> str:
    """A string; null is the default, numbers become their decimal text."""
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_text(value)
    raise _wrong_type(path, "a string", value)


def read_text_list(value: object, path: str, *, split_commas: bool = True) -> list[str]:
    """A list of strings; null is empty, a lone string is split on commas or kept whole."""
    if value is None:
        return []
    if isinstance(value, str):
        if split_commas:
            return [part.strip() for part in value.split(",") if part.strip()]
        return [value] if value else []
    if not isinstance(value, list):
        raise _wrong_type(path, "an array of strings", value)
    items: list[str] = []
    for index, item in enumerate(value):
        if item is None:
            continue
        items.append(read_text(item, f"{path}[{index}]"))
    return items


def read_text_map(value: object, path: str) -> dict[str, str]:
    """An object whose values are strings (e.g. creator_notes_multilingual)."""
    mapping = read_object(value, path)
    return {key: read_text(item, f"{path}.{key}") for key, item in mapping.items()}


def read_object(value: object, path: str) -> JsonObject:
    """An object kept as is; null is empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _wrong_type(path, "an object", value)
    return value


def read_bool(value: object, path: str, default: bool) -> bool:
    """A boolean; 0/1 and "true"/"false" are accepted as written by loose tools."""
    result = read_optional_bool(value, path)
    return default if result is None else result


def read_optional_bool(value: object, path: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _wrong_type(path, "a boolean", value)


def read_int(value: object, path: str, default: int) -> int:
    result = read_optional_int(value, path)
    return default if result is None else result


def read_optional_int(value: object, path: str, *, truncate: bool = False) -> int | None:
    """An integer; integral floats and numeric strings are accepted.

    ``truncate`` accepts fractional numbers by dropping the fraction, for
    values where that loses nothing meaningful (unix timestamps).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise _wrong_type(path, "an integer", value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        try:
            return int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise CardError(f"{path}: expected an integer, got {value!r}") from None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise CardError(f"{path}: expected an integer, got {value}")
        if value.is_integer() or truncate:
            return int(value)
        raise CardError(f"{path}: expected an integer, got {value}")
    raise _wrong_type(path, "an integer", value)


def read_bool_or_int(value: object, path: str, default: bool | int) -> bool | int:
    """SillyTavern's delayUntilRecursion: a boolean, or a recursion level number."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return read_int(value, path, default=0)
