"""The chunks of a streamed chat completion, read straight from the HTTP response.

This is the per-token hot path of every reply, so it is lean: the response's bytes
split into server-sent events here and each event's JSON parsed by orjson into the
dict the caller reads. The openai client still sends the request (its retries,
errors and guarded transport); only the reading of the body is ours. Reading it
through the client's stream layer cost ~4x the CPU per chunk, which at a few hundred
chats was most of a web process.

Server-sent events as the WHATWG spec defines them: lines end with CRLF, LF or CR;
`data:` lines of one event are joined with a newline; a blank line ends the event;
comments (`:`) and fields we do not use (`id:`, `retry:`) are skipped. As in the
openai client: `[DONE]` ends the stream, and an event whose JSON carries an `error`
raises `openai.APIError` (providers such as OpenRouter report upstream failures so,
inside a 200 stream). A failure while reading raises the client's own connection or
timeout error, so callers describe it as they do a failed request.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import httpx2
import openai
import orjson

_DONE = b"[DONE]"


async def stream_chunks(response: httpx2.Response) -> AsyncGenerator[Any, None]:
    """Each event's JSON value (usually an object), until `[DONE]` or the end of the body.

    Raises openai.APIError for an error event, orjson.JSONDecodeError (a
    json.JSONDecodeError) for an event that is not JSON, openai.APITimeoutError or
    openai.APIConnectionError when reading fails."""
    decoder = SSEDecoder()
    done = False
    try:
        # After `[DONE]` the rest of an HTTP/1.1 body (usually nothing) is read but not
        # parsed, so that the connection can be reused (as the openai client does).
        async for received in response.aiter_bytes():
            if done:
                continue
            for data in decoder.feed(received):
                if data.startswith(_DONE):
                    if response.http_version != "HTTP/1.1":
                        return  # HTTP/2 keeps the connection without the rest of this stream
                    done = True
                    break
                yield _chunk(data, response)
        for data in () if done else decoder.end():
            if data.startswith(_DONE):
                return
            yield _chunk(data, response)
    except httpx2.TimeoutException as error:
        raise openai.APITimeoutError(request=response.request) from error
    except httpx2.TransportError as error:
        raise openai.APIConnectionError(request=response.request) from error


def _chunk(data: bytes, response: httpx2.Response) -> Any:
    chunk = orjson.loads(data)
    if isinstance(chunk, dict) and chunk.get("error"):
        error = chunk["error"]
        message = error.get("message") if isinstance(error, dict) else None
        if not message or not isinstance(message, str):
            message = "An error occurred during streaming"
        raise openai.APIError(message=message, request=response.request, body=error)
    return chunk


class SSEDecoder:
    """Bytes in (any split), each event's data out."""

    __slots__ = ("_data", "_pending")

    def __init__(self) -> None:
        self._pending = b""  # the start of a line whose end has not arrived
        self._data: list[bytes] = []  # the data lines of the event being read

    def feed(self, received: bytes) -> list[bytes]:
        text = self._pending + received if self._pending else received
        lines = text.splitlines(keepends=True)
        last = lines[-1] if lines else b""
        # An unfinished line waits for the rest; so does a final CR, whose LF may follow.
        if last and (not last.endswith((b"\n", b"\r")) or last.endswith(b"\r")):
            self._pending = lines.pop()
        else:
            self._pending = b""
        events: list[bytes] = []
        for line in lines:
            self._line(line.rstrip(b"\r\n"), events)
        return events

    def end(self) -> list[bytes]:
        """The body ended: a last event without its blank line still counts."""
        events: list[bytes] = []
        if self._pending:
            self._line(self._pending.rstrip(b"\r\n"), events)
            self._pending = b""
        self._line(b"", events)
        return events

    def _line(self, line: bytes, events: list[bytes]) -> None:
        if not line:
            if self._data:
                events.append(b"\n".join(self._data))
                self._data = []
            return
        if line.startswith(b"data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
        # Comments (":"), "event:", "id:", "retry:" and unknown fields: nothing we use.
