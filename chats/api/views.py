from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from characters.selectors import character_get_visible, lorebook_get_owned, persona_get_owned
from chats.generation import GenerationRefused
from chats.imports import chat_import_start
from chats.limits import PRESET_MAX_BYTES
from chats.payloads import message_payload
from chats.quota import QuotaExceeded
from chats.selectors import (
    chat_get_for_user,
    chats_for_user,
    connection_get_owned,
    connection_get_usable,
    connections_for_user,
    message_in_chat,
    messages_page,
    preset_get_owned,
    presets_for_user,
    usage_for_user,
)
from chats.services import (
    chat_archive,
    chat_branch,
    chat_create,
    chat_delete,
    chat_update,
    connection_record_test,
    connection_save,
    message_delete,
    message_edit,
    message_set_hidden,
    message_swipe_select,
    participant_add,
    participant_update,
    preset_import_file,
    preset_save,
)
from chats.turns import Turn, turn_continue, turn_regenerate, turn_send, turn_stop
from tavern.api.errors import DomainError
from tavern.api.pagination import PagePagination, paginated
from tavern.api.references import body_reference
from tavern.jobs.api import JobOutput, job_accepted
from tavern.models import BackgroundJob

from .serializers import (
    BranchInput,
    ChatCreateInput,
    ChatImportInput,
    ChatOutput,
    ChatUpdateInput,
    ConnectionInput,
    ConnectionOutput,
    ConnectionTestOutput,
    DuplicateSendOutput,
    FileInput,
    MessageOutput,
    MessagePageOutput,
    MessageSendInput,
    MessageUpdateInput,
    ParticipantAddInput,
    ParticipantUpdateInput,
    PresetSerializer,
    SendOutput,
    SharedConnectionOutput,
    StreamEventOutput,
    StreamInput,
    SwipeInput,
    TurnOutput,
    connection_output,
)


class GenerationBusy(DomainError):
    status_code = 409
    default_code = "busy"


class QuotaError(DomainError):
    status_code = 429
    default_code = "quota_exceeded"


def _refused(error: GenerationRefused | QuotaExceeded) -> DomainError:
    if error.code == "busy":
        return GenerationBusy(error.message)
    if error.code in ("rate_limited", "quota_exceeded"):
        return QuotaError(error.message, code=error.code)
    return DomainError(error.message, code=error.code)


def _turn(start: Any, **arguments: Any) -> Any:
    """Start a turn (`chats.turns`) from a sync view; its refusals as API errors."""
    try:
        return async_to_sync(start)(**arguments)
    except (GenerationRefused, QuotaExceeded) as error:
        raise _refused(error) from error


def _sse(event: dict[str, Any]) -> bytes:
    return (
        f"event: {event.get('type', 'message')}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n".encode()
    )


async def _sse_turn(first: list[dict[str, Any]], turn: Turn) -> AsyncIterator[bytes]:
    """Server-Sent Events for one turn; the reply goes on (and is saved) even if the
    client goes away."""
    for event in first:
        yield _sse(event)
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(turn.run(sink=queue.put))
    while True:
        getter = asyncio.ensure_future(queue.get())
        done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            event = getter.result()
            yield _sse(event)
            if event.get("type") in ("done", "error"):
                break
            continue
        getter.cancel()
        while not queue.empty():
            yield _sse(queue.get_nowait())
        error = task.exception()
        if isinstance(error, GenerationRefused):
            yield _sse({"type": "error", "code": error.code, "message": error.message})
        elif error is not None:
            yield _sse(
                {"type": "error", "code": "server_error", "message": "The reply failed; it has been logged."}
            )
        elif task.result() is None:
            yield _sse({"type": "done", "message": None, "record": None})
        break
    yield b"event: end\ndata: {}\n\n"


class _TurnStream(StreamingHttpResponse):
    """The events of a turn whose reply slot is already taken: a stop posted right
    after the response started finds it. If the stream is never read (the client went
    away first), closing the response frees the slot."""

    def __init__(self, turn: Turn, first: list[dict[str, Any]]) -> None:
        super().__init__(_sse_turn(first, turn), content_type="text/event-stream")
        self.turn = turn
        self["Cache-Control"] = "no-cache"
        self["X-Accel-Buffering"] = "no"

    def close(self) -> None:
        try:
            if not self.turn.claimed:
                async_to_sync(self.turn.release)()
        finally:
            super().close()


