"""Per-tier rate limits and daily token quotas, counted in Redis.

Limits come from settings.TAVERN_TIER_LIMITS; a limit of 0 means unlimited."""

from __future__ import annotations

import time

from django.conf import settings

from .realtime import redis_client


class QuotaExceeded(Exception):
    def __init__(self, code: str, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


def _limits(tier: str) -> dict[str, int]:
    limits = settings.TAVERN_TIER_LIMITS
    return limits.get(tier) or limits["free"]


async def quota_check(*, user_id: int, tier: str) -> None:
    """Count one generation against the per-minute rate and refuse when over the daily tokens."""
    limits = _limits(tier)
    now = int(time.time())
    minute_key = f"{settings.REDIS_KEY_PREFIX}:rate:{user_id}:{now // 60}"
    day_key = f"{settings.REDIS_KEY_PREFIX}:tokens:{user_id}:{now // 86400}"
    pipe = redis_client().pipeline()
    pipe.incr(minute_key)
    pipe.expire(minute_key, 120)
    pipe.get(day_key)
    count, _, tokens = await pipe.execute()
    per_minute = limits.get("messages_per_minute", 0)
    if per_minute and count > per_minute:
        raise QuotaExceeded(
            "rate_limited",
            f"You can send {per_minute} messages a minute on the {tier} plan. Try again in a few seconds.",
            60 - now % 60,
        )
    per_day = limits.get("tokens_per_day", 0)
    if per_day and int(tokens or 0) >= per_day:
        raise QuotaExceeded(
            "quota_exceeded",
            f"You have used today's {per_day:,} tokens of the {tier} plan. It resets at midnight UTC.",
            86400 - now % 86400,
        )


async def quota_consume(*, user_id: int, tokens: int) -> None:
    if tokens <= 0:
        return
    day_key = f"{settings.REDIS_KEY_PREFIX}:tokens:{user_id}:{int(time.time()) // 86400}"
    pipe = redis_client().pipeline()
    pipe.incrby(day_key, tokens)
    pipe.expire(day_key, 2 * 86400)
    await pipe.execute()
