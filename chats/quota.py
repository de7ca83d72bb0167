"""Per-tier rate limits and daily token quotas, counted in Redis.

Limits come from settings.TAVERN_TIER_LIMITS; a limit of 0 means unlimited. Messages
a minute are a moving window (tavern.ratelimits); tokens a day reset at midnight UTC.
Without Redis both fail open, with a log line."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

from tavern.ratelimits import RateDecision, rate_limit_hit, rate_limit_hit_async
from tavern.realtime.redis import REDIS_ERRORS, redis_client, redis_outage_log, redis_sync_client


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
    limits, now = _limits(tier), int(time.time())
    if per_minute := limits.get("messages_per_minute", 0):
        decision = await rate_limit_hit_async(scope="messages", key=str(user_id), rate=f"{per_minute}/min")
        _refuse_over_rate(decision, per_minute=per_minute, tier=tier)
    if not (per_day := limits.get("tokens_per_day", 0)):
        return
    try:
        tokens = await redis_client().get(_day_key(user_id, now))
    except REDIS_ERRORS as error:
        redis_outage_log("checking the daily token quota", error)
        return
    _refuse_over_tokens(tokens, per_day=per_day, tier=tier, now=now)


def quota_check_sync(*, user_id: int, tier: str) -> None:
    """`quota_check` for sync code: a send counts its quota in its one trip to the
    database thread (the socket would otherwise wait for another thread hop)."""
    limits, now = _limits(tier), int(time.time())
    if per_minute := limits.get("messages_per_minute", 0):
        decision = rate_limit_hit(scope="messages", key=str(user_id), rate=f"{per_minute}/min")
        _refuse_over_rate(decision, per_minute=per_minute, tier=tier)
    if not (per_day := limits.get("tokens_per_day", 0)):
        return
    try:
        tokens = redis_sync_client().get(_day_key(user_id, now))
    except REDIS_ERRORS as error:
        redis_outage_log("checking the daily token quota", error)
        return
    _refuse_over_tokens(tokens, per_day=per_day, tier=tier, now=now)


def _refuse_over_rate(decision: RateDecision, *, per_minute: int, tier: str) -> None:
    if not decision.allowed:
        raise QuotaExceeded(
            "rate_limited",
            f"You can send {per_minute} messages a minute on the {tier} plan. Try again in a few seconds.",
            decision.retry_after,
        )


def _refuse_over_tokens(tokens: Any, *, per_day: int, tier: str, now: int) -> None:
    if int(tokens or 0) >= per_day:
        raise QuotaExceeded(
            "quota_exceeded",
            f"You have used today's {per_day:,} tokens of the {tier} plan. It resets at midnight UTC.",
            86400 - now % 86400,
        )


def _day_key(user_id: int, now: int) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:tokens:{user_id}:{now // 86400}"


async def quota_consume(*, user_id: int, tokens: int) -> None:
    if tokens <= 0:
        return
    pipe = redis_client().pipeline()
    day_key = _day_key(user_id, int(time.time()))
    pipe.incrby(day_key, tokens)
    pipe.expire(day_key, 2 * 86400)
    try:
        await pipe.execute()
    except REDIS_ERRORS as error:
        redis_outage_log("counting the tokens of a reply", error)
