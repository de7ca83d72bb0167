"""`ws/chats/<id>/`: the chat page's socket.

Client events: send, stop, regenerate, swipe, continue, edit, delete, hide,
trigger, typing, resume. Server events: ack, message_created, generation_started,
token, done, error, message_updated, message_deleted, chat_updated (its set-up or
participants changed: fetch it again), typing, snapshot. Every socket open on the
chat receives the same events, from any process (`tavern.realtime.bus`); turns
start through `chats.turns`."""

from __future__ import annotations

import time
from typing import Any

from django.http import Http404

from tavern.realtime.bus import Subscriber, bus
from tavern.realtime.consumers import CLOSE_NOT_FOUND, CLOSE_TRY_AGAIN_LATER, TavernSocket
from tavern.realtime.push import CLOSE_SIGNED_OUT

from . import realtime
from .generation import GenerationRefused
from .payloads import message_payload
from .quota import QuotaExceeded
from .realtime import db_async
from .selectors import chat_owned_exists, message_in_chat, messages_page
from .services import (
    ChatError,
    message_delete,
    message_edit,
    message_set_hidden,
    message_swipe_select,
)
from .turns import SignedOut, Turn, turn_continue, turn_regenerate, turn_send, turn_stop, turn_trigger

RESUME_LIMIT = 200
TYPING_EVERY_SECONDS = 2.0  # typing events a socket may publish, at most one per this


