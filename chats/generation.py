"""One generation, end to end: quota, context, prompt, provider stream (with
fallback, or the offline demo), tokens to every socket of the chat, the reply
stored (partial when stopped or broken), usage counted, memory jobs queued.

It runs as one asyncio task per generation, in the process that received the
request; sockets anywhere follow it through the channel layer and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from tavern.ai.chat import (
    AllProvidersFailed,
    ConnectionUsed,
    ProviderStreamBroken,
    ReasoningDelta,
    StreamFinished,
    TokenDelta,
    stream_with_fallback,
)
from tavern.ai.offline_provider import OfflineCard, OfflineConnection
from tavern.ai.pricing import usage_cost_micro_usd
from tavern.ai.tokenizer import count_message_tokens, count_tokens

from . import realtime
from .models import Chat, Message
from .payloads import message_payload
from .quota import QuotaExceeded, quota_check, quota_consume
from .realtime import db_async
from .services import GenerationRecord, message_add_swipe, message_append_reply, message_continue
from .turn_context import TurnContext, TurnError, turn_context_load

STOP_POLL_SECONDS = 0.2
CLEANUP_SECONDS = 5.0
EventSink = Callable[[dict[str, Any]], Awaitable[None]]


class GenerationRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class GenerationOutcome:
    generation_id: str
    message: Message | None
    text: str
    record: GenerationRecord
    error: str = ""


# generation id → task, for prompt cancellation in this process (others poll Redis)
_RUNNING: dict[str, asyncio.Task[Any]] = {}


def generation_cancel_local(generation_id: str) -> bool:
    task = _RUNNING.get(generation_id)
    if task is None or task.done():
        return False
    task.cancel()
    return True


async def _emit(chat_id: int, event: dict[str, Any], sink: EventSink | None) -> None:
    await realtime.chat_publish(chat_id, event)
    if sink is not None:
        await sink(event)


def _store(ctx: TurnContext, text: str, record: GenerationRecord) -> Message:
    with transaction.atomic():
        chat = Chat.objects.select_related("owner").get(pk=ctx.chat_id)
        if ctx.mode == "send":
            message = message_append_reply(chat=chat, character=ctx.speaker, content=text, generation=record)
        else:
            target = Message.objects.select_related("chat__owner").get(pk=ctx.target_message_id)
            if ctx.mode == "continue":
                message = message_continue(message=target, addition=text, generation=record)
            else:
                message = message_add_swipe(message=target, content=text, generation=record)
        Chat.objects.filter(pk=chat.pk).update(lorebook_state=ctx.lorebook_state)
        from .tasks import chat_memory_update

        chat_id = chat.pk
        transaction.on_commit(lambda: chat_memory_update.delay(chat_id))
    return message


async def generation_run(
    *,
    chat_id: int,
    user_id: int,
    mode: str = "send",
    target_message_id: int | None = None,
    requested_character_id: int | None = None,
    sink: EventSink | None = None,
    quota_checked: bool = False,
) -> GenerationOutcome | None:
    """Run one generation; None when nobody is to speak (a manual group chat).
    `quota_checked`: the caller already counted this turn (a send checks before storing)."""
    if not quota_checked:
        tier = await db_async(_user_tier)(user_id)
        try:
            await quota_check(user_id=user_id, tier=tier)
        except QuotaExceeded as error:
            raise GenerationRefused(error.code, error.message) from error
    generation_id = uuid.uuid4().hex
    if not await realtime.generation_lock(chat_id, generation_id):
        raise GenerationRefused("busy", "A reply is already being written in this chat; wait or stop it.")
    _RUNNING[generation_id] = asyncio.current_task()  # type: ignore[assignment]
    try:
        try:
            ctx = await db_async(turn_context_load)(
                chat_id=chat_id,
                user_id=user_id,
                mode=mode,
                target_message_id=target_message_id,
                requested_character_id=requested_character_id,
            )
        except TurnError as error:
            raise GenerationRefused(error.code, error.message) from error
        if ctx is None:
            return None
        outcome, last_event = await _stream(ctx, generation_id, sink)
    finally:
        _RUNNING.pop(generation_id, None)
        await realtime.live_clear(chat_id)
        await realtime.generation_unlock(chat_id, generation_id)
    # The last event (done or error) goes out once the chat is free again, so that a
    # client acting on it at once (regenerate, send) is not refused as busy.
    await _emit(chat_id, last_event, sink)
    return outcome


class _TokenPublisher:
    """Appends tokens to the live text, then publishes them, batched.

    The first token goes at once; later ones wait at most settings.TOKEN_BATCH_SECONDS,
    so a fast provider costs a few channel-layer messages a second per chat, not hundreds.
    `offset` counts UTF-16 code units, as a browser's string length does."""

    def __init__(self, chat_id: int, generation_id: str, sink: EventSink | None) -> None:
        self.chat_id, self.generation_id, self.sink = chat_id, generation_id, sink
        self.pending: list[str] = []
        self.offset = 0
        self.last_flush = 0.0
        self.timer: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()

    async def add(self, text: str) -> None:
        self.pending.append(text)
        wait = self.last_flush + settings.TOKEN_BATCH_SECONDS - time.perf_counter()
        if wait <= 0:
            await self.flush()
        elif self.timer is None:
            self.timer = asyncio.create_task(self._flush_later(wait))

    async def _flush_later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self.timer = None
        await self.flush()

    async def flush(self) -> None:
        async with self.lock:
            if not self.pending:
                return
            text = "".join(self.pending)
            self.pending.clear()
            offset = self.offset
            self.offset += len(text.encode("utf-16-le")) // 2
            self.last_flush = time.perf_counter()
            await realtime.live_append(self.chat_id, text)
            await _emit(
                self.chat_id,
                {"type": "token", "generation_id": self.generation_id, "offset": offset, "text": text},
                self.sink,
            )

    async def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        await self.flush()


