"""Trending: what people started chats with and favourited in the last day, in Redis.

One sorted set per hour; reading unions the last 24 (cached for a minute)."""

from __future__ import annotations

import time

from django.conf import settings

from tavern.realtime.redis import REDIS_ERRORS, redis_outage_log, redis_sync_client

_WINDOW_HOURS = 24
_KEY = "{prefix}:trending:{hour}"
_UNION_KEY = "{prefix}:trending:union"


def trending_record(*, character_id: int, weight: float = 1.0) -> None:
    """Count a chat or a favourite; without Redis the count is lost, nothing else."""
    hour = int(time.time() // 3600)
    key = _KEY.format(prefix=settings.REDIS_KEY_PREFIX, hour=hour)
    pipe = redis_sync_client().pipeline()
    pipe.zincrby(key, weight, character_id)
    pipe.expire(key, (_WINDOW_HOURS + 1) * 3600)
    try:
        pipe.execute()
    except REDIS_ERRORS as error:
        redis_outage_log("counting trending characters", error)


def trending_ids(limit: int = 200) -> list[int]:
    """The most trending characters; none while Redis is away (the sort falls back)."""
    try:
        return _trending_ids(limit)
    except REDIS_ERRORS as error:
        redis_outage_log("reading trending characters", error)
        return []


def _trending_ids(limit: int) -> list[int]:
    client = redis_sync_client()
    union_key = _UNION_KEY.format(prefix=settings.REDIS_KEY_PREFIX)
    if not client.exists(union_key):
        hour = int(time.time() // 3600)
        keys = [
            _KEY.format(prefix=settings.REDIS_KEY_PREFIX, hour=hour - offset)
            for offset in range(_WINDOW_HOURS)
        ]
        client.zunionstore(union_key, keys)
        client.expire(union_key, 60)
    return [int(member) for member in client.zrevrange(union_key, 0, limit - 1)]
