"""Messages: the page, the send (a turn: SSE stream or the reply at once), edit, hide, delete,
regenerate, continue, swipe."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import async_to_sync
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from chats.generation import GenerationRefused
from chats.payloads import message_payload
from chats.quota import QuotaExceeded
from chats.selectors import chat_get_for_user, message_in_chat, messages_page
from chats.services import message_delete, message_edit, message_set_hidden, message_swipe_select
from chats.turns import Turn, turn_continue, turn_regenerate, turn_send
from tavern.api.errors import DomainError

from ..serializers import (
    DuplicateSendOutput,
    MessageOutput,
    MessagePageOutput,
    MessageSendInput,
    MessageUpdateInput,
    SendOutput,
    StreamEventOutput,
    StreamInput,
    SwipeInput,
    TurnOutput,
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


class MessageListSendApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("before", int),
            OpenApiParameter("after", int),
            OpenApiParameter("limit", int),
        ],
        responses=MessagePageOutput,
    )
    def get(self, request: AuthenticatedRequest, chat_id: int) -> Response:
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
    def post(self, request: AuthenticatedRequest, chat_id: int) -> Response | StreamingHttpResponse:
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
    def patch(self, request: AuthenticatedRequest, chat_id: int, message_id: int) -> Response:
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
    def delete(self, request: AuthenticatedRequest, chat_id: int, message_id: int) -> Response:
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
    def post(
        self, request: AuthenticatedRequest, chat_id: int, message_id: int
    ) -> Response | StreamingHttpResponse:
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
    def post(self, request: AuthenticatedRequest, chat_id: int, message_id: int) -> Response:
        chat = chat_get_for_user(chat_id=chat_id, user=request.user)
        message = message_in_chat(chat=chat, message_id=message_id)
        data = SwipeInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = message_swipe_select(message=message, index=data.validated_data["index"])
        return Response(message_payload(message))
