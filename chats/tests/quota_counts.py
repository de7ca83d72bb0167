"""What the quota has counted, read straight from Redis (for tests of reply accounting)."""

from __future__ import annotations

import redis
from django.conf import settings


def tokens_spent_today(user_id: int) -> int:
    """The tokens counted against the user's daily quota (every day key, summed)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        keys = list(client.scan_iter(f"{settings.REDIS_KEY_PREFIX}:tokens:{user_id}:*"))
        return sum(int(client.get(key) or 0) for key in keys)
    finally:
        client.close()
