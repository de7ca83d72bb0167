from __future__ import annotations

import asyncio

from celery import shared_task
from django.conf import settings

from tavern.realtime.redis import REDIS_ERRORS, redis_outage_log, redis_sync_client

from .memory import memory_embed_new, summary_needed, summary_offline, summary_source, summary_store
from .models import Chat
from .reply_inputs import chat_connections, reply_budget

MEMORY_PENDING_SECONDS = 300  # a lost task (a broker outage) holds the next one back at most this long

SUMMARY_PROMPT = (
    "Summarise the story so far in at most 250 words, in the past tense, keeping names, places, "
    "promises and unresolved threads. Previous summary:\n{previous}\n\nNew events:\n{source}"
)


def chat_memory_update_soon(chat_id: int) -> None:
    """After a turn: one memory update per chat waits in the queue at a time, so a busy
    chat (or a worker that fell behind) queues one job, not one per turn. The job itself
    takes everything new when it runs. Without Redis it is queued anyway."""
    try:
        if not redis_sync_client().set(_pending_key(chat_id), "1", nx=True, ex=MEMORY_PENDING_SECONDS):
            return  # one is waiting already; it will see this turn too
    except REDIS_ERRORS as error:
        redis_outage_log("keeping one memory update per chat in the queue", error)
    chat_memory_update.delay(chat_id)


def _pending_key(chat_id: int) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:chat:{chat_id}:memory-pending"


# Idempotent (passages already embedded are skipped): taken back when its worker dies.
@shared_task(name="chats.chat_memory_update", acks_late=True, reject_on_worker_lost=True)
def chat_memory_update(chat_id: int) -> dict[str, int | bool]:
    """After a turn: embed new passages; refresh the summary when history outgrows the budget."""
    try:
        # Cleared before reading: a turn stored from now on queues the next update.
        redis_sync_client().delete(_pending_key(chat_id))
    except REDIS_ERRORS as error:
        redis_outage_log("clearing a chat's pending memory update", error)
    added = memory_embed_new(chat_id=chat_id)
    summarised = chat_summary_refresh(chat_id)
    return {"memories_added": added, "summarised": summarised}


def chat_summary_refresh(chat_id: int) -> bool:
    chat = (
        Chat.objects.prefetch_related("fallback_connections")
        .select_related("connection")
        .filter(pk=chat_id)
        .first()
    )
    if chat is None:
        return False
    connections = chat_connections(chat)
    context_size = reply_budget(connections).context_size
    if not summary_needed(chat=chat, context_size=context_size):
        return False
    source, until = summary_source(chat=chat, keep_recent_tokens=context_size // 2)
    if not source:
        return False
    if connections:
        from tavern.ai.chat import GenerationParams, complete_chat

        prompt = [
            {
                "role": "user",
                "content": SUMMARY_PROMPT.format(previous=chat.summary or "(none)", source=source[-24000:]),
            }
        ]
        result = asyncio.run(
            complete_chat(connections[0], prompt, GenerationParams(max_tokens=400, temperature=0.3))
        )
        summary = result.text.strip()
    else:
        summary = summary_offline(chat.summary, source)
    summary_store(chat_id=chat_id, summary=summary, until=until)
    return True
