"""Streamed chat completions from any OpenAI-compatible endpoint, through the official client.

Retries: the openai client retries a request (connection errors, timeouts, 408,
409, 429, 5xx, with backoff and Retry-After) only until the response headers
arrive. Past that point we never retry: once text has been shown, a second
request would repeat it, so a failure raises ProviderStreamBroken with the part
received. A failure after the headers but before any text raises
ProviderRequestFailed, which lets `stream_with_fallback` try the next connection.

Cancellation: the HTTP response is closed in a `finally`, so a consumer that is
cancelled (the user pressed stop) or that closes the iterator (`aclosing`) ends
the request at once and the provider stops generating (and billing).

Speed: the client's retries and errors are kept, but its typed layer and its stream
reader are not on this path. The request body goes as the plain JSON it already is (the
SDK's transform of a long prompt takes ~8 ms on the event loop, stalling every stream),
and the body is read by `sse.stream_chunks`: each chunk the dict orjson made.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai

from tavern.ai.chat.config import NO_API_KEY, ChatConnectionConfig, GenerationParams, chat_request_arguments
from tavern.ai.chat.errors import (
    REQUEST_ERRORS,
    ChunkNotAnObject,
    ProviderRequestFailed,
    ProviderStreamBroken,
    ProviderStreamEnded,
    describe_failure,
    request_failure,
)
from tavern.ai.chat.sse import stream_chunks
from tavern.ai.reply_events import ReasoningDelta, StreamEvent, StreamFinished, TokenDelta, TokenUsage
from tavern.ai.tokenizer import count_message_tokens, count_tokens
from tavern.outbound import GuardedAsyncTransport

# DeepSeek, vLLM and llama.cpp stream reasoning as `reasoning_content`; OpenRouter and Ollama as `reasoning`.
REASONING_FIELDS = ("reasoning_content", "reasoning")

_STREAM_ERRORS = (openai.OpenAIError, json.JSONDecodeError)
ChunkStream = openai.AsyncStream[Any]


@dataclass(frozen=True)
class ChatCompletionResult:
    text: str
    finish_reason: str | None
    usage: TokenUsage | None
    model: str
    reasoning: str = ""


def chat_client(config: ChatConnectionConfig, *, max_retries: int | None = None) -> openai.AsyncOpenAI:
    """An AsyncOpenAI client for `config`; close it (`async with`) when done.

    Its connections go through the outbound guard: a user chose the URL, so it
    must not reach this server's own network (see tavern/outbound/). A refused
    address raises OutboundAddressRefused from the request, never retried.
    """
    http_client = openai.DefaultAsyncHttpxClient(
        transport=GuardedAsyncTransport(limits=openai.DEFAULT_CONNECTION_LIMITS),
        trust_env=False,  # no proxy from the environment: it would resolve the name past the guard
    )
    client = openai.AsyncOpenAI(
        base_url=config.base_url,
        api_key=config.api_key or NO_API_KEY,
        default_headers=dict(config.extra_headers) or None,
        timeout=httpx2.Timeout(config.timeout_seconds, connect=config.connect_timeout),
        max_retries=config.max_retries if max_retries is None else max_retries,
        http_client=http_client,
    )
    # The client fills these from OPENAI_ORG_ID, OPENAI_PROJECT_ID and OPENAI_ADMIN_KEY:
    # the server's own environment must never reach an endpoint that a user chose.
    client.organization = None
    client.project = None
    client.admin_api_key = None
    return client


_SHARED_CLIENTS_PER_LOOP = 128
_shared_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, OrderedDict[tuple[Any, ...], openai.AsyncOpenAI]
] = weakref.WeakKeyDictionary()


_closing: set[asyncio.Task[None]] = set()


def shared_chat_client(config: ChatConnectionConfig) -> openai.AsyncOpenAI:
    """One client per connection and event loop, kept: building one loads the TLS
    certificates (~18 ms on the event loop) and a kept one reuses its connections."""
    loop = asyncio.get_running_loop()
    clients = _shared_clients.setdefault(loop, OrderedDict())
    key = (
        config.base_url,
        config.api_key,
        tuple(sorted(config.extra_headers.items())),
        config.timeout_seconds,
        config.connect_timeout,
        config.max_retries,
    )
    client = clients.get(key)
    if client is None:
        client = clients[key] = chat_client(config)
        while len(clients) > _SHARED_CLIENTS_PER_LOOP:
            _, evicted = clients.popitem(last=False)
            closing = loop.create_task(evicted.close())
            _closing.add(closing)
            closing.add_done_callback(_closing.discard)
    clients.move_to_end(key)
    return client


async def stream_chat(
    config: ChatConnectionConfig,
    messages: Sequence[Mapping[str, Any]],
    params: GenerationParams | None = None,
) -> AsyncIterator[StreamEvent]:
    """The reply as TokenDelta / ReasoningDelta events, ending with one StreamFinished.

    Raises ProviderRequestFailed if the connection fails before any text, and
    ProviderStreamBroken (never retried) if it fails after.
    """
    arguments = chat_request_arguments(config, messages, params or GenerationParams())
    reply = _ReplyInProgress(model=config.model)
    client = shared_chat_client(config)
    stream = await _open_stream(client, config, arguments)
    chunks: AsyncGenerator[Any, None] = stream_chunks(stream.response)
    try:
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except _STREAM_ERRORS as error:
                raise _failure(config, reply, error) from error
            try:
                events = reply.add(chunk)
            except ChunkNotAnObject as error:
                raise _failure(config, reply, error) from error
            for event in events:
                yield event
    finally:
        await chunks.aclose()
        await stream.close()
    if not reply.received_chunk:
        raise ProviderRequestFailed(
            label=config.label, kind="protocol", reason="the server's answer is an empty stream"
        )
    if reply.finish_reason is None:
        # Every server we know ends a reply with a finish_reason: a stream that stops
        # without one was cut short (a proxy, a crashed worker), and is not a whole reply.
        cut = ProviderStreamEnded()
        raise _failure(config, reply, cut) from cut
    yield StreamFinished(
        finish_reason=reply.finish_reason,
        usage=reply.usage or reply.estimated_usage(arguments["messages"]),
        model=reply.model,
    )


async def complete_chat(
    config: ChatConnectionConfig,
    messages: Sequence[Mapping[str, Any]],
    params: GenerationParams | None = None,
) -> ChatCompletionResult:
    """The whole reply at once (the stream, collected), with the same errors as `stream_chat`."""
    text: list[str] = []
    reasoning: list[str] = []
    finished: StreamFinished | None = None
    async with aclosing(stream_chat(config, messages, params)) as events:
        async for event in events:
            if isinstance(event, TokenDelta):
                text.append(event.text)
            elif isinstance(event, ReasoningDelta):
                reasoning.append(event.text)
            elif isinstance(event, StreamFinished):
                finished = event
    if finished is None:  # stream_chat always ends with StreamFinished or raises
        raise RuntimeError("the reply stream ended without StreamFinished")
    return ChatCompletionResult(
        text="".join(text),
        reasoning="".join(reasoning),
        finish_reason=finished.finish_reason,
        usage=finished.usage,
        model=finished.model,
    )


async def _open_stream(
    client: openai.AsyncOpenAI,
    config: ChatConnectionConfig,
    arguments: dict[str, Any],
) -> ChunkStream:
    """Send the request; the client's own retries happen in here, before any text."""
    try:
        return await _post_streaming(client, arguments, include_usage=True)
    except openai.BadRequestError as error:
        # Strict servers (some vLLM and proxy versions) refuse fields they do not know;
        # usage is then counted by us instead.
        if "stream_options" not in str(error.body) + error.message:
            raise request_failure(config, error) from error
    except REQUEST_ERRORS as error:
        raise request_failure(config, error) from error
    try:
        return await _post_streaming(client, arguments, include_usage=False)
    except REQUEST_ERRORS as error:
        raise request_failure(config, error) from error


