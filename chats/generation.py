"""One generation, end to end: context, prompt, provider stream (with fallback, or
the offline demo), tokens to every socket of the chat, the reply stored (partial
when stopped or broken), usage counted, memory jobs queued.

`chats.turns` owns the turn around it (quota, the user's message, the reply slot);
a generation runs in a slot a turn reserved. It runs as one asyncio task, in the
process that received the request; sockets anywhere follow it through the channel
layer and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from tavern import metrics
from tavern.ai.chat import (
    AllProvidersFailed,
    ConnectionUsed,
    ProviderStreamBroken,
    StreamFinished,
    TokenDelta,
    stream_with_fallback,
)
from tavern.ai.offline_provider import OfflineCard, OfflineConnection
from tavern.compiled_query import CompiledQuery

from . import realtime
from .models import Chat, Message
from .payloads import message_payload
from .realtime import db_async
from .reply_tally import ReplyTally, reply_settle
from .services import GenerationRecord, message_add_swipe, message_append_reply, message_continue
from .turn_context import TurnContext, TurnError, turn_context_load

logger = logging.getLogger(__name__)

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


class _Run:
    """A generation running in this process: how a stop reaches it.

    A stop never cancels the generation's own task (a cancellation landing in a
    database call or a Redis command can lose the reply); it ends the provider stream
    only, so the text written so far is stored and one final event goes out."""

    __slots__ = ("reader", "stop_requested")

    def __init__(self) -> None:
        self.stop_requested = False
        self.reader: asyncio.Task[Any] | None = None

    def stop(self) -> None:
        self.stop_requested = True
        if self.reader is not None and not self.reader.done():
            self.reader.cancel()


_RUNNING: dict[str, _Run] = {}


def generation_cancel_local(generation_id: str) -> bool:
    run = _RUNNING.get(generation_id)
    if run is None:
        return False
    run.stop()
    return True


async def generation_stop(chat_id: int) -> None:
    """Stop the reply being written in this chat, whichever process writes it."""
    generation_id = await realtime.generation_current(chat_id)
    if generation_id is None:
        return
    generation_cancel_local(generation_id)
    await realtime.generation_request_stop(generation_id)


async def generation_reserve(chat_id: int) -> str:
    """Take the chat's one reply slot now; a generation started with the id runs in it.

    A socket reserves before it handles its next frame, so a `stop` that follows a
    `send` always finds the reply it means."""
    generation_id = uuid.uuid4().hex
    try:
        locked = await realtime.generation_lock(chat_id, generation_id)
    except realtime.RedisUnavailable as error:
        raise _unavailable() from error
    return _reserved(generation_id, locked=locked)


def generation_reserve_sync(chat_id: int) -> str:
    """`generation_reserve` for sync code: a send takes the slot in its one trip to the
    database thread."""
    generation_id = uuid.uuid4().hex
    try:
        locked = realtime.generation_lock_sync(chat_id, generation_id)
    except realtime.RedisUnavailable as error:
        raise _unavailable() from error
    return _reserved(generation_id, locked=locked)


def _reserved(generation_id: str, *, locked: bool) -> str:
    if not locked:
        raise GenerationRefused("busy", "A reply is already being written in this chat; wait or stop it.")
    _RUNNING[generation_id] = _Run()
    return generation_id


def _unavailable() -> GenerationRefused:
    return GenerationRefused(
        "unavailable", "Replies are unavailable for a moment (the live service is down); try again."
    )


async def generation_release(chat_id: int, generation_id: str) -> None:
    """Free a reserved slot whose generation will not run."""
    _RUNNING.pop(generation_id, None)
    await realtime.generation_unlock(chat_id, generation_id)


def generation_release_sync(chat_id: int, generation_id: str) -> None:
    _RUNNING.pop(generation_id, None)
    realtime.generation_unlock_sync(chat_id, generation_id)


@dataclass(frozen=True)
class ContextRead:
    """A turn's context, read ahead: a send reads it in its trip to the database thread,
    just after storing the message. `context` None: nobody is to speak."""

    context: TurnContext | None


async def _emit(chat_id: int, event: dict[str, Any], sink: EventSink | None) -> None:
    """To every socket of the chat and to the caller's sink. A Redis outage costs the
    sockets their live view, never the reply: the sink still gets it and it is stored."""
    await realtime.chat_publish(chat_id, event)
    if sink is not None:
        await sink(event)


# The few columns storing a reply needs (not the set-up, the summary, the lore state).
_CHAT_FOR_REPLY = CompiledQuery(
    lambda p: Chat.objects.select_related("owner").only("id", "owner__id").filter(pk=p.chat_id)[:1]
)


def _store(ctx: TurnContext, text: str, record: GenerationRecord) -> Message:
    with transaction.atomic():
        chat = _CHAT_FOR_REPLY.first(chat_id=ctx.chat_id)
        if chat is None:
            raise Chat.DoesNotExist(f"chat {ctx.chat_id}")
        if ctx.mode == "send":
            message = message_append_reply(chat=chat, character=ctx.speaker, content=text, generation=record)
        else:
            target = Message.objects.select_related("chat__owner").get(pk=ctx.target_message_id)
            if ctx.mode == "continue":
                message = message_continue(message=target, addition=text, generation=record)
            else:
                message = message_add_swipe(message=target, content=text, generation=record)
        if ctx.lorebook_state_changed:  # sticky/cooldown timers moved; most turns leave them
            Chat.objects.filter(pk=chat.pk).update(lorebook_state=ctx.lorebook_state)
        from .tasks import chat_memory_update_soon  # tasks import this module's callers: a real cycle

        chat_id = chat.pk
        transaction.on_commit(lambda: chat_memory_update_soon(chat_id))
    return message


async def generation_run(
    *,
    chat_id: int,
    user_id: int,
    generation_id: str,
    mode: str = "send",
    target_message_id: int | None = None,
    requested_character_id: int | None = None,
    sink: EventSink | None = None,
    read: ContextRead | None = None,
) -> GenerationOutcome | None:
    """Run one generation in the slot `generation_id` (`generation_reserve`); None when
    nobody is to speak (a manual group chat). `read`: the turn's context, read already.

    Whenever it ends — finished, stopped, failed — exactly one final event (done or
    error) goes to the chat's sockets and the sink, unless it was refused (raised)."""
    run = _RUNNING.setdefault(generation_id, _Run())
    last_event: dict[str, Any] | None = None
    try:
        if read is not None:
            ctx = read.context
        else:
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
        if run.stop_requested or await realtime.generation_stop_requested(generation_id):
            outcome, last_event = _stopped_before_start(generation_id)
        else:
            with metrics.chat_stream_active(offline=not ctx.connections):
                outcome, last_event = await _stream(ctx, generation_id, run, sink)
    finally:
        _RUNNING.pop(generation_id, None)
        await realtime.live_clear(chat_id)
        await realtime.generation_unlock(chat_id, generation_id)
    # The last event (done or error) goes out once the chat is free again, so that a
    # client acting on it at once (regenerate, send) is not refused as busy.
    await _emit(chat_id, last_event, sink)
    return outcome


