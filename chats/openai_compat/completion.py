"""One completion against the character's connections: the provider's stream,
and its usage counted once however it ends (finished, broken, or the client gone)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async

from accounts.models import User
from chats.reply_tally import ReplyTally, reply_settle
from chats.services import GenerationRecord, usage_record
from tavern.ai.chat import (
    AllProvidersFailed,
    ProviderStreamBroken,
    TokenDelta,
    TokenUsage,
    stream_with_fallback,
)

from .context import CompletionContext

USAGE_KIND = "openai_api"


class CompletionRun:
    def __init__(self, *, user: User, context: CompletionContext) -> None:
        self.user = user
        self.context = context
        self.tally = ReplyTally(context.messages)
        self._events = stream_with_fallback(context.connections, context.messages, context.params)
        self._settled = False

    @property
    def text(self) -> str:
        return self.tally.text

    @property
    def finish_reason(self) -> str:
        return self.tally.finish_reason

    def usage(self) -> TokenUsage:
        """The provider's count when it gave one, else ours."""
        return self.tally.usage()

    async def start(self) -> None:
        """Wait until a connection answers. Raises AllProvidersFailed when none does,
        before anything is sent to the client, so it can still be told with a status code."""
        try:
            first = await anext(self._events)
        except StopAsyncIteration as ended:  # stream_with_fallback always names the connection first
            raise AllProvidersFailed([]) from ended
        except AllProvidersFailed as failed:
            self.tally.unanswered(failed.message)
            raise
        self.tally.add(first)

    async def texts(self) -> AsyncIterator[str]:
        """The reply's text as it arrives. Raises ProviderStreamBroken if it breaks off."""
        try:
            async for event in self._events:
                self.tally.add(event)
                if isinstance(event, TokenDelta) and event.text:
                    yield event.text
        except ProviderStreamBroken as broken:
            self.tally.broke(broken.message)
            raise

    async def settle(self) -> None:
        """Close the provider's stream; record usage and spend the caller's daily tokens (once)."""
        if self._settled:
            return
        self._settled = True
        await self._events.aclose()
        if not self.tally.answered:
            return  # nobody answered: nothing was generated
        if self.tally.partial and not self.tally.error:
            self.tally.stopped()  # the client went away before the end
        await reply_settle(self.tally, user_id=self.user.pk, store=self._usage_row)

    async def _usage_row(self, record: GenerationRecord) -> None:
        await sync_to_async(usage_record)(user=self.user, chat=None, generation=record, kind=USAGE_KIND)