def _run_blocking(turn: Turn) -> dict[str, Any]:
    try:
        outcome = async_to_sync(turn.run)()
    except GenerationRefused as error:
        raise _refused(error) from error
    if outcome is None:
        return {"reply": None, "record": None}
    if outcome.message is None:
        raise DomainError(outcome.error or "The model returned an empty reply.", code="provider_failed")
    return {"reply": message_payload(outcome.message), "error": outcome.error or None}


# ---------------------------------------------------------------- chats


class ChatListCreateApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("q", str), OpenApiParameter("archived", bool)],
        operation_id="chats_list",
        responses=paginated(ChatOutput),
    )
    def get(self, request: Request) -> Response:
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
    def post(self, request: Request) -> Response:
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
    def get(self, request: Request, chat_id: int) -> Response:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        return Response(ChatOutput(chat, context={"request": request}).data)

    @extend_schema(request=ChatUpdateInput, responses=ChatOutput)
    def patch(self, request: Request, chat_id: int) -> Response:
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
    def delete(self, request: Request, chat_id: int) -> Response:
        chat_delete(chat=chat_get_for_user(chat_id=chat_id, user=request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChatArchiveApi(APIView):
    @extend_schema(request=None, responses=ChatOutput)
    def post(self, request: Request, chat_id: int) -> Response:
        chat = chat_archive(chat=chat_get_for_user(chat_id=chat_id, user=request.user), archived=True)
        return Response(ChatOutput(chat, context={"request": request}).data)

    @extend_schema(responses={200: ChatOutput})
    def delete(self, request: Request, chat_id: int) -> Response:
        chat = chat_archive(chat=chat_get_for_user(chat_id=chat_id, user=request.user), archived=False)
        return Response(ChatOutput(chat, context={"request": request}).data)


class ChatBranchApi(APIView):
    @extend_schema(request=BranchInput, responses={201: ChatOutput})
    def post(self, request: Request, chat_id: int) -> Response:
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
    def post(self, request: Request, chat_id: int) -> Response:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        async_to_sync(turn_stop)(chat_id=chat.pk)
        return Response(status=status.HTTP_202_ACCEPTED)


class ChatPromptPreviewApi(APIView):
    @extend_schema(responses=dict)
    def get(self, request: Request, chat_id: int) -> Response:
        from chats.turn_context import TurnError, prompt_preview

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


# ---------------------------------------------------------------- messages


class MessageListSendApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("before", int),
            OpenApiParameter("after", int),
            OpenApiParameter("limit", int),
        ],
        responses=MessagePageOutput,
    )
    def get(self, request: Request, chat_id: int) -> Response:
        """Cursor pagination by position: `before` for older pages, `after` to catch up."""
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        params = request.query_params
        try:
            before = int(params["before"]) if params.get("before") else None
            after = int(params["after"]) if params.get("after") else None
            limit = min(200, max(1, int(params.get("limit", 50))))
        except ValueError as error:
            raise DomainError("before, after and limit are whole numbers.", field="before") from error
        page = messages_page(chat=chat, before=before, after=after, limit=limit)
        oldest = page[0].position if page else None
        return Response(
            {
                "results": [message_payload(m) for m in page],
                "previous_before": oldest if page and oldest and oldest > 1 else None,
            }
        )

    @extend_schema(
        request=MessageSendInput,
        responses={
            201: SendOutput,
            (200, "application/json"): DuplicateSendOutput,
            409: OpenApiResponse(description="A reply is already being written in this chat."),
            (200, "text/event-stream"): OpenApiResponse(
                StreamEventOutput, description="With stream: ack, generation_started, token… and done events."
            ),
        },
    )
    def post(self, request: Request, chat_id: int) -> Response | StreamingHttpResponse:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        data = MessageSendInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        sent = _turn(
            turn_send,
            chat_id=chat.pk,
            user_id=request.user.pk,
            content=values["content"],
            client_id=values.get("client_id", ""),
            character_id=values.get("character_id"),
        )
        user_message = message_payload(sent.message)
        if sent.turn is None:
            return Response(
                {"message": user_message, "reply": None, "duplicate": True}, status=status.HTTP_200_OK
            )
        if values["stream"]:
            return _TurnStream(sent.turn, [{"type": "ack", "message": user_message}])
        return Response({"message": user_message, **_run_blocking(sent.turn)}, status=status.HTTP_201_CREATED)


