"""Tavern's own Prometheus metrics, and the exposition `/metrics` serves.

django-prometheus counts requests, responses and latencies by view (its middleware);
this module adds what only we know: chat streams, the tokens they carry and how long
those take, why generations fail, and how much work waits in each Celery queue.

Every label has a small, fixed set of values: a failure's kind (`FailureKind` and a
few of ours) and whether the offline demo answered. Never a user, a chat, a model or
a URL, which users choose and which would grow a series per value.

One process, one set of numbers, unless PROMETHEUS_MULTIPROC_DIR is set (prometheus
client's multiprocess mode): then every process writes its numbers to files there and
any process's `/metrics` adds them up (README, "Metrics").
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import redis
from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tavern.ai.chat import AllProvidersFailed, ProviderStreamBroken
from tavern.task_queues import QUEUE_KINDS

logger = logging.getLogger(__name__)

OFFLINE, CONNECTION = "offline", "connection"
# Kombu's Redis transport keeps a queue's prioritised messages in lists beside the queue's own.
_KOMBU_PRIORITY_SEPARATOR = "\x06\x16"
_KOMBU_PRIORITY_STEPS = (3, 6, 9)
_REDIS_TIMEOUT_SECONDS = 1.0

# Seconds: a first token takes from a tenth of a second (a local model) to half a minute
# (a cold, overloaded provider); a batch waits TOKEN_BATCH_SECONDS plus a Redis round trip.
_FIRST_TOKEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
_PUBLISH_DELAY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

STREAMS_ACTIVE = Gauge(
    "tavern_chat_streams_active",
    "Replies being generated and streamed now.",
    multiprocess_mode="livesum",
)
GENERATIONS = Counter(
    "tavern_chat_generations",
    "Generations started, by who answers: the offline demo or a model connection.",
    ["provider"],
)
TOKENS_STREAMED = Counter(
    "tavern_chat_tokens_streamed",
    "Token deltas from the provider published to the chat's sockets.",
    ["provider"],
)
FIRST_TOKEN_SECONDS = Histogram(
    "tavern_chat_first_token_seconds",
    "From a generation's start (prompt built, provider stream opened) to its first token.",
    ["provider"],
    buckets=_FIRST_TOKEN_BUCKETS,
)
TOKEN_PUBLISH_DELAY_SECONDS = Histogram(
    "tavern_chat_token_publish_delay_seconds",
    "From the oldest token of a batch arriving from the provider to the batch published "
    "to the chat's group (batching wait plus the Redis round trip).",
    buckets=_PUBLISH_DELAY_BUCKETS,
)
GENERATION_ERRORS = Counter(
    "tavern_chat_generation_errors",
    "Generations that ended in an error, by kind (the last connection's failure kind when "
    "none answered; stream_broken, empty_reply, internal) and provider.",
    ["kind", "provider"],
)


def _provider(offline: bool) -> str:
    return OFFLINE if offline else CONNECTION


# ---------------------------------------------------------------- what chats/generation.py calls


@contextmanager
def chat_stream_active(*, offline: bool) -> Iterator[None]:
    """Around one generation's stream: counted as started, and active while inside."""
    GENERATIONS.labels(_provider(offline)).inc()
    STREAMS_ACTIVE.inc()
    try:
        yield
    finally:
        STREAMS_ACTIVE.dec()


def chat_first_token(*, started: float, first_token_at: float | None, offline: bool) -> None:
    """Both times from `time.perf_counter()`; nothing when no token came."""
    if first_token_at is not None:
        FIRST_TOKEN_SECONDS.labels(_provider(offline)).observe(max(0.0, first_token_at - started))


def chat_tokens_published(*, tokens: int, oldest_arrived_at: float, offline: bool) -> None:
    """One batch published: `tokens` deltas, the oldest of which arrived at `oldest_arrived_at`
    (`time.perf_counter()`)."""
    TOKENS_STREAMED.labels(_provider(offline)).inc(tokens)
    TOKEN_PUBLISH_DELAY_SECONDS.observe(max(0.0, time.perf_counter() - oldest_arrived_at))


def chat_generation_failed(
    *, failure: BaseException | None, final_event: Mapping[str, object], offline: bool
) -> None:
    """Count the generation's error, if it ended in one: `failure` is what its stream raised
    (None when it ended without), `final_event` the event that closes it."""
    kind = failure_kind(failure, final_event)
    if kind:
        GENERATION_ERRORS.labels(kind, _provider(offline)).inc()


def failure_kind(failure: BaseException | None, final_event: Mapping[str, object]) -> str:
    """A bounded name for how a generation failed; "" when it did not."""
    if isinstance(failure, AllProvidersFailed):
        return failure.failures[-1].kind if failure.failures else "no_connection"
    if isinstance(failure, ProviderStreamBroken):
        return "stream_broken"
    if failure is not None:
        return "internal"
    if final_event.get("type") == "error":
        return str(final_event.get("code") or "internal")
    return ""


# ---------------------------------------------------------------- Celery queues, read at scrape time


def _broker_redis_url() -> str | None:
    url = str(settings.CELERY_BROKER_URL)
    if url.startswith("redis+socket://"):  # kombu's name for Redis on a Unix socket
        return "unix://" + url.removeprefix("redis+socket://")
    if url.startswith(("redis://", "rediss://", "unix://")):
        return url
    return None  # another broker: its own exporter knows its queues


def celery_queue_names() -> dict[str, str]:
    """Queue kind -> the broker's name for it, as the settings route tasks (with a prefix in tests)."""
    names: dict[str, str] = {}
    for name in settings.CELERY_TASK_QUEUES:
        for kind in QUEUE_KINDS:
            if name == kind or name.endswith(f".{kind}"):
                names[kind] = name
    return names


class CeleryQueueCollector(Collector):
    """`tavern_celery_queue_depth{queue}`: messages waiting in each queue, read from the
    broker when scraped. Fails open: with Redis down the scrape still answers, without it."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        url = _broker_redis_url()
        if url is None:
            return []
        queues = celery_queue_names()
        client = redis.Redis.from_url(
            url, socket_connect_timeout=_REDIS_TIMEOUT_SECONDS, socket_timeout=_REDIS_TIMEOUT_SECONDS
        )
        try:
            with client.pipeline(transaction=False) as pipe:
                for name in queues.values():
                    pipe.llen(name)
                    for step in _KOMBU_PRIORITY_STEPS:
                        pipe.llen(f"{name}{_KOMBU_PRIORITY_SEPARATOR}{step}")
                lengths = pipe.execute()
        except redis.RedisError as error:
            logger.warning("metrics: the Celery queue depths could not be read (%s)", error)
            return []
        finally:
            client.close()
        family = GaugeMetricFamily(
            "tavern_celery_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"]
        )
        per_queue = len(_KOMBU_PRIORITY_STEPS) + 1
        for index, kind in enumerate(queues):
            family.add_metric([kind], sum(lengths[index * per_queue : (index + 1) * per_queue]))
        return [family]


# Apart from the default registry, so that multiprocess mode (a registry per scrape) reads it too.
_QUEUE_REGISTRY = CollectorRegistry(auto_describe=False)
_QUEUE_REGISTRY.register(CeleryQueueCollector())


def exposition() -> tuple[bytes, str]:
    """The text `/metrics` answers, and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_QUEUE_REGISTRY), CONTENT_TYPE_LATEST
