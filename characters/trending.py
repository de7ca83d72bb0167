"""Trending: what people started chats with and favourited in the last day, in Redis.

One sorted set per hour; reading unions the last 24 (cached for a minute)."""

from __future__ import annotations

import time
from functools import cache

import redis
from django.conf import settings

_WINDOW_HOURS = 24
_KEY = "{prefix}:trending:{hour}"
_UNION_KEY = "{prefix}:trending:union"


@cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def trending_record(*, character_id: int, weight: float = 1.0) -> None:
    hour = int(time.time() // 3600)
    key = _KEY.format(prefix=settings.REDIS_KEY_PREFIX, hour=hour)
    pipe = _client().pipeline()
    pipe.zincrby(key, weight, character_id)
    pipe.expire(key, (_WINDOW_HOURS + 1) * 3600)
    pipe.execute()


def trending_ids(limit: int = 200) -> list[int]:
    client = _client()
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
