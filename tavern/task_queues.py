"""Celery's queues: one per kind of work, so that a flood of one kind (every character
embedded again, a pile of imports) never holds back another (a chat's memory after each
turn). The settings route each task here; `make run`'s worker consumes every queue, and
production runs a worker per queue, each scaled on its own (README, "Past one machine").

A task not named below goes to `default`. A new kind of work (media generation,
pipelines) gets its queue here when its first task lands: a queue nothing is routed to
would only be a worker that waits.

No Django and no Celery imports: the settings read this module.
"""

from __future__ import annotations

from typing import Any

DEFAULT = "default"
CHAT = "chat"  # after a turn: memory passages embedded, the summary refreshed
EMBEDDINGS = "embeddings"  # characters embedded for search by meaning
JOBS = "jobs"  # background jobs with progress: imports of cards, lorebooks, chats

QUEUE_KINDS = (DEFAULT, CHAT, EMBEDDINGS, JOBS)

TASK_QUEUE_KINDS = {
    "chats.chat_memory_update": CHAT,
    "characters.character_embed": EMBEDDINGS,
    "characters.embed_stale": EMBEDDINGS,
    "tavern.job_run": JOBS,
    "tavern.jobs_resend_queued": JOBS,
}


def queue_name(kind: str, *, prefix: str = "") -> str:
    """The broker's name for a kind's queue; a prefix keeps test runs and benches apart
    from a `make run` sharing the same Redis."""
    return f"{prefix}.{kind}" if prefix else kind


def celery_queue_settings(*, prefix: str = "") -> dict[str, Any]:
    """CELERY_TASK_DEFAULT_QUEUE, CELERY_TASK_QUEUES and CELERY_TASK_ROUTES for a prefix."""
    queues = {
        queue_name(kind, prefix=prefix): {
            "exchange": queue_name(kind, prefix=prefix),
            "routing_key": queue_name(kind, prefix=prefix),
        }
        for kind in QUEUE_KINDS
    }
    routes = {task: {"queue": queue_name(kind, prefix=prefix)} for task, kind in TASK_QUEUE_KINDS.items()}
    return {
        "CELERY_TASK_DEFAULT_QUEUE": queue_name(DEFAULT, prefix=prefix),
        "CELERY_TASK_QUEUES": queues,
        "CELERY_TASK_ROUTES": routes,
    }
