"""Chat realtime: group names, event publishing, and the live state of a reply in
progress, kept in Redis so that a socket that reconnects (or another device)
catches up on the tokens it missed."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import AsyncToSync, sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction

from tavern.realtime.bus import PipelineSteps, bus, publish_sync
from tavern.realtime.redis import (
    REDIS_ERRORS,
    RedisUnavailable,
    redis_client,
    redis_outage_log,
    redis_sync_client,
)

LIVE_TTL_SECONDS = 600


def db_async(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Database work of chat sockets and generations, in a thread pool: one shared
    thread (channels' default) would queue every chat of the process behind each other.

    Except when a sync caller (a REST view, a test) waits in `async_to_sync` for this
    work: then it runs in that caller's thread, on the connection (and transaction)
    the caller already holds, as asgiref's thread-sensitive calls do."""
    pooled = database_sync_to_async(func, thread_sensitive=False)
    inline = sync_to_async(func, thread_sensitive=True)  # the caller's thread manages its connection

    @functools.wraps(func)
    async def call(*args: Any, **kwargs: Any) -> Any:
        if _sync_caller_waits():
            return await inline(*args, **kwargs)
        return await pooled(*args, **kwargs)

    return call


def _sync_caller_waits() -> bool:
    return (
        getattr(AsyncToSync.executors, "current", None) is not None
        or asyncio.get_running_loop() in AsyncToSync.loop_thread_executors
    )


def _live_key(chat_id: int) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:chat:{chat_id}:live"


def _lock_key(chat_id: int) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:chat:{chat_id}:generating"