def _stopped_before_start(generation_id: str) -> tuple[GenerationOutcome, dict[str, Any]]:
    record = GenerationRecord(finish_reason="stopped", is_partial=True)
    return (
        GenerationOutcome(generation_id, None, "", record),
        {"type": "done", "generation_id": generation_id, "message": None, "record": _record_payload(record)},
    )


class _TokenPublisher:
    """Publishes a reply's tokens, batched.

    The first token goes at once; later ones wait at most settings.TOKEN_BATCH_SECONDS,
    so a fast provider costs a few events a second per chat, not hundreds. A batch goes
    to this process's sockets at once (kept as the live text they catch up from) and to
    the other processes behind its append to the live text in Redis, in the process's
    next shared round trip (see the bus), which every STOP_POLL_SECONDS also reads the
    stop flag another process may have set (`stop_seen`).

    With batching on, `add` does not wait: batches go out from the publisher's own task,
    in order, so reading the provider never waits for Redis or for the sockets.
    `offset` counts UTF-16 code units, as a browser's string length does."""

    def __init__(
        self, chat_id: int, generation_id: str, sink: EventSink | None, *, offline: bool = False
    ) -> None:
        self.chat_id, self.generation_id, self.sink, self.offline = chat_id, generation_id, sink, offline
        self.pending: list[str] = []
        self.pending_since = 0.0  # when the oldest pending token arrived (metrics)
        self.offset = 0
        self.last_flush = 0.0
        self.next_stop_check = time.perf_counter() + STOP_POLL_SECONDS
        self.stop_seen = False
        self.pump: asyncio.Task[None] | None = None
        self.batch_seconds = settings.TOKEN_BATCH_SECONDS  # read once: a setting costs a lookup a token
        self.waiting = False  # the pump waits for the batch time to pass
        self.closing = False

    async def add(self, text: str) -> None:
        if not self.pending:
            self.pending_since = time.perf_counter()
        self.pending.append(text)
        if not self.batch_seconds:
            await self._flush()  # no batching (the tests' setting): each token its own event, in order
        elif self.pump is None:
            self.pump = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        try:
            while self.pending:
                wait = self.last_flush + self.batch_seconds - time.perf_counter()
                if wait > 0:
                    self.waiting = True
                    try:
                        await asyncio.sleep(wait)
                    finally:
                        self.waiting = False
                await self._flush()
        except asyncio.CancelledError:
            if not self.closing:
                raise
        except Exception:  # the reply goes on, and is stored, without its live view
            logger.exception("publishing the tokens of chat %s", self.chat_id)
        finally:
            self.pump = None

    async def _flush(self) -> None:
        text, tokens, since = "".join(self.pending), len(self.pending), self.pending_since
        self.pending.clear()
        offset = self.offset
        self.offset += len(text.encode("utf-16-le")) // 2
        now = self.last_flush = time.perf_counter()
        check_stop = now >= self.next_stop_check
        if check_stop:
            self.next_stop_check = now + STOP_POLL_SECONDS
        event = {"type": "token", "generation_id": self.generation_id, "offset": offset, "text": text}
        sent = await realtime.chat_publish_token(
            self.chat_id, event, stop_of=self.generation_id if check_stop else None
        )
        if check_stop:
            sent.add_done_callback(self._stop_checked)
        metrics.chat_tokens_published(tokens=tokens, oldest_arrived_at=since, offline=self.offline)
        if self.sink is not None:
            await self.sink(event)

    def _stop_checked(self, sent: asyncio.Future[list[Any] | None]) -> None:
        results = None if sent.cancelled() else sent.result()
        if results is not None and results[1]:
            self.stop_seen = True

    async def close(self) -> None:
        """Send what is left at once, after the batch on its way (the reply's last event
        follows it)."""
        self.closing = True
        pump = self.pump
        if pump is not None:
            if self.waiting:
                pump.cancel()  # waiting out the batch time only: nothing is on its way
            await asyncio.gather(pump, return_exceptions=True)
        if self.pending:
            await self._flush()


