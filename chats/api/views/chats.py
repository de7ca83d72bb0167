"""Chats: list, create, read, update, delete, archive, branch, stop, prompt preview."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from characters.selectors import character_get_visible, lorebook_get_owned, persona_get_owned
from chats.selectors import (
    chat_get_for_user,
    chats_for_user,
    connection_get_usable,
    message_in_chat,
    preset_get_owned,
)
from chats.services import chat_archive, chat_branch, chat_create, chat_delete, chat_update
from chats.turn_context import TurnError, prompt_preview
from chats.turns import turn_stop
from tavern.api.errors import DomainError
from tavern.api.pagination import PagePagination, paginated
from tavern.api.references import body_reference

from ..serializers import BranchInput, ChatCreateInput, ChatOutput, ChatUpdateInput


class ChatListCreateApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("q", str), OpenApiParameter("archived", bool)],
        operation_id="chats_list",
        responses=paginated(ChatOutput),
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        chats = chats_for_user(
            user=request.user,
            q=request.query_params.get("q", ""),
            archived=request.query_params.get("archived") == "1",
        )
        paginator = PagePagination()
        page = paginator.paginate_queryset(chats, request, view=self)
        return paginator.get_paginated_response(
            ChatOutput(page, many=True, context={"request": request}).data
        )

    @extend_schema(request=ChatCreateInput, responses={201: ChatOutput})
    def post(self, request: AuthenticatedRequest) -> Response:
        data = ChatCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user
        characters = [
            body_reference(
                f"character_ids.{index}", lambda pk=pk: character_get_visible(character_id=pk, user=user)
            )
            for index, pk in enumerate(values["character_ids"])
        ]
        persona = (
            body_reference(
                "persona_id", lambda: persona_get_owned(persona_id=values["persona_id"], user=user)
            )
            if values.get("persona_id")
            else None
        )
        connection = (
            body_reference(
                "connection_id",
                lambda: connection_get_usable(connection_id=values["connection_id"], user=user),
            )
            if values.get("connection_id")
            else None
        )
        chat = chat_create(
            owner=request.user,
            characters=characters,
            persona=persona,
            connection=connection,
            title=values.get("title", ""),
        )
        chat = chat_get_for_user(chat_id=chat.pk, user=request.user)
        return Response(ChatOutput(chat, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ChatDetailApi(APIView):
    @extend_schema(responses=ChatOutput)
    def get(self, request: AuthenticatedRequest, chat_id: int) -> Response:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        return Response(ChatOutput(chat, context={"request": request}).data)

    @extend_schema(request=ChatUpdateInput, responses=ChatOutput)
    def patch(self, request: AuthenticatedRequest, chat_id: int) -> Response:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        data = ChatUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        user = request.user
        if "persona_id" in values:
            pk = values.pop("persona_id")
            values["persona"] = (
                body_reference("persona_id", lambda: persona_get_owned(persona_id=pk, user=user))
                if pk
                else None
            )
        if "connection_id" in values:
            pk = values.pop("connection_id")
            values["connection"] = (
                body_reference("connection_id", lambda: connection_get_usable(connection_id=pk, user=user))
                if pk
                else None
            )
        if "preset_id" in values:
            pk = values.pop("preset_id")
            values["preset"] = (
                body_reference("preset_id", lambda: preset_get_owned(preset_id=pk, user=user)) if pk else None
            )
        if "fallback_connection_ids" in values:
            values["fallback_connections"] = [
                body_reference(
                    f"fallback_connection_ids.{index}",
                    lambda pk=pk: connection_get_usable(connection_id=pk, user=user),
                )
                for index, pk in enumerate(values.pop("fallback_connection_ids"))
            ]
        if "lorebook_ids" in values:
            values["lorebooks"] = [
                body_reference(
                    f"lorebook_ids.{index}", lambda pk=pk: lorebook_get_owned(lorebook_id=pk, user=user)
                )
                for index, pk in enumerate(values.pop("lorebook_ids"))
            ]
        chat_update(chat=chat, data=values)
        chat = chat_get_for_user(chat_id=chat_id, user=user)
        return Response(ChatOutput(chat, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, chat_id: int) -> Response:
        chat_delete(chat=chat_get_for_user(chat_id=chat_id, user=request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChatArchiveApi(APIView):
    @extend_schema(request=None, responses=ChatOutput)
    def post(self, request: AuthenticatedRequest, chat_id: int) -> Response:
        chat = chat_archive(chat=chat_get_for_user(chat_id=chat_id, user=request.user), archived=True)
        return Response(ChatOutput(chat, context={"request": request}).data)

    @extend_schema(responses={200: ChatOutput})
    def delete(self, request: AuthenticatedRequest, chat_id: int) -> Response:
        chat = chat_archive(chat=chat_get_for_user(chat_id=chat_id, user=request.user), archived=False)
        return Response(ChatOutput(chat, context={"request": request}).data)


class ChatBranchApi(APIView):
    @extend_schema(request=BranchInput, responses={201: ChatOutput})
    def post(self, request: AuthenticatedRequest, chat_id: int) -> Response:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        data = BranchInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = body_reference(
            "message_id", lambda: message_in_chat(chat=chat, message_id=data.validated_data["message_id"])
        )
        branch = chat_branch(chat=chat, up_to=message)
        branch = chat_get_for_user(chat_id=branch.pk, user=request.user)
        return Response(ChatOutput(branch, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ChatStopApi(APIView):
    @extend_schema(request=None, responses={202: None})
    def post(self, request: AuthenticatedRequest, chat_id: int) -> Response:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        async_to_sync(turn_stop)(chat_id=chat.pk)
        return Response(status=status.HTTP_202_ACCEPTED)


class ChatPromptPreviewApi(APIView):
    @extend_schema(responses=dict)
    def get(self, request: AuthenticatedRequest, chat_id: int) -> Response:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        try:
            ctx = prompt_preview(chat=chat)
        except TurnError as error:
            raise DomainError(error.message, code=error.code) from error
        if ctx is None:
            return Response({"speaker": None, "messages": [], "report": None})
        report = ctx.prompt.report
        return Response(
            {
                "speaker": {"id": ctx.speaker.pk, "name": ctx.speaker.name},
                "connection": ctx.connections[0].label if ctx.connections else "Offline demo",
                "messages": ctx.prompt.messages,
                "report": {
                    "budget": report.budget,
                    "used": report.used,
                    "history_included": report.history_included,
                    "history_left_out": report.history_left_out,
                    "lore_included": report.lore_included,
                    "memories_included": report.memories_included,
                    "sections": [section.__dict__ for section in report.sections],
                },
            }
        )
