"""Chat files: export as SillyTavern JSONL, import one."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from characters.selectors import character_get_visible
from chats.imports import chat_import_start
from chats.selectors import chat_get_for_user
from chats.sillytavern_jsonl import chat_export_jsonl
from tavern.api.references import body_reference
from tavern.jobs.api import JobOutput, job_accepted
from tavern.models import BackgroundJob

from ..serializers import ChatImportInput, ChatOutput


class ChatExportApi(APIView):
    @extend_schema(responses={(200, "application/jsonl"): bytes})
    def get(self, request: AuthenticatedRequest, chat_id: int) -> HttpResponse:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        body = chat_export_jsonl(chat=chat)
        response = HttpResponse(body, content_type="application/jsonl; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="chat-{chat.pk}.jsonl"'
        return response


class ChatImportApi(APIView):
    @extend_schema(
        request={"multipart/form-data": ChatImportInput},
        responses={201: ChatOutput, 202: JobOutput},
        description="A SillyTavern chat file (JSONL) becomes a chat of the caller: at once (201), "
        "or, for a big file (over IMPORT_SYNC_MAX_BYTES or IMPORT_SYNC_MAX_CHAT_MESSAGES "
        "messages), as a background job (202 with the job; poll its `url`). Every line is "
        "checked first either way: a refusal is a 400 naming `file` and the line.",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = ChatImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        character_id = data.validated_data.get("character_id")
        character = None
        if character_id:
            character = body_reference(
                "character_id", lambda: character_get_visible(character_id=character_id, user=request.user)
            )
        # The service names the file and the line of any refusal (one error shape, via the handler).
        started = chat_import_start(
            owner=request.user, data=upload.read(), input_name=upload.name or "", character=character
        )
        if isinstance(started, BackgroundJob):
            return job_accepted(started)
        chat = chat_get_for_user(chat_id=started.pk, user=request.user)
        return Response(ChatOutput(chat, context={"request": request}).data, status=status.HTTP_201_CREATED)
