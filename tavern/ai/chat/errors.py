"""Why a connection failed, said so that a user knows what to fix.

Every failure names its connection ("OpenRouter: the API key was refused (401)"),
because with fallback a user may have several and needs to know which one to fix.
Where the connection points is named only when its users may know it
(`ChatConnectionConfig.address_shown`): a shared connection's failures say what
went wrong, not where.
"""

from __future__ import annotations

import json
import math
import re
import socket
import ssl
from collections.abc import Iterator, Mapping, Sequence
from typing import Literal, TypeVar

import anyio
import httpx2
import openai

from tavern.ai.chat.config import ChatConnectionConfig
from tavern.outbound import OutboundAddressRefused

# What a request to a connection raises: the client's errors, and the outbound
# guard's refusal (raised outside them so that the client does not retry it).
REQUEST_ERRORS = (openai.OpenAIError, OutboundAddressRefused)

FailureKind = Literal[
    "auth",
    "forbidden",
    "no_credit",
    "model_not_found",
    "not_found",
    "rate_limited",
    "context_too_long",
    "bad_request",
    "server_error",
    "timeout",
    "connection",
    "provider_error",
    "protocol",
    "address_refused",
]

_ErrorT = TypeVar("_ErrorT", bound=BaseException)

_PROVIDER_MESSAGE_LIMIT = 200
_CONTEXT_TOO_LONG = re.compile(
    r"context[ _](length|window)|maximum context|too many tokens|prompt is too long", re.IGNORECASE
)
_UNKNOWN_MODEL_PHRASES = (
    "does not exist",
    "not found",
    "not a valid model",
    "invalid model",
    "unknown model",
    "no such model",
)


class ChatProviderError(Exception):
    """A chat connection failed; `message` is written for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProviderRequestFailed(ChatProviderError):
    """A connection failed before its reply started: nothing was shown, so another may answer."""

    def __init__(self, *, label: str, kind: FailureKind, reason: str, status_code: int | None = None) -> None:
        super().__init__(f"{label}: {reason}")
        self.label = label
        self.kind = kind
        self.reason = reason
        self.status_code = status_code


class ProviderStreamBroken(ChatProviderError):
    """The reply broke off after part of it was shown; it is not retried, which would repeat that part."""

    def __init__(
        self,
        partial_text: str,
        cause: BaseException,
        *,
        label: str,
        reason: str,
        partial_reasoning: str = "",
    ) -> None:
        super().__init__(f"{label}: the reply broke off after {len(partial_text)} characters ({reason})")
        self.partial_text = partial_text
        self.partial_reasoning = partial_reasoning
        self.cause = cause
        self.label = label
        self.reason = reason


class ProviderStreamEnded(Exception):
    """The stream ended without a finish_reason: cut short, not a whole reply."""


class AllProvidersFailed(ChatProviderError):
    """No connection answered; `failures` holds one per connection, in the order tried."""

    def __init__(self, failures: Sequence[ProviderRequestFailed]) -> None:
        self.failures = tuple(failures)
        if self.failures:
            message = "No connection answered. " + " ".join(
                f"{failure.message.rstrip('.')}." for failure in self.failures
            )
        else:
            message = "No chat connection is configured."
        super().__init__(message)

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(failure.message for failure in self.failures)


def request_failure(config: ChatConnectionConfig, error: BaseException) -> ProviderRequestFailed:
    kind, reason, status_code = describe_failure(config, error)
    return ProviderRequestFailed(label=config.label, kind=kind, reason=reason, status_code=status_code)


class ChunkNotAnObject(ValueError):
    """A stream event whose data is JSON, but not a chat completion chunk (an object)."""


def describe_failure(
    config: ChatConnectionConfig, error: BaseException
) -> tuple[FailureKind, str, int | None]:
    """(kind, reason for the user, HTTP status) of an error raised by the openai client."""
    if isinstance(error, OutboundAddressRefused):
        if not config.address_shown:
            # The refusal's reason names the host and the address it resolved to.
            return "address_refused", f"this server does not connect to {_address(config)}", None
        return "address_refused", f"this server does not connect to {config.base_url}: {error.reason}", None
    if isinstance(error, openai.APIStatusError):
        kind, reason = _describe_status(config, error)
        return kind, reason, error.status_code
    if isinstance(error, openai.APITimeoutError):
        if _find_in_chain(error, httpx2.ConnectTimeout) is not None:
            return (
                "connection",
                f"could not connect to {_address(config)} (no answer within {_seconds(config.connect_timeout)} s)",
                None,
            )
        return "timeout", f"timed out after {_seconds(config.timeout_seconds)} s", None
    if isinstance(error, openai.APIConnectionError):
        return "connection", _describe_connection(config, error), None
    if isinstance(error, openai.APIResponseValidationError):
        return "protocol", "the server's answer is not a chat completion", None
    if isinstance(error, openai.APIError):
        # An error event inside a 200 stream, as OpenRouter sends when the upstream fails.
        return "provider_error", f"the provider reported an error: {_shorten(error.message)}", None
    if isinstance(error, json.JSONDecodeError):
        return "protocol", "the server's stream is not valid JSON", None
    if isinstance(error, ChunkNotAnObject):
        return "protocol", "the server's answer is not a chat completion", None
    if isinstance(error, ProviderStreamEnded):
        return "protocol", "the stream ended before the model said it was finished", None
    return (
        "protocol",
        f"the request failed ({type(error).__name__}{_detail(config, error, prefix=': ')})",
        None,
    )


def _describe_status(config: ChatConnectionConfig, error: openai.APIStatusError) -> tuple[FailureKind, str]:
    status = error.status_code
    message = _provider_message(error)
    lowered = message.lower()
    code = error.code or ""
    if status == 401:
        return "auth", "the API key was refused (401)"
    if status == 402:
        return "no_credit", "the account has no credit left (402)"
    if status == 403:
        return "forbidden", f"access was denied (403): {message}"
    if status == 404:
        if code == "model_not_found" or "model" in lowered:
            return "model_not_found", f"the model '{config.model}' does not exist (404)"
        if not config.address_shown:
            return "not_found", f"nothing answers at {_address(config)} (404)"
        return "not_found", f"nothing answers at {config.chat_completions_url} (404); check the base URL"
    if status == 408:
        return "timeout", "the provider timed out (408)"
    if status == 429:
        if code == "insufficient_quota":
            return "no_credit", "the account has no credit left (429)"
        return "rate_limited", f"rate limited (429), try again {_retry_after(error.response)}"
    if status in (400, 413, 422):
        if code == "context_length_exceeded" or _CONTEXT_TOO_LONG.search(message):
            return "context_too_long", f"the prompt is longer than the model's context ({status})"
        if code == "model_not_found" or (
            "model" in lowered and any(phrase in lowered for phrase in _UNKNOWN_MODEL_PHRASES)
        ):
            return "model_not_found", f"the model '{config.model}' does not exist ({status})"
        return "bad_request", f"the request was refused ({status}): {message}"
    if status in (502, 503, 504):
        return "server_error", f"the provider is unavailable ({status}), try again later"
    if status >= 500:
        return "server_error", f"the provider had an internal error ({status})"
    return "bad_request", f"the request failed ({status}): {message}"


def _address(config: ChatConnectionConfig) -> str:
    return config.base_url if config.address_shown else "the shared server"


def _detail(config: ChatConnectionConfig, error: BaseException, *, prefix: str = "") -> str:
    """The low-level error's own words, which may name the host: only where the address may be named."""
    return f"{prefix}{_shorten(str(error))}" if config.address_shown else ""


