"""Reads for the OpenAI-compatible API, each limited to the caller's own rows."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from accounts.models import User
from characters.models import Character, Lorebook
from characters.selectors import characters_owned, lorebooks_in_play
from chats.models import Chat, MemoryChunk, ModelConnection
from chats.selectors import connections_for_user, memories_nearest


def model_characters(*, user: User) -> QuerySet[Character]:
    """The caller's characters as `/v1/models` lists them: one query, only what a model entry shows."""
    return characters_owned(user=user).select_related(None).prefetch_related(None).only("slug", "created_at")


def character_latest_chat(*, user: User, character: Character) -> Chat | None:
    """The caller's most recently active chat with the character, its connections fetched."""
    return (
        Chat.objects.filter(owner=user, participants__character=character)
        .select_related("connection")
        .prefetch_related("fallback_connections")
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
        .first()
    )


def connection_first_owned(*, user: User) -> ModelConnection | None:
    """The first of the caller's own connections, in the order the connections page lists them."""
    return connections_for_user(user=user).filter(owner=user).first()


def character_lorebooks(*, user: User, character: Character) -> list[Lorebook]:
    """The character's own book and the caller's global books (chats.lore reads and caches their entries)."""
    return lorebooks_in_play(owner_id=user.pk, book_ids=[character.book_id] if character.book_id else [])


def memories_recall(*, user: User, character: Character, query: str, limit: int) -> list[str]:
    """The caller's memories with the character (from any of their chats) nearest in meaning to `query`.

    A memory is the character's when it was recorded about them, or comes from a
    chat they take part in (a group chat's passage may name someone else first).
    """
    chats = Chat.objects.filter(owner=user, participants__character=character).values("pk")
    return memories_nearest(
        chunks=MemoryChunk.objects.filter(Q(character=character) | Q(chat__in=chats), owner=user),
        query=query,
        limit=limit,
    )
