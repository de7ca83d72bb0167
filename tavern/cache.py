"""The default cache: Django's Redis cache, failing open (M5).

A cache holds nothing that cannot be recomputed, and what leans on it here (sign-up
rate limits, cached pages and values) is worth less than the request: with Redis
away a read is a miss and a write is skipped, with one log line every few seconds,
instead of a 500 on every page and API call. /readyz still reports Redis as down.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

from tavern.realtime.redis import REDIS_ERRORS, redis_outage_log


class FailOpenRedisCache(RedisCache):
    def _outage(self, operation: str, error: BaseException) -> None:
        redis_outage_log(f"cache {operation} skipped", error)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None, **kwargs: Any
    ) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except REDIS_ERRORS as error:
            self._outage("add", error)
            return False

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        try:
            return super().get(key, default, version)
        except REDIS_ERRORS as error:
            self._outage("get", error)
            return default

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None, **kwargs: Any
    ) -> None:
        try:
            super().set(key, value, timeout, version)
        except REDIS_ERRORS as error:
            self._outage("set", error)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except REDIS_ERRORS as error:
            self._outage("touch", error)
            return False

    def delete(self, key: Any, version: Any = None) -> bool:
        try:
            return super().delete(key, version)
        except REDIS_ERRORS as error:
            self._outage("delete", error)
            return False

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except REDIS_ERRORS as error:
            self._outage("get_many", error)
            return {}

    def has_key(self, key: Any, version: Any = None) -> bool:
        try:
            return super().has_key(key, version)
        except REDIS_ERRORS as error:
            self._outage("has_key", error)
            return False

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        try:
            return super().incr(key, delta, version)
        except REDIS_ERRORS as error:
            self._outage("incr", error)
            raise ValueError(f"Key '{key}' not found (the cache is unavailable)") from error

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except REDIS_ERRORS as error:
            self._outage("set_many", error)
            return list(data)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        try:
            super().delete_many(keys, version)
        except REDIS_ERRORS as error:
            self._outage("delete_many", error)
