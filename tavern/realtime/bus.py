"""Live events by topic (a chat's tokens, its messages): the sockets of this process
get an event at once, the other processes' through one Redis Pub/Sub channel per topic.

Why not the channel layer's groups for this: they send every event through Redis and
back even to the socket next door, one inbox per process that drops what overflows it
without a word, members of a dead process that stay in a group for a day, and a hop to
a thread before each message. Here:
- an event is encoded once, for every socket and the other processes;
- one PUBLISH (pipelined with the caller's own commands, e.g. the live text) reaches
  the others, and every publisher of the process shares the round trip: what is handed
  in while one pipeline is on its way goes in the next, in order (group commit);
- this process's sockets get it once Redis has it (`publish`), or at once
  (`publish_local_first`, for a caller that keeps here what a joining socket catches up
  from: a reply's tokens);
- a process listens only to the topics it has sockets for, on one connection, and a
  process that dies takes its subscriptions with it;
- Pub/Sub never drops a message silently: when the subscriber connection is lost, the
  local sockets of every topic are told (`on_gap`) and resynchronise.

Subscribers (sockets) call `bus().join(topic, subscriber)` and `leave`; publishers call
`await bus().publish(topic, event)`. One bus per event loop (a process may run several:
`async_to_sync` runs each call in a loop of its own); its connection belongs to the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis
from django.conf import settings

from .redis import REDIS_ERRORS, redis_client, redis_outage_log, redis_sync_client

logger = logging.getLogger(__name__)

RECONNECT_MIN_SECONDS = 0.2
RECONNECT_MAX_SECONDS = 5.0
SUBSCRIBE_WAIT_SECONDS = 30.0  # generous: a loaded machine; Redis answers in microseconds
PipelineSteps = Callable[[Any], None]


@dataclass(eq=False)
class Subscriber:
    """One socket: `deliver` sends an encoded event; `on_gap` says events may have been
    missed (the Redis connection was lost), e.g. by asking the client to catch up."""

    deliver: Callable[[str], Awaitable[None]]
    on_gap: Callable[[], Awaitable[None]]


def encode(event: dict[str, Any]) -> str:
    """An event as the socket frame every subscriber gets (compact JSON, UTF-8 as is;
    orjson: a frame per token batch of every chat is encoded here)."""
    return orjson.dumps(event).decode()


class Bus:
    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex.encode()  # this bus's own messages come back: skipped
        self.local: dict[str, set[Subscriber]] = {}
        self._subscribed: dict[str, asyncio.Event] = {}
        self._connection: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # subscribe / unsubscribe / reconnect, one at a time
        self._wake = asyncio.Event()  # the reader waits on it while nothing is subscribed
        self._broken = False  # the subscriber connection failed: the reader reconnects
        self._closed = False
        self._outbox: list[_Outgoing] = []  # publishes waiting for the next round trip
        self._sender: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ subscribers

    async def join(self, topic: str, subscriber: Subscriber) -> None:
        """Deliver the topic's events to `subscriber` from now on (this process's and, once
        the subscription is confirmed, every other's)."""
        subscribers = self.local.setdefault(topic, set())
        subscribers.add(subscriber)
        if len(subscribers) == 1:
            await self._subscribe(topic)

    async def leave(self, topic: str, subscriber: Subscriber) -> None:
        subscribers = self.local.get(topic)
        if subscribers is None:
            return
        subscribers.discard(subscriber)
        if not subscribers:
            del self.local[topic]
            await self._unsubscribe(topic)

    # ------------------------------------------------------------ publishers

    async def publish(
        self, topic: str, event: dict[str, Any], *, with_steps: PipelineSteps | None = None
    ) -> list[Any] | None:
        """To the other processes in one round trip that first runs `with_steps` (Redis
        commands for the caller, e.g. appending to the live text, so that a socket reading
        it never misses the event), then to this process's sockets. Without Redis the
        other processes miss the event; this process's sockets do not.

        The round trip is shared: what every publisher of this process hands in while
        one pipeline is on its way goes in the next one, in order (group commit), so a
        busy process sends a few pipelines a second instead of one per chat per batch.

        Returns the results of this event's commands (`with_steps`' first), None
        without Redis."""
        frame = encode(event)
        results: list[Any] | None = await asyncio.shield(self._enqueue(topic, frame, with_steps))
        await self._deliver(topic, frame)
        return results

    async def publish_local_first(
        self, topic: str, event: dict[str, Any], *, with_steps: PipelineSteps | None = None
    ) -> asyncio.Future[list[Any] | None]:
        """This process's sockets at once, the other processes through the next shared
        round trip (in order with every other publish), without waiting for it.

        Only for a caller that keeps, in this process, what a socket joining here needs
        to catch up (a reply's live text: chats/realtime.py); `publish` is for the rest.
        Returns the round trip's results for this event's commands, when they come."""
        frame = encode(event)
        sent = self._enqueue(topic, frame, with_steps)
        await self._deliver(topic, frame)
        return sent

    def _enqueue(
        self, topic: str, frame: str, with_steps: PipelineSteps | None
    ) -> asyncio.Future[list[Any] | None]:
        sent: asyncio.Future[list[Any] | None] = asyncio.get_running_loop().create_future()
        self._outbox.append(_Outgoing(with_steps, _channel(topic), self.origin + b"|" + frame.encode(), sent))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send(), name="tavern-bus-sender")
        return sent

    async def _send(self) -> None:
        """Send the outbox, one pipeline at a time, until it is empty."""
        batch: list[_Outgoing] = []
        try:
            while self._outbox:
                batch, self._outbox = self._outbox, []
                await _send_batch(batch)
        finally:
            self._sender = None
            # Cancelled (the loop is closing): nobody waits for ever; they count as unsent.
            for item in (*batch, *self._outbox):
                if not item.sent.done():
                    item.sent.set_result(None)
            self._outbox = []

    async def _deliver(self, topic: str, frame: str) -> None:
        for subscriber in list(self.local.get(topic, ())):
            try:
                await subscriber.deliver(frame)
            except Exception:  # one broken socket never keeps an event from the others
                logger.exception("delivering a live event on %s", topic)

    # ------------------------------------------------------------ the Redis side

    async def _subscribe(self, topic: str) -> None:
        confirmed = self._subscribed.setdefault(topic, asyncio.Event())
        try:
            async with self._lock:
                self._start()
                if self._broken:  # the reader subscribes it with the others once back
                    self._wake.set()
                    return
                await self._pubsub.subscribe(_channel(topic))
            self._wake.set()
            async with asyncio.timeout(SUBSCRIBE_WAIT_SECONDS):
                await confirmed.wait()
        except (*REDIS_ERRORS, TimeoutError) as error:
            # This process's events still arrive; the reader subscribes again (and tells the
            # sockets they may have missed some) once Redis is back.
            redis_outage_log("listening to the other processes' live events", error)
            self._broken = True
            self._wake.set()

    async def _unsubscribe(self, topic: str) -> None:
        self._subscribed.pop(topic, None)
        if self._pubsub is None or self._broken:
            return
        try:
            async with self._lock:
                await self._pubsub.unsubscribe(_channel(topic))
        except REDIS_ERRORS as error:
            redis_outage_log("no longer listening to a topic", error)

    def _start(self) -> None:
        if self._pubsub is None:
            self._connection = _connection()
            self._pubsub = self._connection.pubsub()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="tavern-bus-reader")

    async def _read(self) -> None:
        delay = RECONNECT_MIN_SECONDS
        while not self._closed:
            try:
                if self._broken:
                    await self._reconnect()
                    delay = RECONNECT_MIN_SECONDS
                if not self._pubsub.subscribed:
                    self._wake.clear()  # no await since the check: a subscribe cannot slip in
                    await self._wake.wait()
                    continue
                message = await self._pubsub.get_message(timeout=None)
                if message is not None:
                    await self._received(message)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis gone, or a bug: never stop listening
                if isinstance(error, REDIS_ERRORS):
                    redis_outage_log("the other processes' live events", error)
                else:
                    logger.exception("the live event reader failed; starting it again")
                self._broken = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    async def _received(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = message.get("channel")
        topic = _topic(channel) if channel is not None else ""
        if kind == "subscribe":
            if (confirmed := self._subscribed.get(topic)) is not None:
                confirmed.set()
            return
        if kind != "message":
            return
        origin, _, frame = message["data"].partition(b"|")
        if origin != self.origin:
            await self._deliver(topic, frame.decode())

    async def _reconnect(self) -> None:
        """A new connection with every topic subscribed again (raises while Redis is still
        away); then every local socket is told it may have missed events meanwhile."""
        async with self._lock:
            old, self._connection, self._pubsub = self._connection, _connection(), None
            if old is not None:
                with contextlib.suppress(Exception):
                    await old.aclose()
            self._pubsub = self._connection.pubsub()
            topics = list(self.local)
            if topics:
                await self._pubsub.subscribe(*[_channel(topic) for topic in topics])
                await self._confirmed(topics)
            self._broken = False
        for topic in topics:
            for subscriber in list(self.local.get(topic, ())):
                with contextlib.suppress(Exception):
                    await subscriber.on_gap()

    async def _confirmed(self, topics: list[str]) -> None:
        """Read until Redis confirms every subscription: the sockets told of the gap then
        catch up knowing that nothing published from now on passes them by."""
        waiting = set(topics)
        while waiting:
            message = await self._pubsub.get_message(timeout=None)
            if message is None:
                continue
            if message["type"] == "subscribe":
                waiting.discard(_topic(message["channel"]))
            else:
                await self._received(message)

    async def close(self) -> None:
        self._closed = True
        if self._sender is not None:
            with contextlib.suppress(Exception):
                await self._sender
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.aclose()
        self._connection = self._pubsub = None


@dataclass(eq=False)
class _Outgoing:
    steps: PipelineSteps | None
    channel: str
    payload: bytes
    sent: asyncio.Future[list[Any] | None]


async def _send_batch(batch: list[_Outgoing]) -> None:
    """One pipeline for every publish of the batch; each learns its own commands' results.
    A command that fails (a wrong key type) fails its own publish's results, not the batch."""
    pipe = redis_client().pipeline(transaction=False)
    spans: list[int] = []
    for item in batch:
        before = len(pipe.command_stack)
        if item.steps is not None:
            item.steps(pipe)
        pipe.publish(item.channel, item.payload)
        spans.append(len(pipe.command_stack) - before)
    results: list[Any] | None = None
    try:
        results = await pipe.execute(raise_on_error=False)
    except REDIS_ERRORS as error:
        redis_outage_log("publishing a live event to the other processes", error)
    except Exception:  # never leave a publisher waiting
        logger.exception("publishing a batch of live events")
    start = 0
    for item, span in zip(batch, spans, strict=True):
        own = results[start : start + span] if results is not None else None
        start += span
        if own is not None and any(isinstance(result, Exception) for result in own):
            logger.error("a live event's Redis commands failed: %r", own)
            own = None
        if not item.sent.done():
            item.sent.set_result(own)


def _connection() -> aioredis.Redis:
    # No socket_timeout: see tavern/realtime/redis.py. The connection waits for messages.
    return aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=None, socket_connect_timeout=5)