async def _read_reply(stream: AsyncIterator[Any], reply: ReplyTally, publisher: _TokenPublisher) -> None:
    """Read the provider stream into `reply`, publishing tokens. Runs as the generation's
    reader task: a stop in this process cancels it; one in another process is seen here."""
    async for event in stream:
        if isinstance(event, TokenDelta):
            if not event.text:
                continue
            reply.add(event)
            await publisher.add(event.text)
            if publisher.stop_seen:  # asked in another process (read with the batches)
                reply.stopped()
                return
        elif isinstance(event, ConnectionUsed | StreamFinished):
            reply.add(event)


async def _stream(
    ctx: TurnContext, generation_id: str, run: _Run, sink: EventSink | None
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
    offline = not ctx.connections
    publisher = _TokenPublisher(chat_id, generation_id, sink, offline=offline)
    reply = ReplyTally(messages)  # what the stream produces, and what it costs
    started = reply.started
    run.reader = asyncio.create_task(_read_reply(stream, reply, publisher))
    if run.stop_requested:  # asked to stop while the reply was being set up
        run.reader.cancel()
    shutting_down = False
    try:
        await asyncio.wait({run.reader})
    except asyncio.CancelledError:
        # This task is being cancelled (the process is shutting down): keep what was
        # written, within a bounded cleanup, then let the cancellation go on.
        shutting_down = True
        asyncio.current_task().uncancel()  # type: ignore[union-attr]
        run.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run.reader
    failure = None if run.reader.cancelled() else run.reader.exception()
    if run.reader.cancelled():
        reply.stopped()
    elif isinstance(failure, ProviderStreamBroken):
        reply.broke(str(failure))
    elif isinstance(failure, AllProvidersFailed):
        reply.unanswered(failure.message)
    elif failure is not None:
        logger.error("reply stream failed", exc_info=failure)
        reply.broke("The reply stopped because of an error on our side; it has been logged.")
    try:
        async with asyncio.timeout(CLEANUP_SECONDS):
            # Bounded: a provider that vanished must not hold a stopping reply (or a
            # shutting-down event loop) forever.
            with contextlib.suppress(Exception):
                await stream.aclose()
            await publisher.close()
    except TimeoutError:
        logger.warning("closing the reply stream of chat %s took too long", chat_id)
    metrics.chat_first_token(started=started, first_token_at=reply.first_token_at, offline=offline)
    if isinstance(failure, AllProvidersFailed):
        error = failure.message
        outcome = GenerationOutcome(generation_id, None, "", reply.record(), error=error)
        event = {"type": "error", "generation_id": generation_id, "code": "provider_failed", "message": error}
    else:
        outcome, event = await _stored(ctx, generation_id, reply)
    metrics.chat_generation_failed(failure=failure, final_event=event, offline=offline)
    if shutting_down:
        raise asyncio.CancelledError
    return outcome, event


async def _stored(
    ctx: TurnContext, generation_id: str, reply: ReplyTally
) -> tuple[GenerationOutcome, dict[str, Any]]:
    """Store what the stream produced (nothing when empty) and say how it ended."""
    text = reply.text
    record = reply.record()
    if not text and ctx.mode != "continue":
        if reply.finish_reason == "stopped":
            return (
                GenerationOutcome(generation_id, None, "", record),
                {
                    "type": "done",
                    "generation_id": generation_id,
                    "message": None,
                    "record": _record_payload(record),
                },
            )
        return (
            GenerationOutcome(generation_id, None, "", record, error=reply.error),
            {
                "type": "error",
                "generation_id": generation_id,
                "code": "empty_reply",
                "message": reply.error or "The model returned an empty reply.",
            },
        )
    # The message's service writes the usage row with it (kind "chat"); settling spends the quota.
    message = await reply_settle(
        reply, user_id=ctx.user_id, store=lambda record: db_async(_store)(ctx, text, record)
    )
    return (
        GenerationOutcome(generation_id, message, text, record, error=reply.error),
        {
            "type": "done",
            "generation_id": generation_id,
            "message": message_payload(message),
            "record": _record_payload(record),
        },
    )


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
