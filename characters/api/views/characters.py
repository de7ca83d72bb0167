"""A user's characters: list, create, read, edit, trash and restore, fork, favourite."""

from __future__ import annotations

import dataclasses

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from characters.cards import CardData
from characters.records import card_value
from characters.selectors import (
    character_get_owned,
    character_get_visible,
    character_tag_names,
    characters_owned,
    with_tag_names,
)
from characters.services import (
    character_create,
    character_delete,
    character_fork,
    character_restore,
    character_update,
    favourite_set,
)

from ..responses import page_response, paginated
from ..serializers import (
    CharacterDetailOutput,
    CharacterInput,
    CharacterListOutput,
    CharacterUpdateInput,
    FavouriteOutput,
)


def character_detail_response(request: Request, character_id: int, *, status_code: int = 200) -> Response:
    """The character as its owner now sees it (fetched again: services return bare rows)."""
    character = character_get_owned(character_id=character_id, user=request.user)
    return Response(CharacterDetailOutput(character).data, status=status_code)


class CharacterListCreateApi(APIView):
    class FilterSerializer(serializers.Serializer):
        deleted = serializers.BooleanField(default=False, help_text="1 lists the trash instead.")

    @extend_schema(
        operation_id="characters_list",
        parameters=[FilterSerializer],
        responses=paginated(CharacterListOutput),
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        characters = characters_owned(user=request.user, deleted=filters.validated_data["deleted"])
        return page_response(
            request, self, with_tag_names(characters.only(*CharacterListOutput.COLUMNS)), CharacterListOutput
        )

    @extend_schema(
        operation_id="characters_create",
        request=CharacterInput,
        responses={201: CharacterDetailOutput},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = CharacterInput(data=request.data)
        data.is_valid(raise_exception=True)
        character = character_create(
            owner=request.user, card=CardData(**data.card_changes()), **data.settings_changes()
        )
        return character_detail_response(request, character.pk, status_code=status.HTTP_201_CREATED)


class CharacterDetailApi(APIView):
    """Anyone may read a public or unlisted character; only its owner changes it."""

    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(operation_id="characters_retrieve", responses=CharacterDetailOutput)
    def get(self, request: Request, character_id: int) -> Response:
        character = character_get_visible(character_id=character_id, user=request.user)
        return Response(CharacterDetailOutput(character).data)

    @extend_schema(
        operation_id="characters_update",
        request=CharacterUpdateInput,
        responses=CharacterDetailOutput,
        description="Card fields make a new version when the content changes; settings "
        "(visibility, is_nsfw, language) alone do not.",
    )
    def patch(self, request: AuthenticatedRequest, character_id: int) -> Response:
        character = character_get_owned(character_id=character_id, user=request.user)
        data = CharacterUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = data.card_changes()
        card = None
        if changes:
            current = card_value(character, tags=character_tag_names(character))
            card = dataclasses.replace(current, **changes)
        character_update(
            character=character,
            editor=request.user,
            card=card,
            settings_data=data.settings_changes(),
            change_summary=data.validated_data.get("change_summary", ""),
        )
        return character_detail_response(request, character.pk)

    @extend_schema(operation_id="characters_destroy", responses={204: None})
    def delete(self, request: Request, character_id: int) -> Response:
        character = character_get_owned(character_id=character_id, user=request.user)
        character_delete(character=character)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CharacterRestoreApi(APIView):
    @extend_schema(request=None, responses=CharacterDetailOutput)
    def post(self, request: Request, character_id: int) -> Response:
        character = character_get_owned(character_id=character_id, user=request.user)
        character_restore(character=character)
        return character_detail_response(request, character.pk)


class CharacterForkApi(APIView):
    @extend_schema(
        request=None,
        responses={201: CharacterDetailOutput},
        description="A private copy, owned by the caller, of any character they can see.",
    )
    def post(self, request: AuthenticatedRequest, character_id: int) -> Response:
        character = character_get_visible(character_id=character_id, user=request.user)
        fork = character_fork(character=character, owner=request.user)
        return character_detail_response(request, fork.pk, status_code=status.HTTP_201_CREATED)


class CharacterFavouriteApi(APIView):
    def _set(self, request: AuthenticatedRequest, character_id: int, *, on: bool) -> Response:
        character = character_get_visible(character_id=character_id, user=request.user)
        is_favourite = favourite_set(user=request.user, character=character, on=on)
        character.refresh_from_db(fields=["favourite_count"])
        return Response(
            FavouriteOutput({"is_favourite": is_favourite, "favourite_count": character.favourite_count}).data
        )

    @extend_schema(operation_id="characters_favourite_add", request=None, responses=FavouriteOutput)
    def post(self, request: Request, character_id: int) -> Response:
        return self._set(request, character_id, on=True)

    @extend_schema(operation_id="characters_favourite_remove", responses={200: FavouriteOutput})
    def delete(self, request: Request, character_id: int) -> Response:
        return self._set(request, character_id, on=False)
