"""Rate limits as moving windows in Redis (the `limits` library), for every limit we keep:
API throttles, messages a minute, socket events.

A moving window counts the hits of the last N seconds at any moment, so a burst at
the edge of a clock minute cannot pass twice the limit (a fixed window let 40 through
against 20/min). When Redis is away the limit fails open with a log line: a rate
limit is worth less than the service it guards.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import dataclass
from functools import cache

import limits
import limits.errors
import redis.exceptions
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from tavern.realtime.redis import redis_outage_log

_STORAGE_ERRORS = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
    limits.errors.StorageError,
)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int = 0  # seconds until one more hit would be allowed


def _storage_uri(redis_url: str) -> str:
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


@receiver(setting_changed)
def _forget_limiter(setting: str, **kwargs: object) -> None:
    if setting in ("REDIS_URL", "REDIS_KEY_PREFIX"):
        _limiter.cache_clear()


@cache
def _limiter() -> MovingWindowRateLimiter:
    storage = RedisStorage(
        _storage_uri(settings.REDIS_URL),
        key_prefix=f"{settings.REDIS_KEY_PREFIX}:limits",
        socket_connect_timeout=2,
        socket_timeout=2,
    )
    return MovingWindowRateLimiter(storage)


_PERIODS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}


_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*", re.IGNORECASE)


@cache
def rate_parse(rate: str) -> limits.RateLimitItem:
    """DRF's spelling ('20/min', '600/m', '100/hour', '5/s'), and a number of periods
    ('30/15m': 30 in any 15 minutes), as the settings write rates."""
    found = _RATE.fullmatch(rate)
    if found is None:
        raise ValueError(f"a rate looks like '20/min', '100/hour' or '30/15m', not {rate!r}")
    amount, multiple, unit = found.groups()
    return limits.parse(f"{int(amount)} per {int(multiple or 1)} {_PERIODS[unit.lower()]}")


def _decide(scope: str, key: str, rate: str, *, count: bool) -> RateDecision:
    item = rate_parse(rate)
    limiter = _limiter()
    try:
        allowed = limiter.hit(item, scope, key) if count else limiter.test(item, scope, key)
        if allowed:
            return RateDecision(allowed=True)
        reset_at, _remaining = limiter.get_window_stats(item, scope, key)
    except _STORAGE_ERRORS as error:
        redis_outage_log(f"checking the rate limit {scope!r}; allowing", error)
        return RateDecision(allowed=True)
    return RateDecision(allowed=False, retry_after=max(1, math.ceil(reset_at - time.time())))


def rate_limit_hit(*, scope: str, key: str, rate: str) -> RateDecision:
    """Count one hit of `key` against `rate` in `scope`; refused hits are not counted."""
    return _decide(scope, key, rate, count=True)


async def rate_limit_hit_async(*, scope: str, key: str, rate: str) -> RateDecision:
    """`rate_limit_hit` from async code (a socket), off the event loop."""
    return await asyncio.to_thread(rate_limit_hit, scope=scope, key=key, rate=rate)


def rate_limit_exceeded(*, scope: str, key: str, rate: str) -> RateDecision:
    """Whether one more hit would be refused, without counting one."""
    return _decide(scope, key, rate, count=False)


def rate_limit_reset(*, scope: str, key: str, rate: str) -> None:
    try:
        _limiter().clear(rate_parse(rate), scope, key)
    except _STORAGE_ERRORS as error:
        redis_outage_log(f"resetting the rate limit {scope!r}", error)
