"""OpenAI's response bodies: a chat completion, its stream chunks, Server-Sent Events."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from characters.models import Character
from tavern.ai.chat import TokenUsage

SSE_DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True)
class CompletionIdentity:
    """What every chunk of one completion repeats."""

    model: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))


def model_payload(character: Character, *, owner: str) -> dict[str, Any]:
    return {
        "id": character.slug,
        "object": "model",
        "created": int(character.created_at.timestamp()),
        "owned_by": owner,
    }


def usage_payload(usage: TokenUsage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def completion_payload(
    identity: CompletionIdentity, *, text: str, finish_reason: str, usage: TokenUsage
) -> dict[str, Any]:
    return {
        "id": identity.id,
        "object": "chat.completion",
        "created": identity.created,
        "model": identity.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": usage_payload(usage),
    }


def chunk_payload(
    identity: CompletionIdentity,
    *,
    delta: dict[str, str] | None = None,
    finish_reason: str | None = None,
    usage: TokenUsage | None = None,
    with_usage_field: bool = False,
    choices: bool = True,
) -> dict[str, Any]:
    """One `chat.completion.chunk`. With `stream_options.include_usage`, every chunk has a
    `usage` field (null until the last, which has no choices), as OpenAI sends them."""
    payload: dict[str, Any] = {
        "id": identity.id,
        "object": "chat.completion.chunk",
        "created": identity.created,
        "model": identity.model,
        "choices": [{"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish_reason}]
        if choices
        else [],
    }
    if with_usage_field or usage is not None:
        payload["usage"] = usage_payload(usage) if usage is not None else None
    return payload


def sse_data(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()
