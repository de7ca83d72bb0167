"""Async Django views (not DRF) so that a reply streams natively under ASGI."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User
from characters.models import Character
from characters.selectors import character_get_by_reference
from chats.quota import QuotaExceeded, quota_check
from tavern.ai.chat import AllProvidersFailed, ProviderStreamBroken

from .authentication import request_user
from .completion import CompletionRun
from .context import completion_context_load
from .errors import OpenAIError, error_body
from .responses import (
    SSE_DONE,
    CompletionIdentity,
    chunk_payload,
    completion_payload,
    model_payload,
    sse_data,
)
from .selectors import model_characters
from .validation import CompletionRequest, completion_request_parse

logger = logging.getLogger(__name__)

View = Callable[..., Awaitable[HttpResponse]]


def openai_endpoint(method: str) -> Callable[[View], View]:
    """CSRF-exempt (API keys, never cookies), one method, every failure in OpenAI's shape."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        async def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != method:
                response = OpenAIError(
                    405, f"{request.method} is not allowed here; use {method}.", code="method_not_allowed"
                ).response()
                response["Allow"] = method
                return response
            try:
                return await view(request, *args, **kwargs)
            except OpenAIError as error:
                return error.response()
            except Exception:
                logger.exception("OpenAI-compatible API failed")
                return JsonResponse(
                    error_body(
                        "Something went wrong on our side. It has been logged.",
                        type="server_error",
                        code="server_error",
                    ),
                    status=500,
                )

        return csrf_exempt(wrapped)

    return decorate


@openai_endpoint("GET")
async def models_list(request: HttpRequest) -> HttpResponse:
    user = await request_user(request)
    characters = await sync_to_async(list)(model_characters(user=user))
    return JsonResponse(
        {"object": "list", "data": [model_payload(c, owner=user.username) for c in characters]}
    )


@openai_endpoint("GET")
async def model_detail(request: HttpRequest, model: str) -> HttpResponse:
    user = await request_user(request)
    character = await _character(model, user)
    return JsonResponse(model_payload(character, owner=user.username))


@openai_endpoint("POST")
async def chat_completions(request: HttpRequest) -> HttpResponse:
    user = await request_user(request)
    try:
        body = request.body
    except RequestDataTooBig as error:
        raise OpenAIError(413, "The request body is too large.", code="request_too_large") from error
    completion = completion_request_parse(body)
    character = await _character(completion.model, user)
    await _quota_check(user)
    context = await sync_to_async(completion_context_load)(user=user, character=character, request=completion)
    run = CompletionRun(user=user, context=context)
    try:
        await run.start()
    except AllProvidersFailed as failed:
        await run.settle()
        raise _provider_failed(failed.message) from failed
    identity = CompletionIdentity(model=character.slug)
    if completion.stream:
        response = StreamingHttpResponse(
            _completion_events(run, identity, completion), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response
    try:
        async for _text in run.texts():
            pass
    except ProviderStreamBroken as broken:
        raise _provider_failed(broken.message) from broken
    finally:
        await run.settle()
    return JsonResponse(
        completion_payload(identity, text=run.text, finish_reason=run.finish_reason, usage=run.usage())
    )


async def _completion_events(
    run: CompletionRun, identity: CompletionIdentity, completion: CompletionRequest
) -> AsyncIterator[bytes]:
    """The reply as `chat.completion.chunk` events, then `[DONE]`; a break-off ends with an error event."""
    with_usage = completion.include_usage
    try:
        yield sse_data(
            chunk_payload(identity, delta={"role": "assistant", "content": ""}, with_usage_field=with_usage)
        )
        async for text in run.texts():
            yield sse_data(chunk_payload(identity, delta={"content": text}, with_usage_field=with_usage))
        yield sse_data(chunk_payload(identity, finish_reason=run.finish_reason, with_usage_field=with_usage))
        if with_usage:
            yield sse_data(chunk_payload(identity, usage=run.usage(), choices=False))
    except ProviderStreamBroken as broken:
        yield sse_data(_provider_failed(broken.message).body())
        return
    finally:
        await run.settle()
    yield SSE_DONE


async def _character(reference: str, user: User) -> Character:
    try:
        return await sync_to_async(character_get_by_reference)(reference=reference, user=user)
    except Http404:
        # Another user's character looks exactly like a missing one.
        raise OpenAIError(
            404,
            f"The model '{reference}' does not exist: it must be the slug of one of your characters "
            "(GET /v1/models lists them).",
            param="model",
            code="model_not_found",
        ) from None


async def _quota_check(user: User) -> None:
    try:
        await quota_check(user_id=user.pk, tier=user.subscription_tier)
    except QuotaExceeded as exceeded:
        per_minute = exceeded.code == "rate_limited"
        raise OpenAIError(
            429,
            exceeded.message,
            type="requests" if per_minute else "tokens",
            code="rate_limit_exceeded" if per_minute else "quota_exceeded",
            # The daily quota does not come back within a client's retries.
            headers={"Retry-After": str(exceeded.retry_after), "x-should-retry": str(per_minute).lower()},
        ) from exceeded


def _provider_failed(message: str) -> OpenAIError:
    # Our own fallback has tried every connection already: a client retry would only repeat it.
    return OpenAIError(
        502,
        message,
        type="api_error",
        code="provider_failed",
        headers={"x-should-retry": "false"},
    )
