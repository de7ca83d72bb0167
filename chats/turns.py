"""A chat turn, whichever way it starts: the chat socket, the REST API (blocking or
streamed), and next the voice call, practice sessions and pipelines. Each entry
point makes one call here.

A turn is: the caller's quota, counted once → the chat's one reply slot taken → the
user's message stored (the service publishes `message_created` on commit) → the
reply generated, streamed and stored (`chats.generation`). A send does the steps up
to the message, and reads the reply's context, in one trip to the database thread.
The functions return a `Turn` that already holds the slot, so a stop that follows
always finds the reply it means, whatever the entry point; the caller then runs it
(`run`, awaiting the outcome) or starts it in the background (`start`)."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied

from accounts.models import User
from tavern.compiled_query import CompiledQuery

from .generation import (
    ContextRead,
    EventSink,
    GenerationOutcome,
    GenerationRefused,
    generation_release,
    generation_release_sync,
    generation_reserve,
    generation_reserve_sync,
    generation_run,
    generation_stop,
)
from .models import Message
from .quota import quota_check, quota_check_sync
from .realtime import chat_publish, db_async
from .selectors import chat_for_message
from .services import message_append_user
from .turn_context import RecallNeeded, turn_context_load

_BACKGROUND: set[asyncio.Task[None]] = set()
logger = logging.getLogger(__name__)


class SignedOut(PermissionDenied):
    """The account was deactivated (banned, or its password changed with sessions ended)
    while its socket was open; the push that closes the socket may not have arrived."""


@dataclass
class Turn:
    """A reply with its slot taken, to be run once (or released, if it never will)."""

    chat_id: int
    user_id: int
    mode: str
    generation_id: str
    target_message_id: int | None = None
    requested_character_id: int | None = None
    read: ContextRead | None = field(default=None, repr=False)  # the context, read ahead
    _claimed: bool = field(default=False, repr=False)

    async def run(self, sink: EventSink | None = None) -> GenerationOutcome | None:
        """Generate, stream and store the reply; None when nobody is to speak.

        Events go to every socket of the chat and to `sink`. Raises GenerationRefused
        when the turn cannot start (e.g. the target is not a reply)."""
        if self._claimed:
            raise RuntimeError("A turn runs once.")
        self._claimed = True
        return await generation_run(
            chat_id=self.chat_id,
            user_id=self.user_id,
            mode=self.mode,
            target_message_id=self.target_message_id,
            requested_character_id=self.requested_character_id,
            generation_id=self.generation_id,
            sink=sink,
            read=self.read,
        )

    def start(self) -> asyncio.Task[None]:
        """Run in the background of this process: the reply outlives the request or the
        socket that asked for it. A refusal goes to the chat's sockets as an error event."""
        task = asyncio.create_task(self._run_published())
        _BACKGROUND.add(task)  # a reference, or the loop may collect a running task
        task.add_done_callback(_BACKGROUND.discard)
        return task

    @property
    def claimed(self) -> bool:
        """Run (or released) already."""
        return self._claimed

    async def release(self) -> None:
        """Free the slot of a turn that will not run (its stream was never read);
        nothing once it has run."""
        if not self._claimed:
            self._claimed = True
            await generation_release(self.chat_id, self.generation_id)

    async def _run_published(self) -> None:
        try:
            await self.run()
        except GenerationRefused as error:
            await chat_publish(self.chat_id, {"type": "error", "code": error.code, "message": error.message})


@dataclass(frozen=True)
class Sent:
    """The user's message, and the reply it asked for (None for a repeated `client_id`)."""

    message: Message
    created: bool
    turn: Turn | None


async def turn_send(
    *, chat_id: int, user_id: int, content: str, client_id: str = "", character_id: int | None = None
) -> Sent:
    """Store the user's message, with the slot for the reply to it taken first.

    Raises QuotaExceeded, GenerationRefused (another reply is being written) and
    ChatError (the message is refused) — in each case nothing is stored."""
    trip = asyncio.ensure_future(db_async(_send)(chat_id, user_id, content, client_id, character_id))
    try:
        stored = await asyncio.shield(trip)
    except asyncio.CancelledError:
        # The caller went away (a socket closed); the trip finishes in its thread all the
        # same: free the slot it took, or it would stay taken until it expires.
        trip.add_done_callback(functools.partial(_free_abandoned_slot, chat_id))
        raise
    if stored.generation_id is None:  # a resend after a network blip: its reply was asked for already
        return Sent(stored.message, created=False, turn=None)
    turn = Turn(
        chat_id=chat_id,
        user_id=user_id,
        mode="send",
        generation_id=stored.generation_id,
        requested_character_id=character_id,
        read=stored.read,
    )
    return Sent(stored.message, created=True, turn=turn)


