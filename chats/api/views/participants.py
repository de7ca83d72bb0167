"""The characters taking part in a chat: add, mute, leave."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from characters.selectors import character_get_visible
from chats.selectors import chat_get_for_user
from chats.services import participant_add, participant_update
from tavern.api.references import body_reference

from ..serializers import ChatOutput, ParticipantAddInput, ParticipantUpdateInput


class ParticipantAddApi(APIView):
    @extend_schema(request=ParticipantAddInput, responses={201: ChatOutput})
    def post(self, request: AuthenticatedRequest, chat_id: int) -> Response:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        data = ParticipantAddInput(data=request.data)
        data.is_valid(raise_exception=True)
        character = body_reference(
            "character_id",
            lambda: character_get_visible(
                character_id=data.validated_data["character_id"], user=request.user
            ),
        )
        participant_add(chat=chat, character=character)
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        return Response(ChatOutput(chat, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ParticipantDetailApi(APIView):
    def _participant(self, request: AuthenticatedRequest, chat_id: int, character_id: int):  # type: ignore[no-untyped-def]
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        participant = next((p for p in chat.participants.all() if p.character_id == character_id), None)
        if participant is None:
            raise Http404
        return chat, participant

    @extend_schema(request=ParticipantUpdateInput, responses=ChatOutput)
    def patch(self, request: AuthenticatedRequest, chat_id: int, character_id: int) -> Response:
        _, participant = self._participant(request, chat_id, character_id)
        data = ParticipantUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        participant_update(participant=participant, muted=data.validated_data.get("is_muted"))
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        return Response(ChatOutput(chat, context={"request": request}).data)

    @extend_schema(responses={200: ChatOutput})
    def delete(self, request: AuthenticatedRequest, chat_id: int, character_id: int) -> Response:
        _, participant = self._participant(request, chat_id, character_id)
        participant_update(participant=participant, leave=True)
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        return Response(ChatOutput(chat, context={"request": request}).data)
