from __future__ import annotations

from typing import Any

from celery import shared_task

from tavern.realtime.push import user_event_send_now


@shared_task(name="tavern.user_event_deliver", ignore_result=False)
def user_event_deliver(user_id: int, event_type: str, payload: dict[str, Any]) -> str:
    """Push an event to a user's open sockets from a worker (e.g. a job that finished)."""
    user_event_send_now(user_id=user_id, event_type=event_type, payload=payload)
    return event_type
