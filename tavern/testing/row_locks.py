"""Another transaction holding rows' locks, for tests of what waits on them (a job
another worker holds, a send that waits on its chat's row)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from tavern.testing.waits import EVENT_WAIT_SECONDS


@contextmanager
def rows_locked_elsewhere(queryset: QuerySet[Any]) -> Iterator[threading.Event]:
    """The rows of `queryset` locked (SELECT ... FOR UPDATE) by a transaction in another
    thread, on its own connection, from the block's start until it ends, or until the
    event it yields is set (to free them earlier, from the test)."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                list(queryset.select_for_update())
                held.set()
                release.wait(EVENT_WAIT_SECONDS)
        finally:
            connection.close()

    holder = threading.Thread(target=hold, name="rows-locked-elsewhere")
    holder.start()
    try:
        assert held.wait(EVENT_WAIT_SECONDS), "the rows could not be locked"
        yield release
    finally:
        release.set()
        holder.join(EVENT_WAIT_SECONDS)
