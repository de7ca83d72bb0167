"""Reads for chats, each checking ownership: another user's chat looks missing."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from pgvector.django import CosineDistance

from accounts.models import User
from tavern.ai.embeddings import embed_texts
from tavern.compiled_query import CompiledQuery

from .models import Chat, ChatParticipant, MemoryChunk, Message, ModelConnection, Preset, UsageRecord

MESSAGES_PAGE = 50
MEMORY_QUERY_CHARS = 2000  # of the user's words, embedded to recall memories by


def _participants_prefetch() -> Prefetch:
    return Prefetch(
        "participants",
        queryset=ChatParticipant.objects.select_related("character").defer(
            "character__embedding", "character__search_vector"
        ),
    )


def chat_get_for_user(*, chat_id: int, user: User) -> Chat:
    if not user.is_authenticated:
        raise Http404
    chat = (
        Chat.objects.select_related("persona", "connection", "preset", "owner")
        .prefetch_related(_participants_prefetch())
        .filter(pk=chat_id, owner=user)
        .first()
    )
    if chat is None:
        raise Http404
    return chat


_CHAT_FOR_MESSAGE = CompiledQuery(
    lambda p: (
        Chat.objects.select_related("persona", "owner")
        .only(
            "id",
            "archived_at",
            "last_position",
            "persona_id",
            "persona__name",
            "owner_id",
            "owner__display_name",
            "owner__username",
            "owner__is_active",
            "owner__subscription_tier",
        )
        .filter(pk=p.chat_id, owner_id=p.user_id)[:1]
    )
)


def chat_for_message(*, chat_id: int, user: User) -> Chat:
    """The little a new message needs of its chat (whether it is archived, the name the
    user speaks under), in one small query compiled once: storing a message is what a
    user waits for."""
    chat = _CHAT_FOR_MESSAGE.first(chat_id=chat_id, user_id=user.pk)
    if chat is None:
        raise Http404
    return chat


def chat_owned_exists(*, chat_id: int, user_id: int) -> bool:
    return Chat.objects.filter(pk=chat_id, owner_id=user_id).exists()


def chats_for_user(*, user: User, q: str = "", archived: bool = False) -> QuerySet[Chat]:
    queryset = (
        Chat.objects.filter(owner=user, archived_at__isnull=not archived)
        .prefetch_related(_participants_prefetch())
        .order_by("-last_message_at", "-id")
    )
    if q:
        queryset = queryset.filter(
            Q(title__icontains=q)
            | Q(participants__character__name__icontains=q)
            | Q(last_message_preview__icontains=q)
        ).distinct()
    return queryset


def messages_page(
    *, chat: Chat, before: int | None = None, after: int | None = None, limit: int = MESSAGES_PAGE
) -> list[Message]:
    """Messages in position order: the last `limit` before `before`, or those after `after`."""
    queryset = Message.objects.filter(chat=chat)
    if after is not None:
        return list(queryset.filter(position__gt=after).order_by("position")[:limit])
    if before is not None:
        queryset = queryset.filter(position__lt=before)
    page = list(queryset.order_by("-position")[:limit])
    page.reverse()
    return page


def message_get_for_user(*, message_id: int, user: User) -> Message:
    message = (
        Message.objects.select_related("chat", "character").filter(pk=message_id, chat__owner=user).first()
    )
    if message is None:
        raise Http404
    return message


def message_in_chat(*, chat: Chat, message_id: int) -> Message:
    message = Message.objects.select_related("character").filter(pk=message_id, chat=chat).first()
    if message is None:
        raise Http404
    return message


def last_message(*, chat: Chat) -> Message | None:
    return Message.objects.select_related("character").filter(chat=chat).order_by("-position").first()


def connections_for_user(*, user: User) -> QuerySet[ModelConnection]:
    """The user's own connections and the shared ones their tier may use."""
    return ModelConnection.objects.filter(
        Q(owner=user) | Q(is_shared=True, allowed_tiers__contains=[user.subscription_tier])
    ).order_by("is_shared", "name", "id")


def connection_get_usable(*, connection_id: int, user: User) -> ModelConnection:
    connection = connections_for_user(user=user).filter(pk=connection_id).first()
    if connection is None:
        raise Http404
    return connection


def connection_get_owned(*, connection_id: int, user: User) -> ModelConnection:
    connection = ModelConnection.objects.filter(pk=connection_id, owner=user).first()
    if connection is None:
        raise Http404
    return connection


def presets_for_user(*, user: User) -> QuerySet[Preset]:
    return Preset.objects.filter(owner=user).order_by("name", "id")


def preset_get_owned(*, preset_id: int, user: User) -> Preset:
    preset = Preset.objects.filter(pk=preset_id, owner=user).first()
    if preset is None:
        raise Http404
    return preset


def usage_for_user(*, user: User) -> QuerySet[UsageRecord]:
    return UsageRecord.objects.filter(user=user).order_by("-created_at", "-id")


def memories_nearest(*, chunks: QuerySet[MemoryChunk], query: str, limit: int) -> list[str]:
    """The texts of `chunks` nearest in meaning to `query`, nearest first.

    The caller scopes `chunks` to what the reader may recall (a chat turn: the chat's
    and, with cross-chat memory, the owner's with its characters; `/v1`: the caller's
    with the character). No query or no chunk in scope: nothing is embedded."""
    if not query.strip() or limit <= 0 or not chunks.exists():
        return []
    [vector] = embed_texts([query[:MEMORY_QUERY_CHARS]])
    return list(
        chunks.annotate(distance=CosineDistance("embedding", vector))
        .order_by("distance", "pk")
        .values_list("text", flat=True)[:limit]
    )
