from __future__ import annotations

from functools import cache

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.pagination import CursorPagination, PageNumberPagination


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
def paginated(item: type[serializers.Serializer]) -> serializers.Serializer:
    """The OpenAPI shape of a PagePagination page of `item`s, for `extend_schema(responses=...)`."""
    name = item.__name__.removesuffix("Output").removesuffix("Serializer")
    return inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )
