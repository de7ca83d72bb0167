from __future__ import annotations

from functools import cache
from typing import Any

from rest_framework import serializers
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class PagePagination(PageNumberPagination):
    """`?page=N&page_size=M`, M capped. Views give a queryset ordered down to a unique key."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


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
            "count": serializers.IntegerField(),
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
