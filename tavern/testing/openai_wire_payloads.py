"""JSON bodies in the shapes OpenAI's REST API answers with.

Kept apart from the HTTP server so that the shapes can be read (and checked
against OpenAI's API reference) in one place.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
import time
from typing import Any

from tavern.ai.tokenizer import count_message_tokens, count_tokens

OWNED_BY = "tavern-wire-server"
DEFAULT_EMBEDDING_DIMENSIONS = 384

_DEFAULT_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "The request is invalid."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
    ),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Access denied.",
    ),
    404: ("invalid_request_error", "unknown_url", "Unknown request URL."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests. Please try again in 1s.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    503: (
        "server_error",
        None,
        "The engine is currently overloaded, please try again later.",
    ),
}

# One chunk per word with the whitespace after it, as a model streams roughly token by token.
_STREAM_PIECE = re.compile(r"\s*\S+\s*|\s+")


def error_body(status: int, *, message: str | None = None) -> dict[str, Any]:
    error_type, code, default_message = _DEFAULT_ERRORS.get(status, ("server_error", None, f"HTTP {status}"))
    return {
        "error": {
            "message": message or default_message,
            "type": error_type,
            "param": None,
            "code": code,
        }
    }


def stream_pieces(text: str) -> list[str]:
    return _STREAM_PIECE.findall(text)


def chat_usage(messages: list[dict[str, Any]], reply_text: str) -> dict[str, Any]:
    prompt_tokens = count_message_tokens(messages)
    completion_tokens = count_tokens(reply_text)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion(
    *,
    completion_id: str,
    model: str,
    text: str,
    finish_reason: str,
    usage: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": usage,
        "system_fingerprint": None,
    }


def chat_completion_chunk(
    *,
    completion_id: str,
    model: str,
    delta: dict[str, Any] | None,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
    with_usage_field: bool = False,
) -> dict[str, Any]:
    """One `chat.completion.chunk`; `delta=None` makes the usage-only chunk with no choices."""
    chunk: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
        "choices": []
        if delta is None
        else [
            {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
    }
    # With stream_options.include_usage every chunk carries "usage": null but the last.
    if with_usage_field:
        chunk["usage"] = usage
    return chunk


def text_embedding(text: str, dimensions: int) -> list[float]:
    """A unit vector that depends only on `text` and `dimensions`: equal texts, equal vectors."""
    digest_floats: list[float] = []
    block = 0
    while len(digest_floats) < dimensions:
        digest = hashlib.sha256(f"{block}:{text}".encode()).digest()
        digest_floats.extend(value / 2**31 - 1.0 for value in struct.unpack("<8I", digest))
        block += 1
    values = digest_floats[:dimensions]
    norm = math.sqrt(math.fsum(value * value for value in values))
    return [value / norm for value in values]


def embedding_list(
    *,
    model: str,
    inputs: list[str],
    dimensions: int,
    encoding_format: str,
) -> dict[str, Any]:
    data = []
    for index, text in enumerate(inputs):
        vector = text_embedding(text, dimensions)
        embedding: list[float] | str = vector
        if encoding_format == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    prompt_tokens = sum(count_tokens(text, encoding="cl100k_base") for text in inputs)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def model_list(model_ids: list[str]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {
                "id": model_id,
                "object": "model",
                "created": 1700000000,
                "owned_by": OWNED_BY,
            }
            for model_id in model_ids
        ],
    }
