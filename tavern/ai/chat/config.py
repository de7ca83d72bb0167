"""What a chat connection is, what a generation asks for, and the request body they make."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# llama.cpp's own examples use this placeholder: local servers without a key ignore
# the header, and the openai client refuses to build without one.
NO_API_KEY = "sk-no-key-required"

# api.openai.com refuses `max_tokens` for its reasoning models (o1, o3, o4, gpt-5)
# and accepts `max_completion_tokens` for every chat model; most compatible
# servers (vLLM, llama.cpp, KoboldCpp, LM Studio, older proxies) only read `max_tokens`.
_MAX_COMPLETION_TOKENS_HOSTS = frozenset({"api.openai.com"})


@dataclass(frozen=True)
class ChatConnectionConfig:
    """One OpenAI-compatible endpoint with a model, as a user configured it.

    `api_key` is plain text here; keeping it encrypted at rest is the caller's job.
    `timeout_seconds` bounds each wait for the server (the reply's start, and
    every gap between streamed chunks), not the whole reply. `address_shown`:
    whether a failure may name the server's address; a connection staff share
    with users is theirs to use, but where it points (an internal proxy, a URL
    with a token in it) stays with staff.
    """

    label: str
    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    extra_headers: Mapping[str, str] = field(default_factory=dict, hash=False)
    timeout_seconds: float = 60.0
    connect_timeout: float = 5.0
    max_retries: int = 2
    context_size: int | None = None
    max_reply_tokens: int | None = None
    address_shown: bool = True

    def __post_init__(self) -> None:
        if not self.label.strip():
            raise ValueError("a connection needs a label")
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ValueError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        if not self.model.strip():
            raise ValueError("a connection needs a model")
        if self.timeout_seconds <= 0 or self.connect_timeout <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_retries < 0:
            raise ValueError("max_retries must not be negative")

    @property
    def chat_completions_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/chat/completions"


@dataclass(frozen=True)
class GenerationParams:
    """Sampling settings; a None value is left out of the request (the server's default applies)."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    repetition_penalty: float | None = None
    stop: Sequence[str] | None = None
    max_tokens: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        # A tuple keeps the frozen params immutable (and hashable) when given a list.
        if self.stop is not None:
            object.__setattr__(self, "stop", tuple(self.stop))


# OpenAI's own fields go as they are; the rest are the samplers that OpenRouter,
# vLLM, llama.cpp, KoboldCpp and LM Studio accept beside them in the JSON body.
_STANDARD_FIELDS = ("temperature", "top_p", "frequency_penalty", "presence_penalty", "seed")
_EXTRA_BODY_FIELDS = ("top_k", "min_p", "repetition_penalty")


def chat_request_arguments(
    config: ChatConnectionConfig,
    messages: Sequence[Mapping[str, Any]],
    params: GenerationParams,
) -> dict[str, Any]:
    """Keyword arguments for `client.chat.completions.create`, streaming excluded."""
    arguments: dict[str, Any] = {
        "model": config.model,
        "messages": [dict(message) for message in messages],
    }
    for name in _STANDARD_FIELDS:
        value = getattr(params, name)
        if value is not None:
            arguments[name] = value
    if params.stop:
        arguments["stop"] = list(params.stop)
    max_tokens = params.max_tokens if params.max_tokens is not None else config.max_reply_tokens
    if max_tokens is not None:
        host = (urlsplit(config.base_url).hostname or "").lower()
        arguments["max_completion_tokens" if host in _MAX_COMPLETION_TOKENS_HOSTS else "max_tokens"] = (
            max_tokens
        )
    extra_body = {
        name: getattr(params, name) for name in _EXTRA_BODY_FIELDS if getattr(params, name) is not None
    }
    if extra_body:
        arguments["extra_body"] = extra_body
    return arguments
