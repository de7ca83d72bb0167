"""Who a user plays as: their personas, with an optional avatar (multipart)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from characters.selectors import persona_get_owned, personas_owned
from characters.services import CharacterError, persona_delete, persona_save

from ..responses import domain_error, page_response, paginated
from ..serializers import PersonaInput, PersonaOutput

_PARSERS = [JSONParser, MultiPartParser, FormParser]


class PersonaListCreateApi(APIView):
    parser_classes = _PARSERS

    @extend_schema(operation_id="personas_list", responses=paginated(PersonaOutput))
    def get(self, request: AuthenticatedRequest) -> Response:
        return page_response(request, self, personas_owned(user=request.user), PersonaOutput)

    @extend_schema(operation_id="personas_create", request=PersonaInput, responses={201: PersonaOutput})
    def post(self, request: AuthenticatedRequest) -> Response:
        data = PersonaInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            persona = persona_save(
                owner=request.user, persona=None, data=data.persona_data(), avatar_png=data.avatar_bytes()
            )
        except CharacterError as error:  # e.g. the avatar is not a readable image
            raise domain_error(error, field="avatar") from error
        return Response(PersonaOutput(persona).data, status=status.HTTP_201_CREATED)


class PersonaDetailApi(APIView):
    parser_classes = _PARSERS

    @extend_schema(operation_id="personas_retrieve", responses=PersonaOutput)
    def get(self, request: Request, persona_id: int) -> Response:
        persona = persona_get_owned(persona_id=persona_id, user=request.user)
        return Response(PersonaOutput(persona).data)

    @extend_schema(operation_id="personas_update", request=PersonaInput, responses=PersonaOutput)
    def patch(self, request: AuthenticatedRequest, persona_id: int) -> Response:
        persona = persona_get_owned(persona_id=persona_id, user=request.user)
        data = PersonaInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            persona = persona_save(
                owner=request.user, persona=persona, data=data.persona_data(), avatar_png=data.avatar_bytes()
            )
        except CharacterError as error:  # e.g. the avatar is not a readable image
            raise domain_error(error, field="avatar") from error
        return Response(PersonaOutput(persona).data)

    @extend_schema(operation_id="personas_destroy", responses={204: None})
    def delete(self, request: Request, persona_id: int) -> Response:
        persona = persona_get_owned(persona_id=persona_id, user=request.user)
        persona_delete(persona=persona)
        return Response(status=status.HTTP_204_NO_CONTENT)