def _user_tier(user_id: int) -> str:
    from accounts.models import User

    return User.objects.only("subscription_tier").get(pk=user_id).subscription_tier


async def _stream(
    ctx: TurnContext, generation_id: str, sink: EventSink | None
) -> tuple[GenerationOutcome, dict[str, Any]]:
    """Stream and store the reply; returns the outcome and the last event, for the caller to send."""
    chat_id = ctx.chat_id
    started_event = {
        "type": "generation_started",
        "generation_id": generation_id,
        "mode": ctx.mode,
        "character": {"id": ctx.speaker.pk, "name": ctx.speaker.name},
        "target_message_id": ctx.target_message_id,
    }
    await realtime.live_start(chat_id, started_event)
    await _emit(chat_id, started_event, sink)

    messages = ctx.prompt.messages
    connections: list[Any] = list(ctx.connections)
    if not connections:
        # No connection configured: the offline demo, honest about what it is.
        connections = [
            OfflineConnection(
                card=OfflineCard(**ctx.offline_card),
                chat_id=ctx.chat_id,
                turn=ctx.turn,
                persona_name=ctx.user_name,
                user_message=ctx.last_user_text,
                swipe=ctx.swipe,
                tokens_per_second=settings.OFFLINE_TOKENS_PER_SECOND,
            )
        ]
    stream = stream_with_fallback(connections, messages, ctx.params)
    label, model = "", ""
    parts: list[str] = []
    publisher = _TokenPublisher(chat_id, generation_id, sink)
    started = time.perf_counter()
    first_token_at: float | None = None
    finish_reason, usage, error, partial = "", None, "", False
    next_stop_check = started + STOP_POLL_SECONDS
    try:
        async for event in stream:
            if isinstance(event, TokenDelta):
                if not event.text:
                    continue
                if first_token_at is None:
                    first_token_at = time.perf_counter()
                parts.append(event.text)
                await publisher.add(event.text)
                now = time.perf_counter()
                if now >= next_stop_check:
                    next_stop_check = now + STOP_POLL_SECONDS
                    if await realtime.generation_stop_requested(generation_id):
                        finish_reason, partial = "stopped", True
                        break
            elif isinstance(event, ConnectionUsed):
                label, model = event.label, event.model
            elif isinstance(event, StreamFinished):
                finish_reason, usage = event.finish_reason or "stop", event.usage
                model = event.model or model
            elif isinstance(event, ReasoningDelta):
                continue
    except asyncio.CancelledError:
        finish_reason, partial = "stopped", True
    except ProviderStreamBroken as broken:
        finish_reason, partial, error = "error", True, str(broken)
    except AllProvidersFailed as failed:
        error = failed.message
        return (
            GenerationOutcome(generation_id, None, "", GenerationRecord(error=error[:500]), error=error),
            {"type": "error", "generation_id": generation_id, "code": "provider_failed", "message": error},
        )
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            # Bounded: a provider that vanished must not hold a stopping reply (or a
            # shutting-down event loop) forever.
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(close(), CLEANUP_SECONDS)
    await asyncio.wait_for(publisher.close(), CLEANUP_SECONDS)

    text = "".join(parts)
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    tokens_in = getattr(usage, "prompt_tokens", None) or count_message_tokens(messages)
    tokens_out = getattr(usage, "completion_tokens", None) or count_tokens(text)
    record = GenerationRecord(
        connection_label=label,
        model=model,
        latency_ms=elapsed_ms,
        first_token_ms=int((first_token_at - started) * 1000) if first_token_at else None,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        finish_reason=finish_reason,
        is_partial=partial,
        error=error,
        cost_micro_usd=usage_cost_micro_usd(
            model, tokens_in, tokens_out, base_url=ctx.connections[0].base_url if ctx.connections else None
        )
        if ctx.connections
        else 0,
    )
    if not text and ctx.mode != "continue":
        message = None
        last_event = {
            "type": "error",
            "generation_id": generation_id,
            "code": "empty_reply",
            "message": error or "The model returned an empty reply.",
        }
    else:
        message = await db_async(_store)(ctx, text, record)
        await quota_consume(user_id=ctx.user_id, tokens=tokens_in + tokens_out)
        last_event = {
            "type": "done",
            "generation_id": generation_id,
            "message": message_payload(message),
            "record": _record_payload(record),
        }
    return GenerationOutcome(generation_id, message, text, record, error=error), last_event


def _record_payload(record: GenerationRecord) -> dict[str, Any]:
    return {
        "connection": record.connection_label,
        "model": record.model,
        "latency_ms": record.latency_ms,
        "first_token_ms": record.first_token_ms,
        "tokens_in": record.tokens_in,
        "tokens_out": record.tokens_out,
        "finish_reason": record.finish_reason,
        "partial": record.is_partial,
        "error": record.error,
    }
