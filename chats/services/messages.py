"""Writes for messages and swipes: the user's message, replies, regenerated swipes,
continue, edit, hide, delete."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from characters.models import Character
from tavern.ai.tokenizer import count_tokens

from ..limits import message_text_refusal
from ..models import Author, Chat, Message, Swipe
from ..payloads import message_payload
from ..realtime import chat_publish_on_commit
from .errors import ChatError
from .usage import GenerationRecord, usage_record


def _sentence(reason: str) -> str:
    return reason[:1].upper() + reason[1:] + "."


def _persona_name(chat: Chat) -> str:
    return chat.persona.name if chat.persona_id else (chat.owner.display_name or chat.owner.username)


def _message_insert(
    chat: Chat,
    *,
    author: str,
    name: str,
    content: str,
    character: Character | None = None,
    client_id: str = "",
    is_partial: bool = False,
    extra: dict[str, Any] | None = None,
) -> Message:
    """Append at the end, in the caller's transaction: one statement takes the next
    position and the chat's row lock (so appends to one chat queue up), one insert."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Chat._meta.db_table} SET last_position = last_position + 1, "  # noqa: S608 - our table name
            "message_count = message_count + 1, last_message_at = %s, last_message_preview = %s, "
            "updated_at = %s WHERE id = %s RETURNING last_position",
            [now, content[:200], now, chat.pk],
        )
        (position,) = cursor.fetchone()
    message = Message.objects.create(
        chat=chat,
        position=position,
        author=author,
        character=character,
        name=name,
        content=content,
        token_count=count_tokens(content),
        client_id=client_id,
        is_partial=is_partial,
        extra=extra or {},
    )
    chat.last_position = position
    return message


def message_append_user(*, chat: Chat, content: str, client_id: str = "") -> tuple[Message, bool]:
    """Store the user's message at once. Returns (message, created); a repeated
    `client_id` (a resend after a network blip) returns the stored one."""
    content = content.strip()
    if not content:
        raise ChatError("The message is empty.", field="content")
    if reason := message_text_refusal(content):
        raise ChatError(_sentence(reason), field="content")
    if chat.archived_at is not None:
        raise ChatError("This chat is archived; unarchive it to continue.", code="chat_archived")
    try:
        with transaction.atomic():  # a repeated client_id breaks the unique constraint: caught below
            message = _message_insert(
                chat, author=Author.USER, name=_persona_name(chat), content=content, client_id=client_id
            )
            Swipe.objects.create(message=message, index=0, content=content, token_count=message.token_count)
            chat_publish_on_commit(chat.pk, {"type": "message_created", "message": message_payload(message)})
    except IntegrityError:
        existing = Message.objects.filter(chat=chat, client_id=client_id).first()
        if existing is None:
            raise
        return existing, False
    return message, True


def _swipe_fields(generation: GenerationRecord) -> dict[str, Any]:
    return {
        "connection_label": generation.connection_label[:100],
        "model": generation.model[:200],
        "latency_ms": generation.latency_ms,
        "first_token_ms": generation.first_token_ms,
        "tokens_in": generation.tokens_in,
        "tokens_out": generation.tokens_out,
        "finish_reason": generation.finish_reason[:32],
        "is_partial": generation.is_partial,
        "error": generation.error[:500],
    }


@transaction.atomic
def message_append_reply(
    *, chat: Chat, character: Character | None, content: str, generation: GenerationRecord
) -> Message:
    name = character.name if character else "Narrator"
    message = _message_insert(
        chat,
        author=Author.CHARACTER if character else Author.NARRATOR,
        character=character,
        name=name,
        content=content,
        is_partial=generation.is_partial,
    )
    Swipe.objects.create(
        message=message,
        index=0,
        content=content,
        token_count=message.token_count,
        **_swipe_fields(generation),
    )
    usage_record(user=chat.owner, chat=chat, generation=generation)
    return message


@transaction.atomic
def message_add_swipe(*, message: Message, content: str, generation: GenerationRecord) -> Message:
    """A regenerated reply: a new swipe, made the active one."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    index = message.swipe_count
    tokens = count_tokens(content)
    Swipe.objects.create(
        message=message, index=index, content=content, token_count=tokens, **_swipe_fields(generation)
    )
    message.content, message.token_count = content, tokens
    message.swipe_index, message.swipe_count = index, index + 1
    message.is_partial = generation.is_partial
    message.save(update_fields=["content", "token_count", "swipe_index", "swipe_count", "is_partial"])
    usage_record(user=message.chat.owner, chat=message.chat, generation=generation)
    return message


@transaction.atomic
def message_swipe_select(*, message: Message, index: int) -> Message:
    message = Message.objects.select_for_update().get(pk=message.pk)
    swipe = Swipe.objects.filter(message=message, index=index).first()
    if swipe is None:
        raise ChatError(f"There is no swipe {index + 1} of this message.", field="index")
    message.content, message.token_count, message.swipe_index = swipe.content, swipe.token_count, index
    message.is_partial = swipe.is_partial
    message.save(update_fields=["content", "token_count", "swipe_index", "is_partial"])
    _message_updated(message)
    return message


@transaction.atomic
def message_continue(*, message: Message, addition: str, generation: GenerationRecord) -> Message:
    """Append generated text to the active swipe (SillyTavern's "continue")."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    content = message.content + addition
    tokens = count_tokens(content)
    Swipe.objects.filter(message=message, index=message.swipe_index).update(
        content=content, token_count=tokens, is_partial=generation.is_partial
    )
    message.content, message.token_count, message.is_partial = content, tokens, generation.is_partial
    message.save(update_fields=["content", "token_count", "is_partial"])
    usage_record(user=message.chat.owner, chat=message.chat, generation=generation)
    return message


@transaction.atomic
def message_edit(*, message: Message, content: str) -> Message:
    if reason := message_text_refusal(content):
        raise ChatError(_sentence(reason), field="content")
    tokens = count_tokens(content)
    Swipe.objects.filter(message=message, index=message.swipe_index).update(
        content=content, token_count=tokens
    )
    message.content, message.token_count, message.edited_at = content, tokens, timezone.now()
    message.save(update_fields=["content", "token_count", "edited_at"])
    _message_updated(message)
    return message


@transaction.atomic
def message_set_hidden(*, message: Message, hidden: bool) -> Message:
    message.is_hidden = hidden
    message.save(update_fields=["is_hidden"])
    _message_updated(message)
    return message


def _message_updated(message: Message) -> None:
    chat_publish_on_commit(message.chat_id, {"type": "message_updated", "message": message_payload(message)})


@transaction.atomic
def message_delete(*, message: Message) -> None:
    chat_id, message_id = message.chat_id, message.pk
    message.delete()
    chat_publish_on_commit(chat_id, {"type": "message_deleted", "message_id": message_id})
    last = Message.objects.filter(chat_id=chat_id).order_by("-position").first()
    Chat.objects.filter(pk=chat_id).update(
        message_count=F("message_count") - 1,
        last_message_preview=last.content[:200] if last else "",
        last_message_at=last.created_at if last else None,
    )
