"""A chat turn, whichever way it starts: the chat socket, the REST API (blocking or
streamed), and next the voice call, practice sessions and pipelines. Each entry
point makes one call here.

A turn is: the caller's quota, counted once → the user's message stored (the
service publishes `message_created` on commit) → the chat's one reply slot taken →
the reply generated, streamed and stored (`chats.generation`). The functions return
a `Turn` that already holds the slot, so a stop that follows always finds the reply
it means, whatever the entry point; the caller then runs it (`run`, awaiting the
outcome) or starts it in the background (`start`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied

from accounts.models import User
from tavern.compiled_query import CompiledQuery

from .generation import (
    EventSink,
    GenerationOutcome,
    GenerationRefused,
    generation_release,
    generation_reserve,
    generation_run,
    generation_stop,
)
from .models import Chat, Message
from .quota import quota_check
from .realtime import chat_publish, db_async
from .selectors import chat_for_message
from .services import message_append_user

_BACKGROUND: set[asyncio.Task[None]] = set()


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
    chat, resent = await db_async(_send_context)(chat_id, user_id, client_id)
    if resent is not None:  # a resend after a network blip: its reply was asked for already
        return Sent(resent, created=False, turn=None)
    await quota_check(user_id=user_id, tier=chat.owner.subscription_tier)
    turn = await _reserve(chat_id, user_id, "send", requested_character_id=character_id)
    try:
        message, created = await db_async(message_append_user)(
            chat=chat, content=content, client_id=client_id
        )
    except BaseException:
        await turn.release()
        raise
    if not created:  # the same resend, racing this one
        await turn.release()
        return Sent(message, created=False, turn=None)
    return Sent(message, created=True, turn=turn)


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


def _send_context(chat_id: int, user_id: int, client_id: str) -> tuple[Chat, Message | None]:
    """The chat a message goes to, with its owner's standing (active, plan), and the
    message already stored under `client_id` if this is a resend: two small queries."""
    chat = chat_for_message(chat_id=chat_id, user=User(pk=user_id))
    if not chat.owner.is_active:
        raise SignedOut
    if not client_id:
        return chat, None
    return chat, _RESENT.first(chat_id=chat.pk, client_id=client_id)


_RESENT = CompiledQuery(
    lambda p: Message.objects.filter(chat_id=p.chat_id, client_id=p.client_id).order_by("pk")[:1],
    strings=("client_id",),
)


async def _reserve(chat_id: int, user_id: int, mode: str, **targets: int | None) -> Turn:
    generation_id = await generation_reserve(chat_id)
    return Turn(chat_id=chat_id, user_id=user_id, mode=mode, generation_id=generation_id, **targets)
