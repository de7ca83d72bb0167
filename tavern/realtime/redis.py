"""Redis clients for our own keys (live replies, locks, socket counts, trending), and
how code that can live without Redis says so once while it is away."""

from __future__ import annotations

import asyncio
import logging
import time

import redis
import redis.asyncio as aioredis
import redis.exceptions
from django.conf import settings

logger = logging.getLogger(__name__)

# Redis going away: a refused or broken connection, or a command that timed out.
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
_OUTAGE_LOG_EVERY_SECONDS = 10.0
_last_outage_log = 0.0


class RedisUnavailable(Exception):
    """Redis did not answer a command that cannot go without it (taking a chat's reply slot)."""


def redis_outage_log(what: str, error: BaseException) -> None:
    """One warning per few seconds while Redis is down, not one per token."""
    global _last_outage_log
    now = time.monotonic()
    if now - _last_outage_log >= _OUTAGE_LOG_EVERY_SECONDS:
        _last_outage_log = now
        logger.warning(
            "Redis unavailable (%s): %s: %s; going on without it", what, type(error).__name__, error
        )


_CLIENTS: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}


def redis_client() -> aioredis.Redis:
    """A client for the running event loop. Its connections belong to the loop that opened
    them, and a process may run several loops (`async_to_sync` in a sync view or a task
    runs each call in a loop of its own), so one client per loop, dropped with the loop."""
    loop = asyncio.get_running_loop()
    client = _CLIENTS.get(loop)
    if client is None:
        for closed in [other for other in _CLIENTS if other.is_closed()]:
            del _CLIENTS[closed]
        # No socket_timeout (redis-py's default is 5 s): with one, every command is sent
        # through asyncio.wait_for, which on Python 3.11 can swallow the cancellation of a
        # stopped reply. A Redis that goes away fails the call at once instead.
        client = _CLIENTS[loop] = aioredis.Redis.from_url(
            settings.REDIS_URL, max_connections=2000, socket_timeout=None, socket_connect_timeout=5
        )
    return client


_SYNC_CLIENTS: dict[str, redis.Redis] = {}


def redis_sync_client() -> redis.Redis:
    """A client for sync code (views, jobs), one per Redis URL, kept."""
    url = settings.REDIS_URL
    client = _SYNC_CLIENTS.get(url)
    if client is None:
        client = _SYNC_CLIENTS[url] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return client
