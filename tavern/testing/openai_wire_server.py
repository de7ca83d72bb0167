"""A local HTTP server that speaks OpenAI's REST protocol, for tests.

Tests point the real `openai` client (and so our provider code) at
`server.base_url` instead of mocking it, and script what the "model" answers:

    with OpenAIWireServer() as server:
        server.script_reply("Hello there.", chunk_delay=0.01)
        server.script_reply("Hel", fail_after_chunks=1)      # connection drops mid-stream
        server.script_reply("", status=429)                   # rate limited
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        ...
        assert server.requests[0].body["messages"][-1]["content"] == "Hi"

Scripted replies answer chat completions in order; once they run out, a
deterministic default answers ("You said: <last user message>"). Streams send
one chunk per word of the reply, so `fail_after_chunks=n` drops the connection
after the first n words. Note the client retries 429 and 5xx answers and
dropped connections unless `max_retries=0`, and each retry takes the next
scripted reply.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from tavern.testing.openai_wire_handler import (
    CHAT_COMPLETIONS_PATH,
    DEFAULT_MODEL_IDS,
    EMBEDDINGS_PATH,
    MODELS_PATH,
    RecordedRequest,
    ScriptedPage,
    ScriptedReply,
    WireHTTPServer,
    WireState,
)

__all__ = [
    "CHAT_COMPLETIONS_PATH",
    "EMBEDDINGS_PATH",
    "MODELS_PATH",
    "OpenAIWireServer",
    "RecordedRequest",
    "ScriptedReply",
]


class OpenAIWireServer:
    """An OpenAI-compatible server on 127.0.0.1 (a free port), served from a background thread."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        model_ids: tuple[str, ...] = DEFAULT_MODEL_IDS,
    ) -> None:
        """`api_key`, when given, is required as a Bearer token, or the server answers 401."""
        self._state = WireState(api_key=api_key, model_ids=list(model_ids))
        self._http_server: WireHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------

    def start(self) -> Self:
        if self._http_server is not None:
            raise RuntimeError("the wire server is already running")
        self._http_server = WireHTTPServer(self._state)
        self._thread = threading.Thread(
            target=self._http_server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"openai-wire-server:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._http_server is None:
            return
        self._http_server.shutdown()
        self._http_server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http_server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._http_server is None:
            raise RuntimeError("the wire server is not running")
        return int(self._http_server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- scripting ---------------------------------------------------------

    def script_reply(
        self,
        text: str,
        *,
        chunk_delay: float = 0.0,
        fail_after_chunks: int | None = None,
        end_after_chunks: int | None = None,
        status: int | None = None,
        error_body: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue the answer to the next chat completion request.

        `chunk_delay` is slept before each streamed word; `fail_after_chunks=n`
        drops the connection after n words (a non-streamed request gets no
        answer at all); `end_after_chunks=n` ends the body cleanly after n words,
        with no finish_reason and no [DONE] (a proxy that cut the stream short); `status` (4xx/5xx) answers OpenAI's error JSON, or
        `error_body` verbatim.
        """
        reply = ScriptedReply(
            text=text,
            chunk_delay=chunk_delay,
            fail_after_chunks=fail_after_chunks,
            end_after_chunks=end_after_chunks,
            status=status,
            error_body=error_body,
        )
        with self._state.lock:
            self._state.chat_script.append(reply)

    def script_embeddings_error(self, status: int, *, error_body: Mapping[str, Any] | None = None) -> None:
        """Answer the next embeddings request with an error instead of vectors."""
        with self._state.lock:
            self._state.embeddings_script.append(ScriptedReply(text="", status=status, error_body=error_body))

    def script_models_page(
        self,
        body: str,
        *,
        content_type: str = "text/html; charset=utf-8",
        cut_after_bytes: int | None = None,
    ) -> None:
        """Answer the next GET /models with `body` as it is: a web page where the API
        should be (a base URL missing its /v1), or a proxy's own answer.
        `cut_after_bytes=n` drops the connection after n bytes of the body."""
        page = ScriptedPage(body=body.encode(), content_type=content_type, cut_after_bytes=cut_after_bytes)
        with self._state.lock:
            self._state.models_script.append(page)

    def reset(self) -> None:
        """Forget scripted replies and recorded requests, for a server shared between tests."""
        with self._state.lock:
            self._state.chat_script.clear()
            self._state.embeddings_script.clear()
            self._state.models_script.clear()
            self._state.requests.clear()
            self._state.cancelled_streams = 0

    # --- what happened -----------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order (a copy)."""
        with self._state.lock:
            return list(self._state.requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Requests to one path, such as "/v1/chat/completions"."""
        return [request for request in self.requests if request.path == path]

    @property
    def pending_replies(self) -> int:
        with self._state.lock:
            return len(self._state.chat_script)

    @property
    def cancelled_streams(self) -> int:
        """Streams the client closed before the end (a user pressing stop)."""
        with self._state.lock:
            return self._state.cancelled_streams
