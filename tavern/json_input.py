"""JSON from the outside, checked before anything reads it (L1).

PostgreSQL cannot store a NUL character in text or JSON, nor a lone UTF-16
surrogate; JSON nested 100,000 deep exhausts the recursion limit of whatever walks
it next. All three were 500s. Every JSON body (the API's parser) and every socket
frame goes through `json_input_load`, which refuses them with the path of the
value at fault, so the error can name the field.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class JsonInputError(ValueError):
    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def _reject_constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not a JSON number")


def json_input_load(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse and check; JsonInputError says what is wrong and where."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise JsonInputError(f"the body is not UTF-8 (byte {error.start})") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise JsonInputError(f"JSON nested deeper than {max_depth} levels") from None
    except JsonInputError:
        raise
    except ValueError as error:
        raise JsonInputError(f"invalid JSON ({error})") from None
    json_input_check(value, max_depth=max_depth)
    return value


def json_input_check(value: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Walk without recursion: depth, NUL characters, lone surrogates."""
    pending: list[tuple[Any, str, int]] = [(value, "", 0)]
    while pending:
        item, path, depth = pending.pop()
        if isinstance(item, str):
            _check_text(item, path)
            continue
        if isinstance(item, dict):
            children = [(child, f"{path}.{key}" if path else str(key), key) for key, child in item.items()]
        elif isinstance(item, list):
            children = [
                (child, f"{path}.{index}" if path else str(index), None) for index, child in enumerate(item)
            ]
        else:
            continue
        if depth >= max_depth:
            raise JsonInputError(f"JSON nested deeper than {max_depth} levels", path=path)
        for child, child_path, key in children:
            if isinstance(key, str):
                _check_text(key, child_path)
            pending.append((child, child_path, depth + 1))


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise JsonInputError("text cannot contain the NUL character (\\u0000)", path=path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonInputError("text contains an unpaired UTF-16 surrogate", path=path) from None