async def _post_streaming(
    client: openai.AsyncOpenAI, arguments: dict[str, Any], *, include_usage: bool
) -> ChunkStream:
    body = {name: value for name, value in arguments.items() if name != "extra_body"}
    body.update(arguments.get("extra_body") or {})
    body["stream"] = True
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    stream: ChunkStream = await client.post(
        "/chat/completions", body=body, cast_to=object, stream=True, stream_cls=ChunkStream
    )
    return stream


def _failure(
    config: ChatConnectionConfig, reply: _ReplyInProgress, error: BaseException
) -> ProviderRequestFailed | ProviderStreamBroken:
    kind, reason, status_code = describe_failure(config, error)
    if not reply.shown_anything:
        return ProviderRequestFailed(label=config.label, kind=kind, reason=reason, status_code=status_code)
    return ProviderStreamBroken(
        reply.text,
        error,
        label=config.label,
        reason=reason,
        partial_reasoning=reply.reasoning,
    )


@dataclass
class _ReplyInProgress:
    model: str
    received_chunk: bool = False
    finish_reason: str | None = None
    usage: TokenUsage | None = None
    text_parts: list[str] = field(default_factory=list)
    reasoning_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_parts)

    @property
    def shown_anything(self) -> bool:
        return bool(self.text_parts or self.reasoning_parts)

    def add(self, chunk: Any) -> list[StreamEvent]:
        """One chunk, as the JSON object the server sent (fields it leaves out or sends
        as null are absent to us alike)."""
        if not isinstance(chunk, dict):
            raise ChunkNotAnObject(f"a stream event is {type(chunk).__name__}, not an object")
        self.received_chunk = True
        model = chunk.get("model")
        if model and isinstance(model, str):
            self.model = model
        usage = chunk.get("usage")
        if isinstance(usage, dict) and (reported := _reported_usage(usage)) is not None:
            self.usage = reported
        events: list[StreamEvent] = []
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict) or (choice.get("index") or 0) != 0:
                continue
            delta = choice.get("delta")
            if isinstance(delta, dict):
                reasoning = _reasoning_text(delta)
                if reasoning:
                    self.reasoning_parts.append(reasoning)
                    events.append(ReasoningDelta(reasoning))
                # A refusal is what the model said instead of a reply: shown like one.
                text = delta.get("content") or delta.get("refusal")
                if text and isinstance(text, str):
                    self.text_parts.append(text)
                    events.append(TokenDelta(text))
            finish_reason = choice.get("finish_reason")
            if finish_reason and isinstance(finish_reason, str):
                self.finish_reason = finish_reason
        return events

    def estimated_usage(self, messages: list[dict[str, Any]]) -> TokenUsage:
        reasoning_tokens = count_tokens(self.reasoning)
        return TokenUsage(
            prompt_tokens=count_message_tokens(messages),
            completion_tokens=count_tokens(self.text) + reasoning_tokens,
            reasoning_tokens=reasoning_tokens,
            estimated=True,
        )


def _reasoning_text(delta: dict[str, Any]) -> str:
    for name in REASONING_FIELDS:
        value = delta.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def _reported_usage(usage: dict[str, Any]) -> TokenUsage | None:
    """The provider's usage, or None for the all-zero placeholder some servers send."""
    prompt_tokens = _count(usage.get("prompt_tokens"))
    completion_tokens = _count(usage.get("completion_tokens"))
    if not prompt_tokens and not completion_tokens:
        return None
    completion_details = usage.get("completion_tokens_details")
    prompt_details = usage.get("prompt_tokens_details")
    return TokenUsage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        reasoning_tokens=_count(completion_details.get("reasoning_tokens"))
        if isinstance(completion_details, dict)
        else 0,
        cached_prompt_tokens=_count(prompt_details.get("cached_tokens"))
        if isinstance(prompt_details, dict)
        else 0,
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
