"""Page-number pagination that never counts a whole table.

Django's `Paginator` runs `SELECT COUNT(*)` over everything the query matches: at
100,000 public characters that count was nearly all of a browse page's time (the page
itself is an index scan of 24 rows). `CappedCountPaginator` counts at most
`max(COUNT_CAP, rows up to the end of the page asked for) + 1` rows
(`SELECT count(*) FROM (... LIMIT n)`): below that the count is exact; at it, `count` is
a lower bound, `count_exact` is False, and pages and APIs say "1,000+" rather than a
number nobody counted. The next page is always reachable: the limit moves with the page."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet

COUNT_CAP = 1000


class CappedCountPaginator(Paginator):
    """A `Paginator` whose `count` stops at `count_cap` rows, or one row past the page asked
    for when that is deeper."""

    count_cap = COUNT_CAP

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wanted_number = 1

    def validate_number(self, number: Any) -> int:
        # The first thing `page()` and `get_page()` do, before anything reads `count`:
        # remember how deep to count.
        try:
            self._wanted_number = max(1, int(number))
        except (TypeError, ValueError):
            self._wanted_number = 1
        return super().validate_number(number)

    @cached_property
    def _count_limit(self) -> int:
        """Rows counted at most: the cap, or everything up to the requested page, plus one
        (the one that tells "exactly n" from "more than n")."""
        return max(self.count_cap, self._wanted_number * self.per_page) + 1

    @cached_property
    def count(self) -> int:
        """Exact up to the limit; past it, a lower bound (see `count_exact`)."""
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        rows = self.object_list
        if not rows.query.distinct_fields:
            # Any `limit` rows tell "more than the cap": no need to sort them first.
            rows = rows.order_by()
        return rows[: self._count_limit].count()

    @property
    def count_exact(self) -> bool:
        return not isinstance(self.object_list, QuerySet) or self.count < self._count_limit

    @property
    def count_label(self) -> str:
        """The count for people: "1,024", or "1,000+" when counting stopped."""
        if self.count_exact:
            return f"{self.count:,}"
        return f"{self.count - 1:,}+"