class ChatConsumer(TavernSocket):
    chat_id: int
    subscriber: Subscriber
    joined_chat = False
    opened = False
    held: list[str] | None = None
    last_typing = 0.0

    async def connect(self) -> None:
        self.chat_id = int(self.scope["url_route"]["kwargs"]["chat_id"])
        if not await self.admit():
            return
        if not await db_async(chat_owned_exists)(chat_id=self.chat_id, user_id=self.user_id):
            await self.close(code=CLOSE_NOT_FOUND)  # another user's chat looks missing
            return
        # Listening before the socket opens: once the client sees it open, nothing
        # published from then on, in any process, passes it by.
        self.subscriber = Subscriber(deliver=self._deliver, on_gap=self._on_gap)
        await bus().join(realtime.chat_topic(self.chat_id), self.subscriber)
        self.joined_chat = True
        await self.accept()
        self.opened = True

    async def disconnect(self, code: int) -> None:
        self.opened = False
        if self.joined_chat:
            self.joined_chat = False
            await bus().leave(realtime.chat_topic(self.chat_id), self.subscriber)
        await super().disconnect(code)

    # ------------------------------------------------------------ dispatch

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        handler = getattr(self, f"on_{content['type']}", None)
        if handler is None:
            await self.send_error("unknown_event", f"Unknown event type {content['type']!r}.")
            return
        # Events that arrive while the frame is handled go out after its answer (the
        # `ack` before the `message_created` it caused), as a channel layer would queue them.
        self.held = []
        try:
            await self._handle(handler, content)
        finally:
            held, self.held = self.held, None
            for frame in held:
                await self._deliver(frame)

    async def _handle(self, handler: Any, content: dict[str, Any]) -> None:
        try:
            await handler(content)
        except ChatError as error:
            await self.send_error(error.code, error.message, field=error.field)
        except GenerationRefused as error:
            await self.send_error(error.code, error.message)
        except QuotaExceeded as error:
            await self.send_error(error.code, error.message, retry_after=error.retry_after)
        except _NotFound:
            await self.send_error("not_found", "That message does not exist in this chat.")
        except SignedOut:
            await self.close(code=CLOSE_SIGNED_OUT)
        except Http404:  # the chat itself was deleted while the socket was open
            await self.close(code=CLOSE_NOT_FOUND)

    async def _deliver(self, frame: str) -> None:
        if self.held is not None:
            self.held.append(frame)
        elif self.opened and not self.closing:
            # Before it opens, the client is not there yet (it catches up with `resume`);
            # once the server closed it, nothing more goes out.
            await self.send(text_data=frame)

    async def _on_gap(self) -> None:
        """The live events of other processes may have been missed (Redis went away): the
        client reconnects and catches up with `resume`, as after any drop."""
        await self.close(code=CLOSE_TRY_AGAIN_LATER)

    # ------------------------------------------------------------ events

    async def on_send(self, content: dict[str, Any]) -> None:
        text = content.get("content")
        if not isinstance(text, str):
            raise ChatError("'content' must be text.", field="content")
        client_id = str(content.get("client_id") or "")[:64]
        sent = await turn_send(
            chat_id=self.chat_id,
            user_id=self.user_id,
            content=text,
            client_id=client_id,
            character_id=_int_or_none(content.get("character_id")),
        )
        await self.send_json(
            {
                "type": "ack",
                "client_id": client_id,
                "message": message_payload(sent.message),
                "created": sent.created,
            }
        )
        if sent.turn is not None:
            self._start(sent.turn)

    async def on_regenerate(self, content: dict[str, Any]) -> None:
        message_id = _int_or_none(content.get("message_id"))
        self._start(await turn_regenerate(chat_id=self.chat_id, user_id=self.user_id, message_id=message_id))

    async def on_continue(self, content: dict[str, Any]) -> None:
        message_id = _int_or_none(content.get("message_id"))
        self._start(await turn_continue(chat_id=self.chat_id, user_id=self.user_id, message_id=message_id))

    async def on_trigger(self, content: dict[str, Any]) -> None:
        """Group chats: ask a given character (or the next one) to speak now."""
        character_id = _int_or_none(content.get("character_id"))
        self._start(await turn_trigger(chat_id=self.chat_id, user_id=self.user_id, character_id=character_id))

    async def on_swipe(self, content: dict[str, Any]) -> None:
        """Show another swipe; swiping past the last one writes a new one (as SillyTavern)."""
        message = await self._message(content)
        index = content.get("index")
        if index is None:
            direction = content.get("direction", "right")
            index = message.swipe_index + (1 if direction == "right" else -1)
        if not isinstance(index, int) or index < 0:
            raise ChatError("'index' must be a swipe number from 0.", field="index")
        if index >= message.swipe_count:
            self._start(
                await turn_regenerate(chat_id=self.chat_id, user_id=self.user_id, message_id=message.pk)
            )
            return
        await db_async(message_swipe_select)(message=message, index=index)

    async def on_edit(self, content: dict[str, Any]) -> None:
        message = await self._message(content)
        text = content.get("content")
        if not isinstance(text, str):
            raise ChatError("'content' must be text.", field="content")
        await db_async(message_edit)(message=message, content=text)

    async def on_hide(self, content: dict[str, Any]) -> None:
        message = await self._message(content)
        await db_async(message_set_hidden)(message=message, hidden=bool(content.get("hidden", True)))

    async def on_delete(self, content: dict[str, Any]) -> None:
        message = await self._message(content)
        await db_async(message_delete)(message=message)

    async def on_stop(self, content: dict[str, Any]) -> None:
        await turn_stop(chat_id=self.chat_id)

    async def on_typing(self, content: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self.last_typing < TYPING_EVERY_SECONDS:
            return  # the other sockets already show "typing…"; more says nothing new
        self.last_typing = now
        await realtime.chat_publish(self.chat_id, {"type": "typing", "user_id": self.user_id})

    async def on_resume(self, content: dict[str, Any]) -> None:
        """A reconnecting socket: the messages after the last one it has, and the reply in progress."""
        after = _int_or_none(content.get("last_position"))
        messages = await db_async(_messages_after)(self.chat_id, after)
        live = await realtime.live_get(self.chat_id)
        await self.send_json(
            {"type": "snapshot", "messages": [message_payload(m) for m in messages], "live": live}
        )

    # ------------------------------------------------------------ helpers

    async def _message(self, content: dict[str, Any]):  # type: ignore[no-untyped-def]
        message_id = _int_or_none(content.get("message_id"))
        if message_id is None:
            raise ChatError("'message_id' is required.", field="message_id")
        return await db_async(_message_of_chat)(self.chat_id, message_id)

    def _start(self, turn: Turn) -> None:
        # The turn holds the reply's slot already: a `stop` in the next frame finds it.
        # The reply runs on in the background; it may outlive this socket.
        turn.start()


class _NotFound(Exception):
    pass


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _message_of_chat(chat_id: int, message_id: int):  # type: ignore[no-untyped-def]
    from django.http import Http404

    from .models import Chat

    try:
        return message_in_chat(chat=Chat(pk=chat_id), message_id=message_id)
    except Http404:
        raise _NotFound from None


def _messages_after(chat_id: int, after: int | None):  # type: ignore[no-untyped-def]
    from .models import Chat

    chat = Chat(pk=chat_id)
    if after is None:
        return messages_page(chat=chat, limit=RESUME_LIMIT)
    return messages_page(chat=chat, after=after, limit=RESUME_LIMIT)
