"""What a reply stream yields (from a model or the offline provider): text as it arrives, then how it ended."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens of one completion; `estimated` when we counted them because the provider did not."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int = 0
    cached_prompt_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ConnectionUsed:
    """Which connection answered; `stream_with_fallback` yields it before anything else.

    `base_url` is the endpoint that answered, None for the offline demo: what the
    reply is priced by (a model on the user's own network costs nothing). It is for
    pricing only, never shown: a shared connection's address is not its users' to see.
    """

    label: str
    model: str
    base_url: str | None = None


@dataclass(frozen=True, slots=True)
class TokenDelta:
    """The next piece of the reply's text."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """The next piece of the model's reasoning ("thinking"), which is not part of the reply."""

    text: str


@dataclass(frozen=True, slots=True)
class StreamFinished:
    """The last event of a complete reply.

    `finish_reason` is the provider's ("stop", "length", "content_filter", ...) or
    None when it sent none; `model` is the one the provider says answered.
    """

    finish_reason: str | None
    usage: TokenUsage | None
    model: str


StreamEvent = ConnectionUsed | TokenDelta | ReasoningDelta | StreamFinished
