"""How many sockets one user may hold open, across every process (L4: 250 were accepted).

Each open socket is a member of a per-user sorted set in Redis, scored by when its
lease ends. A socket that goes away cleanly leaves the set; one whose process died
stops counting when its lease ends. A socket that lives past its lease is no longer
counted, which only makes the cap softer for very long sessions. Without Redis the
cap is not checked (a log line says so)."""

from __future__ import annotations

import time

from django.conf import settings

from tavern.realtime.redis import REDIS_ERRORS, redis_client, redis_outage_log

LEASE_SECONDS = 3600


def _key(user_id: int) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:sockets:{user_id}"


async def socket_admit(*, user_id: int, socket_id: str) -> bool:
    """Count this socket in, unless the user already holds WEBSOCKETS_PER_USER of them."""
    now = time.time()
    pipe = redis_client().pipeline()
    pipe.zremrangebyscore(_key(user_id), "-inf", now)
    pipe.zcard(_key(user_id))
    try:
        _, open_now = await pipe.execute()
        if open_now >= settings.WEBSOCKETS_PER_USER:
            return False
        pipe = redis_client().pipeline()
        pipe.zadd(_key(user_id), {socket_id: now + LEASE_SECONDS})
        pipe.expire(_key(user_id), LEASE_SECONDS)
        await pipe.execute()
    except REDIS_ERRORS as error:
        redis_outage_log("counting a user's sockets", error)
    return True


async def socket_release(*, user_id: int, socket_id: str) -> None:
    try:
        await redis_client().zrem(_key(user_id), socket_id)
    except REDIS_ERRORS as error:
        redis_outage_log("counting a user's sockets", error)
