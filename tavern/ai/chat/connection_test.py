"""The "test connection" button: is the endpoint there, is the key good, does the model answer.

A person is waiting on the button, so it never waits long: no retries, a short
connect timeout, bounded waits for each answer. Whatever the server sends (a
web page where the API should be, a body too large to read, a refusal by the
outbound guard) ends in a result that says what to fix, never in an error.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
import httpx2
import openai

from tavern.ai.chat.config import ChatConnectionConfig, GenerationParams
from tavern.ai.chat.errors import REQUEST_ERRORS, ChatProviderError, request_failure
from tavern.ai.chat.stream import chat_client, complete_chat
from tavern.outbound import OutboundAddressRefused

PROBE_MESSAGES = ({"role": "user", "content": "Reply with the single word: OK"},)
_MAX_MODELS_NAMED = 5


@dataclass(frozen=True)
class ConnectionTestResult:
    """`message` is for the user; `models` is what GET /models listed (empty when it lists none)."""

    ok: bool
    message: str
    latency_ms: int | None = None
    models: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ProbeLimits:
    """How long the test waits, and how much it reads (tests pass smaller ones)."""

    connect_seconds: float = 5.0
    # Each wait for the model list, and for the one-token answer: a local server
    # may load the model into memory before it answers.
    list_seconds: float = 10.0
    reply_seconds: float = 30.0
    # OpenRouter's list, the largest we know, is a few hundred kB.
    list_max_bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True)
class _Listing:
    models: tuple[str, ...] = ()
    failure: str | None = None


async def connection_test(
    config: ChatConnectionConfig, *, limits: ProbeLimits | None = None
) -> ConnectionTestResult:
    """List the models (when the server can) and ask the model for one token.

    No retries: a person is waiting on the button, and the first failure is
    the answer they need.
    """
    limits = limits or ProbeLimits()
    config = replace(
        config, max_retries=0, connect_timeout=min(config.connect_timeout, limits.connect_seconds)
    )
    listing = await _model_list(
        replace(config, timeout_seconds=min(config.timeout_seconds, limits.list_seconds)),
        max_bytes=limits.list_max_bytes,
    )
    if listing.failure is not None:
        return ConnectionTestResult(ok=False, message=listing.failure)
    models = listing.models

    started = time.monotonic()
    try:
        result = await complete_chat(
            replace(config, timeout_seconds=min(config.timeout_seconds, limits.reply_seconds)),
            PROBE_MESSAGES,
            GenerationParams(max_tokens=1),
        )
    except ChatProviderError as error:
        return ConnectionTestResult(ok=False, message=error.message, models=models)
    latency_ms = round((time.monotonic() - started) * 1000)

    message = f"{config.label}: the model '{result.model}' answered in {latency_ms} ms."
    if models and config.model not in models:
        named = ", ".join(f"'{model}'" for model in models[:_MAX_MODELS_NAMED])
        more = f" and {len(models) - _MAX_MODELS_NAMED} more" if len(models) > _MAX_MODELS_NAMED else ""
        message += f" Note: '{config.model}' is not in the server's model list ({named}{more})."
    return ConnectionTestResult(ok=True, message=message, latency_ms=latency_ms, models=models)


async def _model_list(config: ChatConnectionConfig, *, max_bytes: int) -> _Listing:
    """GET /models: the ids it lists, or why the test can stop here.

    Many servers (and some proxies) have no model list: an error status lets the
    completion decide. A refused key, no connection, or a 200 that is not JSON
    (the base URL leads to a web page) would fail the completion the same way:
    said now, without asking the model.
    """
    url = f"{config.base_url.rstrip('/')}/models"
    async with chat_client(config) as client:
        try:
            async with client.models.with_streaming_response.list() as response:
                content_type = response.headers.get("content-type", "")
                body = await _body_up_to(response, max_bytes)
        except (openai.AuthenticationError, openai.APIConnectionError, OutboundAddressRefused) as error:
            return _Listing(failure=request_failure(config, error).message)
        except REQUEST_ERRORS:
            return _Listing()
        # Past the headers the body is read here, outside the openai client's error mapping.
        except httpx2.TimeoutException:
            return _Listing(
                failure=f"{config.label}: the model list ({url}) stalled for {config.timeout_seconds:g} s"
            )
        except (httpx2.HTTPError, OSError, anyio.EndOfStream, anyio.BrokenResourceError):
            return _Listing(failure=f"{config.label}: the connection dropped while reading {url}")
    if body is None:
        return _Listing()  # larger than any real list: not read, the completion decides
    models = _listed_models(body)
    if models is None:
        answered = "a web page" if "html" in content_type.lower() else "something that is not JSON"
        return _Listing(
            failure=(
                f"{config.label}: {url} answered {answered}, not a model list; check the base URL "
                "(an OpenAI-compatible API's usually ends in /v1)"
            )
        )
    return _Listing(models=models)


async def _body_up_to(response: openai.AsyncAPIResponse[Any], max_bytes: int) -> bytes | None:
    """The body, or None once it passes `max_bytes` (it is not read further)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _listed_models(body: bytes) -> tuple[str, ...] | None:
    """The model ids of an OpenAI model list: none for JSON of another shape, None for no JSON."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return ()
    return tuple(
        sorted({item["id"] for item in data if isinstance(item, dict) and isinstance(item.get("id"), str)})
    )
