"""Reads that may go to a read replica, and the router that sends them there.

A replica runs a little behind the primary, so reading from it everywhere would break
read-your-writes: a user who has just saved a character must see it on the next page.
So nothing goes to the replica by default. A selector on a heavy, public read path (the
character library's browse and search) opts in with `reading_from_replica()`; inside it,
reads go to the replica unless the primary's connection is in a transaction (what a
transaction reads must be what it writes). Writes, transactions, migrations and every
other read stay on the primary. Without a replica (`DATABASE_REPLICA_URL` unset) the
block changes nothing.

A queryset is evaluated where it is used, often after the selector has returned; a
selector that returns one pins it with `on_read_database(queryset)` inside the block.
Rows read from the replica bring their related rows (prefetches, foreign keys) from
it too, outside a transaction, so a page's rows and their tags agree. A query that adds
anything private to the viewer (their favourites) goes back to the primary with
`on_primary(queryset)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet

PRIMARY = DEFAULT_DB_ALIAS

_replica_reads: ContextVar[bool] = ContextVar("tavern_replica_reads", default=False)

_M = TypeVar("_M", bound=Model)


def replica_alias() -> str:
    """The replica's alias, or "" when there is none."""
    return str(getattr(settings, "DATABASE_READ_REPLICA", "") or "")


@contextmanager
def reading_from_replica() -> Iterator[None]:
    """Reads in this block (and in the threads it starts with asgiref, which copy the
    context) may go to the replica; also a decorator."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def read_database() -> str:
    """Where a read made here and now goes."""
    replica = replica_alias()
    if replica and _replica_reads.get() and not connections[PRIMARY].in_atomic_block:
        return replica
    return PRIMARY


def on_read_database(queryset: QuerySet[_M]) -> QuerySet[_M]:
    """The queryset pinned to `read_database()`, for a selector that returns it unevaluated."""
    return queryset.using(read_database())


def on_primary(queryset: QuerySet[_M]) -> QuerySet[_M]:
    """The queryset pinned to the primary: it reads something the viewer may just have written."""
    return queryset.using(PRIMARY)


class PrimaryReplicaRouter:
    """DATABASE_ROUTERS' one entry: see the module's docstring for the rule."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        replica = replica_alias()
        if not replica or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        if _replica_reads.get():
            return replica
        instance = hints.get("instance")
        if instance is not None and instance._state.db == replica:
            return replica
        return PRIMARY

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return PRIMARY  # a row read from the replica is saved to the primary

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        aliases = {PRIMARY, replica_alias()} - {""}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True  # the same data: the replica is a copy of the primary
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == PRIMARY