def _stop_key(generation_id: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:generation:{generation_id}:stop"


def chat_topic(chat_id: int) -> str:
    return f"chat.{chat_id}"


async def chat_publish(
    chat_id: int, event: dict[str, Any], *, with_steps: PipelineSteps | None = None
) -> None:
    """Send an event to every socket open on the chat (any process, any device);
    `with_steps` adds Redis commands to the same round trip (the live text).

    What is published has already happened (stored, or being streamed to its caller):
    without Redis the other processes' sockets miss the event, and nothing else fails."""
    return await bus().publish(chat_topic(chat_id), event, with_steps=with_steps)


def chat_publish_on_commit(chat_id: int, event: dict[str, Any]) -> None:
    """For services: publish once the change is committed (at once outside a
    transaction), so sockets never hear of a write that was rolled back."""
    transaction.on_commit(lambda: publish_sync(chat_topic(chat_id), event))


async def generation_lock(chat_id: int, generation_id: str) -> bool:
    """One reply at a time per chat; the lock expires if a process dies mid-reply."""
    try:
        return bool(await redis_client().set(_lock_key(chat_id), generation_id, nx=True, ex=LIVE_TTL_SECONDS))
    except REDIS_ERRORS as error:
        raise RedisUnavailable(str(error)) from error


def generation_lock_sync(chat_id: int, generation_id: str) -> bool:
    """`generation_lock` for sync code (a send takes the slot in its database trip)."""
    try:
        return bool(redis_sync_client().set(_lock_key(chat_id), generation_id, nx=True, ex=LIVE_TTL_SECONDS))
    except REDIS_ERRORS as error:
        # The answer may be what was lost (a timeout after Redis took the slot): free it
        # if it is ours, as the send is refused.
        generation_unlock_sync(chat_id, generation_id)
        raise RedisUnavailable(str(error)) from error


# Delete the key only if it still holds this value, in one step: a get then a delete
# could free the slot another reply took after this one's lock expired.
_DELETE_IF_HELD = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


async def generation_unlock(chat_id: int, generation_id: str) -> None:
    try:
        await redis_client().eval(_DELETE_IF_HELD, 1, _lock_key(chat_id), generation_id)
    except REDIS_ERRORS as error:
        redis_outage_log("freeing the chat's reply slot; it expires by itself", error)


def generation_unlock_sync(chat_id: int, generation_id: str) -> None:
    try:
        redis_sync_client().eval(_DELETE_IF_HELD, 1, _lock_key(chat_id), generation_id)
    except REDIS_ERRORS as error:
        redis_outage_log("freeing the chat's reply slot; it expires by itself", error)


async def generation_current(chat_id: int) -> str | None:
    try:
        value = await redis_client().get(_lock_key(chat_id))
    except REDIS_ERRORS as error:
        redis_outage_log("finding the reply being written", error)
        return None
    return value.decode() if value else None


async def generation_request_stop(generation_id: str) -> None:
    try:
        await redis_client().set(_stop_key(generation_id), "1", ex=LIVE_TTL_SECONDS)
    except REDIS_ERRORS as error:
        redis_outage_log("asking another process to stop a reply", error)


async def generation_stop_requested(generation_id: str) -> bool:
    try:
        return bool(await redis_client().exists(_stop_key(generation_id)))
    except REDIS_ERRORS as error:
        redis_outage_log("checking for a stop", error)
        return False


@dataclass
class _LiveHere:
    """A reply being written by this process: what its sockets here have been sent."""

    meta: dict[str, Any]
    parts: list[str] = field(default_factory=list)


# By event loop and chat: the sockets of a loop are the ones its bus delivers to.
_LIVE_HERE: dict[tuple[asyncio.AbstractEventLoop, int], _LiveHere] = {}


async def live_start(chat_id: int, meta: dict[str, Any]) -> None:
    """A reply begins: its description, and an empty text that tokens append to (here,
    and in Redis for the other processes)."""
    _LIVE_HERE[asyncio.get_running_loop(), chat_id] = _LiveHere(meta)
    pipe = redis_client().pipeline()
    pipe.set(_live_key(chat_id), json.dumps(meta), ex=LIVE_TTL_SECONDS)
    pipe.set(_live_key(chat_id) + ":text", "", ex=LIVE_TTL_SECONDS)
    try:
        await pipe.execute()
    except REDIS_ERRORS as error:
        redis_outage_log("keeping the live reply for reconnecting sockets", error)


def token_steps(chat_id: int, text: str, *, stop_of: str | None = None) -> PipelineSteps:
    """The Redis commands that go with publishing a token, in the same round trip: the
    live text appended first (a socket that joins mid-stream and reads it then never
    misses a token) and, with `stop_of`, whether a stop of that generation was asked."""
    key = _live_key(chat_id) + ":text"

    def steps(pipe: Any) -> None:
        pipe.append(key, text)
        if stop_of is not None:
            pipe.exists(_stop_key(stop_of))

    return steps


async def chat_publish_token(
    chat_id: int, event: dict[str, Any], *, stop_of: str | None = None
) -> asyncio.Future[list[Any] | None]:
    """A batch of a reply's tokens (`event["text"]`): to this process's sockets at once,
    kept as the live text they catch up from, and to the other processes behind its
    append to the live text in Redis, without waiting for that round trip. The result
    says, with `stop_of`, whether a stop of that generation was asked (second value)."""
    here = _LIVE_HERE.get((asyncio.get_running_loop(), chat_id))
    if here is not None:
        here.parts.append(event["text"])
    steps = token_steps(chat_id, event["text"], stop_of=stop_of)
    return await bus().publish_local_first(chat_topic(chat_id), event, with_steps=steps)


async def live_get(chat_id: int) -> dict[str, Any] | None:
    """The reply being written in the chat, with its text so far (None: none is). From
    this process when it writes the reply: exactly what its sockets were sent."""
    here = _LIVE_HERE.get((asyncio.get_running_loop(), chat_id))
    if here is not None:
        return {**here.meta, "text": "".join(here.parts)}
    meta, text = await redis_client().mget(_live_key(chat_id), _live_key(chat_id) + ":text")
    if not meta:
        return None
    return {**json.loads(meta), "text": (text or b"").decode()}


async def live_clear(chat_id: int) -> None:
    _LIVE_HERE.pop((asyncio.get_running_loop(), chat_id), None)
    try:
        await redis_client().delete(_live_key(chat_id), _live_key(chat_id) + ":text")
    except REDIS_ERRORS as error:
        redis_outage_log("clearing the live reply; it expires by itself", error)
