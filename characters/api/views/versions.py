"""A character's version history (its owner's only): list, read, compare, restore."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from characters.selectors import (
    character_get_owned,
    character_version_diff,
    character_version_get,
    character_versions,
)
from characters.services import character_version_restore

from ..responses import page_response, paginated
from ..serializers import (
    CharacterDetailOutput,
    VersionDetailOutput,
    VersionDiffOutput,
    VersionOutput,
)
from .characters import character_detail_response


class CharacterVersionListApi(APIView):
    @extend_schema(operation_id="characters_versions_list", responses=paginated(VersionOutput))
    def get(self, request: Request, character_id: int) -> Response:
        character = character_get_owned(character_id=character_id, user=request.user)
        return page_response(request, self, character_versions(character=character), VersionOutput)


class CharacterVersionDetailApi(APIView):
    @extend_schema(operation_id="characters_versions_retrieve", responses=VersionDetailOutput)
    def get(self, request: Request, character_id: int, number: int) -> Response:
        character = character_get_owned(character_id=character_id, user=request.user)
        version = character_version_get(character=character, number=number)
        return Response(VersionDetailOutput(version).data)


class CharacterVersionDiffApi(APIView):
    class QuerySerializer(serializers.Serializer):
        to = serializers.IntegerField(min_value=1, help_text="The newer version's number.")

        def get_fields(self) -> dict[str, serializers.Field]:
            # `from` is a Python keyword, so it cannot be declared as an attribute.
            older = serializers.IntegerField(min_value=1, help_text="The older version's number.")
            return {"from": older, **super().get_fields()}

    @extend_schema(parameters=[QuerySerializer], responses=VersionDiffOutput)
    def get(self, request: Request, character_id: int) -> Response:
        character = character_get_owned(character_id=character_id, user=request.user)
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        older = character_version_get(character=character, number=query.validated_data["from"])
        newer = character_version_get(character=character, number=query.validated_data["to"])
        changes = character_version_diff(older=older, newer=newer)
        return Response(
            VersionDiffOutput({"from": older.number, "to": newer.number, "changes": changes}).data
        )


class CharacterVersionRestoreApi(APIView):
    @extend_schema(
        request=None,
        responses=CharacterDetailOutput,
        description="The card becomes this version's again, recorded as a new version.",
    )
    def post(self, request: AuthenticatedRequest, character_id: int, number: int) -> Response:
        character = character_get_owned(character_id=character_id, user=request.user)
        version = character_version_get(character=character, number=number)
        character_version_restore(version=version, editor=request.user)
        return character_detail_response(request, character.pk)
