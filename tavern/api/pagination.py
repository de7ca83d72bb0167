from __future__ import annotations

from functools import cache
from typing import Any

from rest_framework import serializers
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tavern.pagination import COUNT_CAP, CappedCountPaginator

COUNT_HELP = (
    f"How many items the list holds. Counting stops at {COUNT_CAP + 1:,} items (or one item past "
    "this page, when deeper): exact when `count_exact` is true, otherwise a lower bound — there "
    "are at least this many, and `next` leads on."
)
COUNT_EXACT_HELP = "False when counting stopped early: `count` is then a lower bound, not the total."


class PagePagination(PageNumberPagination):
    """`?page=N&page_size=M`, M capped. Views give a queryset ordered down to a unique key.

    The count stops at `COUNT_CAP` items, or one past the page asked for
    (`tavern.pagination`): a list of 100,000 public characters costs no more to open than
    one of 2,000."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    django_paginator_class = CappedCountPaginator

    def get_paginated_response(self, data: Any) -> Response:
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.count,
                "count_exact": paginator.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        page = super().get_paginated_response_schema(schema)
        page["required"] = ["count", "count_exact", "results"]
        page["properties"]["count"]["description"] = COUNT_HELP
        page["properties"] = {
            "count": page["properties"]["count"],
            "count_exact": {"type": "boolean", "description": COUNT_EXACT_HELP},
            **{name: value for name, value in page["properties"].items() if name != "count"},
        }
        return page


class NewestFirstCursorPagination(CursorPagination):
    """For feeds that grow while read (messages, notifications): stable under inserts."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")


@cache
def paginated(output: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The schema of a `PagePagination` page of `output`, for `extend_schema(responses=...)`
    (cached: one component per output)."""
    return type(
        f"Paginated{output.__name__}",
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(help_text=COUNT_HELP),
            "count_exact": serializers.BooleanField(help_text=COUNT_EXACT_HELP),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": output(many=True),
            "__doc__": f"A page of {output.__name__}.",
        },
    )


def page_response(
    request: Request, view: APIView, queryset: Any, output: type[serializers.Serializer]
) -> Response:
    """One page of `queryset`, as `output`, in PagePagination's envelope."""
    paginator = PagePagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(output(page, many=True).data)
