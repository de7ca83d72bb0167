"""The API's JSON parser: DRF's, with the checks of tavern.json_input (L1)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers

from tavern.json_input import JsonInputError, json_input_load


class CheckedJSONParser(parsers.JSONParser):
    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None
    ) -> Any:
        try:
            return json_input_load(stream.read() if stream is not None else b"")
        except JsonInputError as error:
            if error.path:
                raise exceptions.ValidationError(
                    {error.path: [error.message[:1].upper() + error.message[1:] + "."]}
                ) from None
            raise exceptions.ParseError(f"The body is not usable JSON: {error.message}.") from None
