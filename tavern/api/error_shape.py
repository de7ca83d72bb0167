"""The API's one error shape as plain data, with no DRF import: the web server answers in
it below Django (tavern/http_server.py), before any app is loaded."""

from __future__ import annotations

from typing import Any


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}
