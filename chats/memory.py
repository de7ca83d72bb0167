"""Long-term memory: passages of a chat embedded for recall, and a running
summary of what has left the prompt window."""

from __future__ import annotations

from django.db import transaction

from tavern.ai.embeddings import embed_texts
from tavern.ai.tokenizer import count_tokens

from .models import Author, Chat, MemoryChunk, Message

CHUNK_MESSAGES = 4  # a user line and replies around it read as one memory
CHUNK_MAX_CHARS = 2000
SUMMARY_TRIGGER_TOKENS = 0.75  # of the context: summarise when history passes this


def memory_embed_new(*, chat_id: int) -> int:
    """Embed complete chunks of messages not embedded yet; returns how many were added."""
    chat = Chat.objects.filter(pk=chat_id).first()
    if chat is None:
        return 0
    last_end = (
        MemoryChunk.objects.filter(chat=chat)
        .order_by("-position_end")
        .values_list("position_end", flat=True)
        .first()
        or 0
    )
    messages = list(
        Message.objects.filter(chat=chat, position__gt=last_end, is_hidden=False)
        .exclude(author=Author.SYSTEM)
        .order_by("position")
        .values("position", "name", "content", "character_id")
    )
    chunks = [messages[i : i + CHUNK_MESSAGES] for i in range(0, len(messages), CHUNK_MESSAGES)]
    chunks = [chunk for chunk in chunks if len(chunk) == CHUNK_MESSAGES]  # the open end waits for more
    if not chunks:
        return 0
    texts = ["\n".join(f"{m['name']}: {m['content']}" for m in chunk)[:CHUNK_MAX_CHARS] for chunk in chunks]
    vectors = embed_texts(texts)
    rows = [
        MemoryChunk(
            owner_id=chat.owner_id,
            chat=chat,
            character_id=next((m["character_id"] for m in chunk if m["character_id"]), None),
            position_start=chunk[0]["position"],
            position_end=chunk[-1]["position"],
            text=text,
            embedding=vector,
        )
        for chunk, text, vector in zip(chunks, texts, vectors, strict=True)
    ]
    with transaction.atomic():
        MemoryChunk.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def summary_needed(*, chat: Chat, context_size: int) -> bool:
    total = sum(
        Message.objects.filter(chat=chat, position__gt=chat.summary_until, is_hidden=False).values_list(
            "token_count", flat=True
        )
    )
    return total > context_size * SUMMARY_TRIGGER_TOKENS


def summary_source(*, chat: Chat, keep_recent_tokens: int) -> tuple[str, int]:
    """The text to fold into the summary (older than the recent window) and where it ends."""
    messages = list(
        Message.objects.filter(chat=chat, position__gt=chat.summary_until, is_hidden=False)
        .order_by("-position")
        .values("position", "name", "content", "token_count")
    )
    used, cut = 0, None
    for message in messages:
        used += message["token_count"]
        if used > keep_recent_tokens:
            cut = message["position"]
            break
    if cut is None:
        return "", chat.summary_until
    older = [m for m in reversed(messages) if m["position"] <= cut]
    return "\n".join(f"{m['name']}: {m['content']}" for m in older), cut


def summary_store(*, chat_id: int, summary: str, until: int) -> None:
    Chat.objects.filter(pk=chat_id, summary_until__lt=until).update(summary=summary, summary_until=until)


def summary_offline(previous: str, source: str, *, max_tokens: int = 400) -> str:
    """Without a model: keep the previous summary and the first line of each new exchange."""
    lines = [line for line in source.splitlines() if line.strip()]
    picked = [line[:200] for line in lines[:: max(1, len(lines) // 12)]]
    text = (previous + "\n" + "\n".join(picked)).strip()
    while count_tokens(text) > max_tokens and "\n" in text:
        text = text.split("\n", 1)[1]
    return text