def _describe_connection(config: ChatConnectionConfig, error: BaseException) -> str:
    where = _address(config)
    if _find_in_chain(error, ConnectionRefusedError) is not None:
        return f"could not connect to {where} (connection refused)"
    if _find_in_chain(error, socket.gaierror) is not None:
        return f"could not connect to {where} (host not found)"
    tls_error = _find_in_chain(error, ssl.SSLError)
    if tls_error is not None:
        return f"could not connect to {where} (TLS error{_detail(config, tls_error, prefix=': ')})"
    connect_error = _find_in_chain(error, httpx2.ConnectError)
    if connect_error is not None:
        detail = _detail(config, connect_error)
        return f"could not connect to {where}" + (f" ({detail})" if detail else "")
    if (
        _find_in_chain(error, httpx2.RemoteProtocolError) is not None
        or _find_in_chain(error, httpx2.ReadError) is not None
        or _find_in_chain(error, anyio.EndOfStream) is not None
    ):
        return "the connection dropped"
    cause = error.__cause__ or error
    return f"the connection failed ({type(cause).__name__}{_detail(config, cause, prefix=': ')})"


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _find_in_chain(error: BaseException, error_type: type[_ErrorT]) -> _ErrorT | None:
    for link in _chain(error):
        if isinstance(link, error_type):
            return link
    return None


def _provider_message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, str) and message.strip():
            return _shorten(message)
    if isinstance(body, str) and body.strip():
        return _shorten(body)
    return _shorten(error.message)


def _retry_after(response: httpx2.Response) -> str:
    """When to try again, from the Retry-After header (seconds) if the provider sent one."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return "in a minute"
    if not math.isfinite(seconds) or seconds <= 0:
        return "in a minute"
    if seconds < 60:
        return f"in {math.ceil(seconds)} s"
    if seconds < 3600:
        return f"in {math.ceil(seconds / 60)} min"
    return "later"


def _seconds(value: float) -> str:
    return f"{value:g}"


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= _PROVIDER_MESSAGE_LIMIT:
        return text
    return text[: _PROVIDER_MESSAGE_LIMIT - 1].rstrip() + "…"