class MessageDetailApi(APIView):
    @extend_schema(request=MessageUpdateInput, responses=MessageOutput)
    def patch(self, request: Request, chat_id: int, message_id: int) -> Response:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        message = message_in_chat(chat=chat, message_id=message_id)
        data = MessageUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        if "content" in data.validated_data:
            message = message_edit(message=message, content=data.validated_data["content"])
        if "is_hidden" in data.validated_data:
            message = message_set_hidden(message=message, hidden=data.validated_data["is_hidden"])
        return Response(message_payload(message))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, chat_id: int, message_id: int) -> Response:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        message = message_in_chat(chat=chat, message_id=message_id)
        message_delete(message=message)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _GenerateOnMessageApi(APIView):
    mode = ""

    @extend_schema(
        request=StreamInput,
        responses={
            (200, "application/json"): TurnOutput,
            409: OpenApiResponse(description="A reply is already being written in this chat."),
            (200, "text/event-stream"): OpenApiResponse(
                StreamEventOutput, description="With stream: generation_started, token… and done events."
            ),
        },
    )
    def post(self, request: Request, chat_id: int, message_id: int) -> Response | StreamingHttpResponse:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        message = message_in_chat(chat=chat, message_id=message_id)
        data = StreamInput(data=request.data)
        data.is_valid(raise_exception=True)
        start = turn_continue if self.mode == "continue" else turn_regenerate
        turn = _turn(start, chat_id=chat.pk, user_id=request.user.pk, message_id=message.pk)
        if data.validated_data["stream"]:
            return _TurnStream(turn, [])
        return Response(_run_blocking(turn))


class MessageRegenerateApi(_GenerateOnMessageApi):
    """A new swipe for this reply."""

    mode = "regenerate"


class MessageContinueApi(_GenerateOnMessageApi):
    """Carry on writing this reply."""

    mode = "continue"


class MessageSwipeApi(APIView):
    @extend_schema(request=SwipeInput, responses=MessageOutput)
    def post(self, request: Request, chat_id: int, message_id: int) -> Response:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        message = message_in_chat(chat=chat, message_id=message_id)
        data = SwipeInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = message_swipe_select(message=message, index=data.validated_data["index"])
        return Response(message_payload(message))


# ---------------------------------------------------------------- participants


class ParticipantAddApi(APIView):
    @extend_schema(request=ParticipantAddInput, responses={201: ChatOutput})
    def post(self, request: Request, chat_id: int) -> Response:
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
    def _participant(self, request: Request, chat_id: int, character_id: int):  # type: ignore[no-untyped-def]
        from django.http import Http404

        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        participant = next((p for p in chat.participants.all() if p.character_id == character_id), None)
        if participant is None:
            raise Http404
        return chat, participant

    @extend_schema(request=ParticipantUpdateInput, responses=ChatOutput)
    def patch(self, request: Request, chat_id: int, character_id: int) -> Response:
        _, participant = self._participant(request, chat_id, character_id)
        data = ParticipantUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        participant_update(participant=participant, muted=data.validated_data.get("is_muted"))
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        return Response(ChatOutput(chat, context={"request": request}).data)

    @extend_schema(responses={200: ChatOutput})
    def delete(self, request: Request, chat_id: int, character_id: int) -> Response:
        _, participant = self._participant(request, chat_id, character_id)
        participant_update(participant=participant, leave=True)
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        return Response(ChatOutput(chat, context={"request": request}).data)


# ---------------------------------------------------------------- export / import


class ChatExportApi(APIView):
    @extend_schema(responses={(200, "application/jsonl"): bytes})
    def get(self, request: Request, chat_id: int) -> HttpResponse:
        from chats.sillytavern_jsonl import chat_export_jsonl

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
    def post(self, request: Request) -> Response:
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


# ---------------------------------------------------------------- connections, presets, usage