def _channel(topic: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:live:{topic}"


def _topic(channel: bytes | str) -> str:
    name = channel.decode() if isinstance(channel, bytes) else channel
    return name.removeprefix(f"{settings.REDIS_KEY_PREFIX}:live:")


def publish_sync(topic: str, event: dict[str, Any]) -> None:
    """For sync code (services on commit, tasks, commands): through Redis to every
    process, this one's sockets included (no bus of theirs has this origin). Without
    Redis the sockets miss the event; nothing else fails."""
    try:
        redis_sync_client().publish(_channel(topic), _SYNC_ORIGIN + b"|" + encode(event).encode())
    except REDIS_ERRORS as error:
        redis_outage_log("publishing a live event", error)


_SYNC_ORIGIN = b"sync"
_BUSES: dict[asyncio.AbstractEventLoop, Bus] = {}


def bus() -> Bus:
    """The bus of the running event loop."""
    loop = asyncio.get_running_loop()
    current = _BUSES.get(loop)
    if current is None:
        for closed in [other for other in _BUSES if other.is_closed()]:
            del _BUSES[closed]
        current = _BUSES[loop] = Bus()
    return current


async def bus_close() -> None:
    """Close the running loop's bus (a test's loop before it ends; a server shutting down)."""
    current = _BUSES.pop(asyncio.get_running_loop(), None)
    if current is not None:
        await current.close()
