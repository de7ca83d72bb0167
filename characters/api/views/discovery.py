"""The public library: search, similar characters, tag autocomplete."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from characters.models import Tag
from characters.selectors import (
    SEARCH_MODES,
    SORTS,
    AnyUser,
    SearchFilters,
    character_get_visible,
    character_search,
    character_similar,
    characters_discoverable,
    with_tag_names,
)

from ..responses import page_response, paginated
from ..serializers import CharacterListOutput, TagOutput


class CharacterSearchApi(APIView):
    """Anyone may search; NSFW characters only reach users whose content settings allow them."""

    permission_classes = [AllowAny]

    class QuerySerializer(serializers.Serializer):
        q = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        mode = serializers.ChoiceField(
            choices=SEARCH_MODES,
            default="text",
            help_text="text: words and fuzzy names; meaning: embeddings.",
        )
        tags = serializers.CharField(
            max_length=1000, required=False, allow_blank=True, default="", help_text="Comma-separated."
        )
        creator = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
        language = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
        category = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
        sort = serializers.ChoiceField(
            choices=SORTS,
            required=False,
            allow_blank=True,
            default="",
            help_text="Default: relevance with a query, popular without.",
        )

        def filters(self) -> SearchFilters:
            data = dict(self.validated_data)
            tags = tuple(tag.strip() for tag in data.pop("tags").split(",") if tag.strip())
            return SearchFilters(tags=tags, **data)

    @extend_schema(parameters=[QuerySerializer], responses=paginated(CharacterListOutput))
    def get(self, request: Request) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        characters = character_search(user=request.user, filters=query.filters())
        return page_response(
            request, self, with_tag_names(characters.only(*CharacterListOutput.COLUMNS)), CharacterListOutput
        )


class CharacterSimilarApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=CharacterListOutput(many=True),
        description="Up to 8 public characters nearest in meaning.",
    )
    def get(self, request: Request, character_id: int) -> Response:
        character = character_get_visible(character_id=character_id, user=request.user)
        similar = character_similar(character=character, user=request.user)
        return Response(CharacterListOutput(similar, many=True).data)


def _tags_in_use(*, q: str, user: AnyUser) -> QuerySet[Tag]:
    # Stand-in for a `selectors.tags_search` (proposed): only tags of characters the caller
    # could find, so a private character's tags never show up in anyone's autocomplete.
    discoverable = characters_discoverable(user=user).values("pk")
    return (
        Tag.objects.filter(name__icontains=q)
        .annotate(character_count=Count("characters", filter=Q(characters__in=discoverable)))
        .filter(character_count__gt=0)
        .order_by("-character_count", "name", "id")
    )


class TagListApi(APIView):
    permission_classes = [AllowAny]

    class QuerySerializer(serializers.Serializer):
        q = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="tags_list", parameters=[QuerySerializer], responses=paginated(TagOutput))
    def get(self, request: Request) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return page_response(
            request, self, _tags_in_use(q=query.validated_data["q"], user=request.user), TagOutput
        )
