"""One completion against the character's connections: the provider's stream,
and its usage counted once however it ends (finished, broken, or the client gone)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async

from accounts.models import User
from chats.quota import quota_consume
from chats.services import GenerationRecord, usage_record
from tavern.ai.chat import (
    AllProvidersFailed,
    ChatConnectionConfig,
    ConnectionUsed,
    ProviderStreamBroken,
    StreamFinished,
    TokenDelta,
    TokenUsage,
    stream_with_fallback,
)
from tavern.ai.pricing import usage_cost_micro_usd
from tavern.ai.tokenizer import count_message_tokens, count_tokens

from .context import CompletionContext

USAGE_KIND = "openai_api"


class CompletionRun:
    def __init__(self, *, user: User, context: CompletionContext) -> None:
        self.user = user
        self.context = context
        self._events = stream_with_fallback(context.connections, context.messages, context.params)
        self._started = time.perf_counter()
        self._first_token_at: float | None = None
        self._parts: list[str] = []
        self._reported: TokenUsage | None = None
        self._usage: TokenUsage | None = None
        self._settled = False
        self.label = ""
        self.model = ""
        self.finish_reason = "stop"
        self.error = ""
        self.partial = True  # until the provider says the reply is complete

    @property
    def text(self) -> str:
        return "".join(self._parts)

    async def start(self) -> None:
        """Wait until a connection answers. Raises AllProvidersFailed when none does,
        before anything is sent to the client, so it can still be told with a status code."""
        try:
            first = await anext(self._events)
        except StopAsyncIteration as ended:  # stream_with_fallback always names the connection first
            raise AllProvidersFailed([]) from ended
        except AllProvidersFailed as failed:
            self.error = failed.message
            raise
        if isinstance(first, ConnectionUsed):
            self.label, self.model = first.label, first.model

    async def texts(self) -> AsyncIterator[str]:
        """The reply's text as it arrives. Raises ProviderStreamBroken if it breaks off."""
        try:
            async for event in self._events:
                if isinstance(event, TokenDelta) and event.text:
                    if self._first_token_at is None:
                        self._first_token_at = time.perf_counter()
                    self._parts.append(event.text)
                    yield event.text
                elif isinstance(event, StreamFinished):
                    self.finish_reason = event.finish_reason or "stop"
                    self._reported = event.usage
                    self.model = event.model or self.model
                    self.partial = False
        except ProviderStreamBroken as broken:
            self.error = broken.message
            raise

    def usage(self) -> TokenUsage:
        """The provider's count when it gave one, else ours."""
        if self._usage is None:
            reported = self._reported
            self._usage = TokenUsage(
                prompt_tokens=(reported.prompt_tokens if reported else 0)
                or count_message_tokens(self.context.messages),
                completion_tokens=(reported.completion_tokens if reported else 0) or count_tokens(self.text),
            )
        return self._usage

    async def settle(self) -> None:
        """Close the provider's stream; record usage and spend the caller's daily tokens (once)."""
        if self._settled:
            return
        self._settled = True
        await self._events.aclose()
        if not self.label:
            return  # nobody answered: nothing was generated
        usage = self.usage()
        record = GenerationRecord(
            connection_label=self.label,
            model=self.model,
            latency_ms=int((time.perf_counter() - self._started) * 1000),
            first_token_ms=int((self._first_token_at - self._started) * 1000)
            if self._first_token_at
            else None,
            tokens_in=usage.prompt_tokens,
            tokens_out=usage.completion_tokens,
            finish_reason="error" if self.error else self.finish_reason,
            is_partial=self.partial,
            error=self.error[:500],
            cost_micro_usd=self._cost(usage),
        )
        await sync_to_async(usage_record)(user=self.user, chat=None, generation=record, kind=USAGE_KIND)
        await quota_consume(user_id=self.user.pk, tokens=usage.total_tokens)

    def _cost(self, usage: TokenUsage) -> int:
        answered = next(
            (
                c
                for c in self.context.connections
                if c.label == self.label and isinstance(c, ChatConnectionConfig)
            ),
            None,
        )
        if answered is None:  # the offline demo costs nothing
            return 0
        return usage_cost_micro_usd(
            self.model, usage.prompt_tokens, usage.completion_tokens, base_url=answered.base_url
        )
