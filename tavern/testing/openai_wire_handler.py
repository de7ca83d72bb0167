"""The request handler behind OpenAIWireServer: routing, OpenAI's answers, streaming.

Shared state lives in one WireState behind one lock, because the server
answers each connection on its own thread.
"""

from __future__ import annotations

import itertools
import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tavern.ai.tokenizer import count_tokens, truncate_to_tokens
from tavern.testing import openai_wire_payloads as payloads

DEFAULT_MODEL_IDS = ("gpt-4o-mini", "text-embedding-3-small")
CHAT_COMPLETIONS_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"
MODELS_PATH = "/v1/models"


@dataclass(frozen=True)
class ScriptedReply:
    text: str
    chunk_delay: float = 0.0
    fail_after_chunks: int | None = None
    end_after_chunks: int | None = None
    status: int | None = None
    error_body: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ScriptedPage:
    """A raw answer (any content type), for servers that do not speak the protocol."""

    body: bytes
    content_type: str
    status: int = 200
    cut_after_bytes: int | None = None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any


@dataclass
class WireState:
    """Everything the handler threads share, behind one lock."""

    api_key: str | None
    model_ids: list[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    chat_script: deque[ScriptedReply] = field(default_factory=deque)
    embeddings_script: deque[ScriptedReply] = field(default_factory=deque)
    models_script: deque[ScriptedPage] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    cancelled_streams: int = 0
    completion_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


class WireHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: WireState) -> None:
        self.state = state
        super().__init__(("127.0.0.1", 0), _OpenAIWireHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing its keep-alive connection is normal; anything else is printed.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _ClientDisconnectedError(Exception):
    """The client closed the connection before the answer was complete."""


class _OpenAIWireHandler(BaseHTTPRequestHandler):
    # Send each chunk at once: Nagle's algorithm would hold the first one ~40 ms.
    disable_nagle_algorithm = True
    server: WireHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, as OpenAI serves
    # Idle keep-alive connections end after this, so handler threads do not outlive a test.
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a test's output is not the place for an access log."""

    # --- routing -----------------------------------------------------------

    def do_GET(self) -> None:
        self._record(body=None)
        if self._path() != MODELS_PATH:
            self._send_error(404, message=f"Invalid URL (GET {self.path})")
            return
        state = self.server.state
        with state.lock:
            page = state.models_script.popleft() if state.models_script else None
        if page is not None:
            self._send_page(page)
        elif self._authorized():
            self._send_json(200, payloads.model_list(state.model_ids))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError:
            self._record(body=raw.decode("utf-8", "replace"))
            self._send_error(400, message="We could not parse the JSON body of your request.")
            return
        self._record(body=body)
        path = self._path()
        if path not in (CHAT_COMPLETIONS_PATH, EMBEDDINGS_PATH):
            self._send_error(404, message=f"Invalid URL (POST {self.path})")
            return
        if not self._authorized():
            return
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            self._send_error(400, message="you must provide a model parameter")
            return
        if path == CHAT_COMPLETIONS_PATH:
            self._chat_completions(body)
        else:
            self._embeddings(body)

    # --- endpoints ---------------------------------------------------------

    def _chat_completions(self, body: dict[str, Any]) -> None:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            self._send_error(400, message="'messages' must be a non-empty array")
            return
        state = self.server.state
        with state.lock:
            reply = state.chat_script.popleft() if state.chat_script else None
            completion_id = f"chatcmpl-wire{next(state.completion_ids)}"
        if reply is None:
            reply = ScriptedReply(text=_default_reply_text(messages))
        if self._sent_scripted_error(reply):
            return
        text, finish_reason = _limit_reply(reply.text, body)
        usage = payloads.chat_usage(messages, text)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream_chat(
                reply=reply,
                completion_id=completion_id,
                model=body["model"],
                text=text,
                finish_reason=finish_reason,
                usage=usage if include_usage else None,
            )
            return
        if reply.fail_after_chunks is not None:
            self._drop_connection()
            return
        self._send_json(
            200,
            payloads.chat_completion(
                completion_id=completion_id,
                model=body["model"],
                text=text,
                finish_reason=finish_reason,
                usage=usage,
            ),
        )

    def _stream_chat(
        self,
        *,
        reply: ScriptedReply,
        completion_id: str,
        model: str,
        text: str,
        finish_reason: str,
        usage: dict[str, Any] | None,
    ) -> None:
        with_usage_field = usage is not None

        def chunk(delta: dict[str, Any] | None, reason: str | None = None) -> dict[str, Any]:
            return payloads.chat_completion_chunk(
                completion_id=completion_id,
                model=model,
                delta=delta,
                finish_reason=reason,
                usage=usage if delta is None else None,
                with_usage_field=with_usage_field,
            )

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            self._send_event(chunk({"role": "assistant", "content": "", "refusal": None}))
            for sent, piece in enumerate(payloads.stream_pieces(text)):
                if reply.fail_after_chunks is not None and sent >= reply.fail_after_chunks:
                    self._drop_connection()
                    return
                if reply.end_after_chunks is not None and sent >= reply.end_after_chunks:
                    self._send_chunk(b"")  # a clean end of the body: no finish_reason, no [DONE]
                    return
                if reply.chunk_delay:
                    time.sleep(reply.chunk_delay)
                self._send_event(chunk({"content": piece}))
            if reply.fail_after_chunks is not None:
                # Asked to fail after at least as many chunks as the reply has: fail at its end.
                self._drop_connection()
                return
            self._send_event(chunk({}, finish_reason))
            if usage is not None:
                self._send_event(chunk(None))
            self._send_chunk(b"data: [DONE]\n\n")
            self._send_chunk(b"")
        except _ClientDisconnectedError:
            with self.server.state.lock:
                self.server.state.cancelled_streams += 1
            self.close_connection = True

    def _embeddings(self, body: dict[str, Any]) -> None:
        state = self.server.state
        with state.lock:
            reply = state.embeddings_script.popleft() if state.embeddings_script else None
        if reply is not None and self._sent_scripted_error(reply):
            return
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if (
            not isinstance(inputs, list)
            or not inputs
            or not all(isinstance(text, str) and text for text in inputs)
        ):
            self._send_error(
                400,
                message="'$.input' is invalid: expected a non-empty string or array of them",
            )
            return
        dimensions = body.get("dimensions", payloads.DEFAULT_EMBEDDING_DIMENSIONS)
        if not isinstance(dimensions, int) or dimensions < 1:
            self._send_error(400, message="'dimensions' must be a positive integer")
            return
        encoding_format = body.get("encoding_format") or "float"
        if encoding_format not in ("float", "base64"):
            self._send_error(400, message="'encoding_format' must be 'float' or 'base64'")
            return
        self._send_json(
            200,
            payloads.embedding_list(
                model=body["model"],
                inputs=inputs,
                dimensions=dimensions,
                encoding_format=encoding_format,
            ),
        )

    # --- plumbing ----------------------------------------------------------

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/")

    def _record(self, *, body: Any) -> None:
        request = RecordedRequest(
            method=self.command,
            path=self._path(),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        with self.server.state.lock:
            self.server.state.requests.append(request)

    def _authorized(self) -> bool:
        expected = self.server.state.api_key
        if expected is None or self.headers.get("Authorization") == f"Bearer {expected}":
            return True
        self._send_error(401)
        return False

    def _sent_scripted_error(self, reply: ScriptedReply) -> bool:
        if reply.status is None or reply.status < 400:
            return False
        if reply.error_body is not None:
            self._send_json(reply.status, dict(reply.error_body))
        else:
            self._send_error(reply.status)
        return True

    def _send_error(self, status: int, *, message: str | None = None) -> None:
        self._send_json(status, payloads.error_body(status, message=message))

    def _send_json(self, status: int, payload: Any) -> None:
        encoded = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(encoded)))
        if status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(encoded)

    def _send_page(self, page: ScriptedPage) -> None:
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        self.end_headers()
        if page.cut_after_bytes is None:
            self.wfile.write(page.body)
            return
        self.wfile.write(page.body[: page.cut_after_bytes])
        self._drop_connection()

    def _send_event(self, payload: dict[str, Any]) -> None:
        self._send_chunk(f"data: {json.dumps(payload)}\n\n".encode())

    def _send_chunk(self, data: bytes) -> None:
        """One piece of a chunked body; an empty one ends the body."""
        try:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError) as error:
            raise _ClientDisconnectedError from error

    def _drop_connection(self) -> None:
        """End the TCP connection mid-answer, as a crashed or cut-off provider does."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _default_reply_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
            if isinstance(content, str) and content.strip():
                return f"You said: {content.strip()}"
    return "Hello from the OpenAI wire server."


def _limit_reply(text: str, body: Mapping[str, Any]) -> tuple[str, str]:
    """The reply cut to max_completion_tokens (or legacy max_tokens), and its finish reason."""
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(limit, int) and count_tokens(text) > limit:
        return truncate_to_tokens(text, limit), "length"
    return text, "stop"
