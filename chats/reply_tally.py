"""What one reply stream produced and what it cost, for a chat turn and a `/v1`
completion alike.

A `ReplyTally` is fed the stream's events as they arrive (`add`), and how the
stream ended when it did not finish (`stopped`, `broke`, `unanswered`). It then
knows the reply (text, time to the first token, finish reason, whether it is
partial, the error), its tokens (the provider's count, or ours where it gave
none) and makes the one `GenerationRecord`, priced by the connection that
answered. `reply_settle` books it, once: the record stored where the reply leaves
it, then the user's daily tokens spent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tavern.ai.chat import ConnectionUsed, StreamEvent, StreamFinished, TokenDelta, TokenUsage
from tavern.ai.pricing import usage_cost_micro_usd
from tavern.ai.tokenizer import count_message_tokens, count_tokens

from .quota import quota_consume
from .services import GenerationRecord

ERROR_CHARS = 500  # what a swipe stores of an error; the record holds no more

Stored = TypeVar("Stored")


class ReplyTally:
    """One reply stream, as far as it got. Read the record and the usage once the
    stream is over: the first read fixes them (latency included), so the record that
    is stored, the one that is reported and the usage a client is sent agree."""

    def __init__(self, prompt: list[dict[str, Any]]) -> None:
        self.prompt = prompt  # the messages sent: our count of the prompt when the provider gives none
        self.started = time.perf_counter()
        self.first_token_at: float | None = None
        self.label = ""
        self.model = ""
        self.base_url: str | None = None  # of the connection that answered; None: the offline demo
        self.finish_reason = ""
        self.partial = True  # until the provider says the reply is whole
        self.error = ""
        self.settled = False
        self._parts: list[str] = []
        self._reported: TokenUsage | None = None
        self._unanswered = False
        self._usage: TokenUsage | None = None
        self._record: GenerationRecord | None = None

    @property
    def text(self) -> str:
        return "".join(self._parts)

    @property
    def answered(self) -> bool:
        """Whether a connection answered (a reply, even an empty one, was generated)."""
        return bool(self.label)

    def add(self, event: StreamEvent) -> None:
        """Take the stream's next event (reasoning is not part of the reply: left out)."""
        if isinstance(event, TokenDelta):
            if event.text:
                if self.first_token_at is None:
                    self.first_token_at = time.perf_counter()
                self._parts.append(event.text)
        elif isinstance(event, ConnectionUsed):
            self.label, self.model, self.base_url = event.label, event.model, event.base_url
        elif isinstance(event, StreamFinished):
            self.finish_reason = event.finish_reason or "stop"
            self._reported = event.usage
            self.model = event.model or self.model
            self.partial = False

    def stopped(self) -> None:
        """The reply was stopped before its end (the user, or a client that went away)."""
        self.finish_reason, self.partial = "stopped", True

    def broke(self, error: str) -> None:
        """The reply broke off after it began: what came is kept, with the reason."""
        self.finish_reason, self.partial, self.error = "error", True, error

    def unanswered(self, error: str) -> None:
        """No connection answered: nothing was generated, so nothing is counted."""
        self._unanswered, self.error = True, error

    def usage(self) -> TokenUsage:
        """The provider's count where it gave one, else ours: the prompt sent, the text received."""
        if self._usage is None:
            reported = self._reported
            prompt_tokens = reported.prompt_tokens if reported else 0
            completion_tokens = reported.completion_tokens if reported else 0
            self._usage = TokenUsage(
                prompt_tokens=prompt_tokens or count_message_tokens(self.prompt),
                completion_tokens=completion_tokens or count_tokens(self.text),
                estimated=reported is None
                or reported.estimated
                or not prompt_tokens
                or not completion_tokens,
            )
        return self._usage

    def record(self) -> GenerationRecord:
        """The record the reply leaves: on its message's swipe, in the usage rows."""
        if self._record is None:
            self._record = self._record_now()
        return self._record

    def _record_now(self) -> GenerationRecord:
        if self._unanswered:
            return GenerationRecord(error=self.error[:ERROR_CHARS])
        usage = self.usage()
        first_token_at = self.first_token_at
        return GenerationRecord(
            connection_label=self.label,
            model=self.model,
            latency_ms=_ms(self.started, time.perf_counter()),
            first_token_ms=_ms(self.started, first_token_at) if first_token_at is not None else None,
            tokens_in=usage.prompt_tokens,
            tokens_out=usage.completion_tokens,
            finish_reason=self.finish_reason,
            is_partial=self.partial,
            error=self.error[:ERROR_CHARS],
            cost_micro_usd=self._cost(usage),
        )

    def _cost(self, usage: TokenUsage) -> int:
        if self.base_url is None:  # the offline demo (or nobody answered) costs nothing
            return 0
        return usage_cost_micro_usd(
            self.model, usage.prompt_tokens, usage.completion_tokens, base_url=self.base_url
        )


def _ms(start: float, end: float) -> int:
    return int((end - start) * 1000)


async def reply_settle(
    tally: ReplyTally, *, user_id: int, store: Callable[[GenerationRecord], Awaitable[Stored]]
) -> Stored:
    """Book the reply: `store` writes its record where the reply leaves it (a chat's
    message, whose service adds the usage row, or the usage row alone), then the user's
    daily tokens are spent by the record's count. Once per reply; shielded, so a caller
    cancelled meanwhile (a client gone, a stop) never leaves it half-booked."""
    if tally.settled:
        raise RuntimeError("A reply is settled once.")
    tally.settled = True
    record = tally.record()

    async def book() -> Stored:
        stored = await store(record)
        await quota_consume(user_id=user_id, tokens=(record.tokens_in or 0) + (record.tokens_out or 0))
        return stored

    return await asyncio.shield(book())