async def turn_trigger(*, chat_id: int, user_id: int, character_id: int | None = None) -> Turn:
    """Group chats: a character (the given one, or whoever is next) speaks now."""
    await _caller(user_id)
    return await _reserve(chat_id, user_id, "send", requested_character_id=character_id)


async def turn_regenerate(*, chat_id: int, user_id: int, message_id: int | None) -> Turn:
    """A new swipe for a reply (the last one when no id is given)."""
    await _caller(user_id)
    return await _reserve(chat_id, user_id, "regenerate", target_message_id=message_id)


async def turn_continue(*, chat_id: int, user_id: int, message_id: int | None) -> Turn:
    """Carry on writing a reply (the last one when no id is given)."""
    await _caller(user_id)
    return await _reserve(chat_id, user_id, "continue", target_message_id=message_id)


async def turn_stop(*, chat_id: int) -> None:
    """Stop the reply being written in the chat, in whichever process writes it."""
    await generation_stop(chat_id)


def turns_running() -> set[asyncio.Task[None]]:
    """The turns running in the background of this process (tests wait for them)."""
    return set(_BACKGROUND)


async def _caller(user_id: int) -> User:
    """The active account taking the turn, its quota counted: once per turn."""
    user = await db_async(_active_user)(user_id)
    await quota_check(user_id=user.pk, tier=user.subscription_tier)
    return user


_ACTIVE_USER = CompiledQuery(
    lambda p: User.objects.only("is_active", "subscription_tier").filter(pk=p.user_id, is_active=True)[:1]
)


def _active_user(user_id: int) -> User:
    user = _ACTIVE_USER.first(user_id=user_id)
    if user is None:
        raise SignedOut
    return user


@dataclass(frozen=True)
class _Stored:
    message: Message
    generation_id: str | None = None  # None: a resend, stored before; no reply asked
    read: ContextRead | None = None


def _send(chat_id: int, user_id: int, content: str, client_id: str, character_id: int | None) -> _Stored:
    """A send's one trip to the database thread: the message stored with the reply's
    slot taken, then the reply's context read ahead, so that the generation starts
    without another trip."""
    stored = _send_store(chat_id, user_id, content, client_id)
    if stored.generation_id is None:
        return stored
    return _Stored(stored.message, stored.generation_id, _read_ahead(chat_id, user_id, character_id))


def _send_store(chat_id: int, user_id: int, content: str, client_id: str) -> _Stored:
    """In the order a send needs: the chat and its owner's standing (active, plan); the
    message stored under `client_id` if this is a resend; the quota; the reply's slot;
    the message."""
    chat = chat_for_message(chat_id=chat_id, user=User(pk=user_id))
    if not chat.owner.is_active:
        raise SignedOut
    if client_id and (resent := _RESENT.first(chat_id=chat.pk, client_id=client_id)) is not None:
        return _Stored(resent)
    quota_check_sync(user_id=user_id, tier=chat.owner.subscription_tier)
    generation_id = generation_reserve_sync(chat_id)
    try:
        message, created = message_append_user(chat=chat, content=content, client_id=client_id)
    except BaseException:
        generation_release_sync(chat_id, generation_id)
        raise
    if not created:  # the same resend, racing this one
        generation_release_sync(chat_id, generation_id)
        return _Stored(message)
    return _Stored(message, generation_id)


def _free_abandoned_slot(chat_id: int, trip: asyncio.Future[_Stored]) -> None:
    if trip.cancelled() or trip.exception() is not None:
        return  # nothing stored, the slot freed in the trip
    generation_id = trip.result().generation_id
    if generation_id is not None:
        task = asyncio.get_running_loop().create_task(generation_release(chat_id, generation_id))
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)


def _read_ahead(chat_id: int, user_id: int, character_id: int | None) -> ContextRead | None:
    """The reply's context, or None when it is not read now: when the turn recalls
    memories (an embedding, which the acknowledgement of the message must not wait
    for), or when reading fails (the message is stored and the slot taken, so the
    generation reads it again and reports what went wrong)."""
    try:
        return ContextRead(
            turn_context_load(
                chat_id=chat_id,
                user_id=user_id,
                mode="send",
                requested_character_id=character_id,
                recall=False,
            )
        )
    except RecallNeeded:  # recalling waits for an embedding: the generation does it, after the ack
        return None
    except Exception:  # see the docstring: logged, and read again by the generation
        logger.warning("reading a turn's context ahead failed; the generation reads it", exc_info=True)
        return None


_RESENT = CompiledQuery(
    lambda p: Message.objects.filter(chat_id=p.chat_id, client_id=p.client_id).order_by("pk")[:1],
    strings=("client_id",),
)


async def _reserve(chat_id: int, user_id: int, mode: str, **targets: int | None) -> Turn:
    generation_id = await generation_reserve(chat_id)
    return Turn(chat_id=chat_id, user_id=user_id, mode=mode, generation_id=generation_id, **targets)