class ConnectionListCreateApi(APIView):
    @extend_schema(
        responses=PolymorphicProxySerializer(
            component_name="ConnectionListItem",
            serializers=[ConnectionOutput, SharedConnectionOutput],
            resource_type_field_name=None,
            many=True,
        )
    )
    def get(self, request: Request) -> Response:
        connections = connections_for_user(user=request.user)
        return Response([connection_output(c, viewer_id=request.user.pk) for c in connections])

    @extend_schema(request=ConnectionInput, responses={201: ConnectionOutput})
    def post(self, request: Request) -> Response:
        data = ConnectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        api_key = values.pop("api_key", None)
        connection = connection_save(owner=request.user, connection=None, data=values, api_key=api_key or "")
        return Response(ConnectionOutput(connection).data, status=status.HTTP_201_CREATED)


class ConnectionDetailApi(APIView):
    @extend_schema(request=ConnectionInput, responses=ConnectionOutput)
    def patch(self, request: Request, connection_id: int) -> Response:
        connection = connection_get_owned(connection_id=connection_id, user=request.user)
        data = ConnectionInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        api_key = values.pop("api_key", None)
        connection = connection_save(owner=request.user, connection=connection, data=values, api_key=api_key)
        return Response(ConnectionOutput(connection).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, connection_id: int) -> Response:
        connection_get_owned(connection_id=connection_id, user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionTestApi(APIView):
    @extend_schema(request=None, responses=ConnectionTestOutput)
    def post(self, request: Request, connection_id: int) -> Response:
        from chats.turn_context import connection_config
        from tavern.ai.chat import connection_test

        connection = connection_get_usable(connection_id=connection_id, user=request.user)
        result = async_to_sync(connection_test)(connection_config(connection))
        if connection.owner_id != request.user.pk:
            # A shared connection's failure names its address or its server's words: not
            # for users. They learn whether it answers; staff see the details.
            message = (
                f"{connection.name} answered."
                if result.ok
                else f"{connection.name} is not answering right now."
            )
            return Response(
                {"ok": result.ok, "latency_ms": result.latency_ms, "message": message, "models": []}
            )
        connection_record_test(connection=connection, ok=result.ok, message=result.message)
        return Response(
            {
                "ok": result.ok,
                "latency_ms": result.latency_ms,
                "message": result.message,
                "models": result.models,
            }
        )


class PresetListCreateApi(APIView):
    @extend_schema(responses=PresetSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(PresetSerializer(presets_for_user(user=request.user), many=True).data)

    @extend_schema(request=PresetSerializer, responses={201: PresetSerializer})
    def post(self, request: Request) -> Response:
        data = PresetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preset = preset_save(owner=request.user, preset=None, data=data.validated_data)
        return Response(PresetSerializer(preset).data, status=status.HTTP_201_CREATED)


class PresetDetailApi(APIView):
    @extend_schema(request=PresetSerializer, responses=PresetSerializer)
    def patch(self, request: Request, preset_id: int) -> Response:
        preset = preset_get_owned(preset_id=preset_id, user=request.user)
        data = PresetSerializer(preset, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        preset = preset_save(owner=request.user, preset=preset, data=data.validated_data)
        return Response(PresetSerializer(preset).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, preset_id: int) -> Response:
        preset_get_owned(preset_id=preset_id, user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class PresetImportApi(APIView):
    @extend_schema(request={"multipart/form-data": FileInput}, responses={201: PresetSerializer})
    def post(self, request: Request) -> Response:
        data = FileInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > PRESET_MAX_BYTES:  # refused before it is read; the service checks too
            raise DomainError(
                f"A preset file is at most {PRESET_MAX_BYTES // (1024 * 1024)} MB.", field="file"
            )
        name = data.validated_data.get("name") or upload.name.rsplit(".", 1)[0]
        preset = preset_import_file(owner=request.user, name=name, data=upload.read())
        return Response(PresetSerializer(preset).data, status=status.HTTP_201_CREATED)


class UsageApi(APIView):
    @extend_schema(responses=dict)
    def get(self, request: Request) -> Response:
        from django.db.models import Count, Sum
        from django.db.models.functions import TruncDate

        days = (
            usage_for_user(user=request.user)
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(
                generations=Count("id"),
                tokens_in=Sum("tokens_in"),
                tokens_out=Sum("tokens_out"),
                cost_micro_usd=Sum("cost_micro_usd"),
            )
            .order_by("-day")[:31]
        )
        return Response({"days": list(days)})
