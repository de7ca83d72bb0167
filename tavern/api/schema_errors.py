"""The error responses every operation can give, written into the OpenAPI schema once
(a drf-spectacular postprocessing hook), so the schema says what the API does.

Every error has the one shape of tavern/api/errors.py. Which codes an operation can
answer follows from what it takes: a body can be invalid (400), too large (413) or
of a media type it does not read (415); a path parameter can name nothing the caller
may see (404); an authenticated operation refuses missing or bad credentials (401)
and callers it does not serve (403); every operation is rate limited (429).
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA_NAME = "ErrorResponse"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "What went wrong, for programs: invalid, not_found…",
                },
                "message": {"type": "string", "description": "What went wrong, for people."},
                "fields": {
                    "type": "object",
                    "description": "For invalid input: each field at fault (dotted when nested) and its messages.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}
_DESCRIPTIONS = {
    "400": "The input is not valid; `error.fields` names each field at fault.",
    "401": "No credentials, or credentials that are not valid.",
    "403": "Not allowed for these credentials (for example an unverified email address).",
    "404": "Nothing there that these credentials may see (another user's object looks missing).",
    "413": "The request body is larger than this operation accepts.",
    "415": "The request body is of a media type this operation does not read.",
    "429": "Rate limited or locked out; `Retry-After` says for how many seconds.",
}
_METHODS = ("get", "post", "put", "patch", "delete")


def error_codes(operation: dict[str, Any], *, method: str, anonymous: bool) -> list[str]:
    codes = ["429"]
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    # A change can break a rule of the domain whatever its input (the last participant
    # of a chat cannot leave it): every write may answer 400 with the reason.
    if method != "get" or has_body or any(parameter.get("in") == "query" for parameter in parameters):
        codes.append("400")
    if has_body:
        codes += ["413", "415"]
    if any(parameter.get("in") == "path" for parameter in parameters):
        codes.append("404")
    if not anonymous:
        codes += ["401", "403"]
    return codes


def _anonymous(operation: dict[str, Any]) -> bool:
    """Operations that take no credentials say so with an empty security requirement."""
    return {} in operation.get("security", [])


def error_responses_add(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for path in result.get("paths", {}).values():
        for method in _METHODS:
            operation = path.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if code.startswith(("4", "5")) and "content" not in response:
                    response["content"] = {"application/json": {"schema": reference}}  # declared in a view
            for code in error_codes(operation, method=method, anonymous=_anonymous(operation)):
                responses.setdefault(
                    code,
                    {
                        "description": _DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
