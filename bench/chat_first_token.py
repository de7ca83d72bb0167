"""Time to first token added by Tavern, over an instant local provider.

A real WebSocket against a real server: daphne runs `tavern.asgi:application` in a
subprocess on a free loopback port (`DATABASE_URL` pointing at this script's own
database `bench_chat_first_token` on the embedded PostgreSQL, the embedded Redis
for live events); the chat's connection is an `OpenAIWireServer` (a thread
of this process) answering at once (`chunk_delay=0`). For each of `--runs` turns
(after a warm-up) the client sends `{"type": "send"}` and times the first `token`
event. The provider's own time to first byte is measured directly against the
wire server (same request shape) and subtracted.

The WebSocket client is a minimal RFC 6455 client on asyncio streams (below):
the `websockets` package is not installed here, and a real socket measures what
a browser waits for, which channels' in-process WebsocketCommunicator does not.

The wire server stamps each streamed chunk with its send time (CLOCK_MONOTONIC,
shared by every process of the machine) after a \\x1e mark, which splits the
added time into: store (send → ack), prepare (ack → generation_started: lock,
turn context, prompt), provider request (→ the wire server sends the first
chunk), and delivery (→ the token reaches the client: stream parse, Redis
append and publish, socket).

    .venv/bin/python -m tavern.embedded run -- .venv/bin/python bench/chat_first_token.py [--runs 200]

Target (shared/PERFORMANCE.md): <= 15 ms p50, <= 50 ms p99.

Isolation from the tests other people run on the same Redis: the chat and user
have ids above 9e9 (group names, live-reply and quota keys cannot meet a test's),
the daphne process uses the channel prefix `tavern-bench:asgi` and queues its
Celery jobs on `tavern-bench.*` (purged at the end), and free-plan limits are off.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tavern.settings.test")

from tavern.task_queues import celery_queue_settings  # noqa: E402 - needs ROOT on sys.path

DB_NAME = "bench_chat_first_token"
BENCH_ID = 9_100_000_001  # user and chat ids; far above any test's
HISTORY = 20
MARK = "\x1e"
BENCH_QUEUE = "tavern-bench"
FIRST_CONTENT = re.compile(rb'"content": "[^"]')  # a delta with text (the role chunk has "")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def django_setup(db_name: str) -> None:
    import django
    from django.conf import settings

    settings.DATABASES["default"]["TEST"] = {"NAME": db_name}
    django.setup()


def bench_database(db_name: str) -> None:
    """Create (or keep) the bench database and point this process at it."""
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)


def database_url(db_name: str) -> str:
    from django.conf import settings

    entry = settings.DATABASES["default"]
    host = str(entry["HOST"])
    if host.startswith("/"):
        return f"postgres://{entry['USER']}@/{db_name}?host={host}&port={entry['PORT']}"
    return f"postgres://{entry['USER']}:{entry['PASSWORD']}@{host}:{entry['PORT']}/{db_name}"


# ---------------------------------------------------------------- the wire server, stamped


def stamp_wire_chunks() -> None:
    """Each streamed content chunk carries its send time: "<text>\\x1e<monotonic ns>\\x1e"."""
    from tavern.testing import openai_wire_handler as wire

    original = wire._OpenAIWireHandler._send_event
    if getattr(original, "stamped", False):
        return
    # The handler writes the headers and the first chunk as two small writes; with Nagle
    # on, the first chunk waits for the client's delayed ACK (~40 ms on Linux).
    wire._OpenAIWireHandler.disable_nagle_algorithm = True

    def send_event(self: Any, payload: dict[str, Any]) -> None:
        choices = payload.get("choices") or []
        delta = choices[0].get("delta") if choices else None
        if delta and delta.get("content"):
            delta["content"] = f"{delta['content']}{MARK}{time.monotonic_ns()}{MARK}"
        original(self, payload)

    send_event.stamped = True  # type: ignore[attr-defined]
    wire._OpenAIWireHandler._send_event = send_event  # type: ignore[method-assign]


def split_stamps(text: str) -> tuple[str, list[int]]:
    """The token text without its stamps, and the stamps (ns)."""
    parts = text.split(MARK)
    words = parts[0::2]
    stamps = [int(p) for p in parts[1::2] if p]
    return "".join(words), stamps


async def provider_ttfb(port: int, runs: int, prompt_chars: int) -> list[float]:
    """The wire server's own time to first content byte: POST, then the first content chunk."""
    body = json.dumps(
        {
            "model": "gpt-4o-mini",
            "stream": True,
            "messages": [
                {"role": "system", "content": "x" * prompt_chars},
                {"role": "user", "content": "Where are we?"},
            ],
        }
    ).encode()
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    samples = []
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for index in range(runs + 10):
        started = time.perf_counter()
        writer.write(request)
        await writer.drain()
        buffer = b""
        first = None
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                raise RuntimeError("the wire server closed the connection")
            buffer += chunk
            if first is None and FIRST_CONTENT.search(buffer):
                first = time.perf_counter()
            if buffer.endswith(b"0\r\n\r\n"):
                break
        if first is None:
            first = time.perf_counter()
        if index >= 10:
            samples.append((first - started) * 1000)
    writer.close()
    return samples


# ---------------------------------------------------------------- a minimal WebSocket client


class WebSocket:
    """RFC 6455 client over asyncio streams: text frames, ping/pong, close. Enough for a bench."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int, path: str) -> WebSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**22)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
        return cls(reader, writer)

    def _frame(self, opcode: int, payload: bytes) -> bytes:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(byte ^ mask[index & 3] for index, byte in enumerate(payload))
        return header + mask + masked

    async def send_json(self, data: dict[str, Any]) -> None:
        self.writer.write(self._frame(0x1, json.dumps(data).encode()))
        await self.writer.drain()

    async def recv(self) -> str | None:
        """The next text message; None when the server closes."""
        parts: list[bytes] = []
        while True:
            first, second = await self.reader.readexactly(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await self.reader.readexactly(length) if length else b""
            if opcode == 0x8:
                return None
            if opcode == 0x9:
                self.writer.write(self._frame(0xA, payload))
                continue
            if opcode in (0x0, 0x1, 0x2):
                parts.append(payload)
                if first & 0x80:
                    return b"".join(parts).decode()

    async def recv_json(self) -> dict[str, Any]:
        text = await self.recv()
        if text is None:
            raise ConnectionError("the server closed the socket")
        return json.loads(text)

    async def close(self) -> None:
        try:
            self.writer.write(self._frame(0x8, struct.pack("!H", 1000)))
            await self.writer.drain()
        except ConnectionError:
            pass
        self.writer.close()


# ---------------------------------------------------------------- daphne


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


DAPHNE_LOG = Path("/tmp") / f"bench-daphne-{os.getpid()}.log"


def daphne_start(db_name: str, *, conn_max_age: int = 60) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = DAPHNE_LOG.open("ab")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tavern.settings.test",
        "DATABASE_URL": database_url(db_name),
        "DATABASE_CONN_MAX_AGE": str(conn_max_age),
        # What production runs: tokens batched (the test settings send one event per token).
        "TOKEN_BATCH_SECONDS": os.environ.get("TOKEN_BATCH_SECONDS", "0.01"),
        "LIMIT_FREE_PER_MINUTE": "0",
        "LIMIT_FREE_TOKENS_PER_DAY": "0",
        "WEBSOCKETS_PER_USER": "100000",  # the bench's chats all belong to one user
    }
    process = subprocess.Popen(  # a fixed argv of our own, no shell
        [sys.executable, str(Path(__file__).resolve()), "--serve", str(port)],
        env=env,
        cwd=str(ROOT),
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("daphne did not start within 60 s")


def daphne_stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    errors = [
        line
        for line in DAPHNE_LOG.read_text(errors="replace").splitlines()
        if "Error" in line or "ERROR" in line
    ]
    if errors:
        print(f"  daphne logged {len(errors)} error line(s), e.g. {errors[-1][:200]!r}; log: {DAPHNE_LOG}")


def serve(port: int) -> None:
    """The daphne subprocess: the test settings, with the bench's channel prefix and queue."""
    import django
    from django.conf import settings

    django.setup()
    # The test settings close connections after each use; the bench keeps them as
    # production does (DATABASE_CONN_MAX_AGE, default 60 s).
    settings.DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
    # redis-py 8 caps a connection pool at 100 connections, fewer than the concurrent
    # generations of the streams bench (MaxConnectionsError in chats.realtime).
    separator = "&" if "?" in settings.REDIS_URL else "?"
    settings.REDIS_URL = f"{settings.REDIS_URL}{separator}max_connections=2000"  # chats.realtime, quota
    for name, value in celery_queue_settings(prefix=BENCH_QUEUE).items():
        setattr(settings, name, value)
    from daphne.cli import CommandLineInterface

    profile_to = os.environ.get("BENCH_DAPHNE_PROFILE")  # a path: cProfile the server's main thread
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        CommandLineInterface().run(["-b", "127.0.0.1", "-p", str(port), "-v", "0", "tavern.asgi:application"])
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile_to)


def celery_queue_purge() -> int:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    queues = list(celery_queue_settings(prefix=BENCH_QUEUE)["CELERY_TASK_QUEUES"])
    queued = sum(int(client.llen(queue)) for queue in queues)
    client.delete(*queues)
    return queued


# ---------------------------------------------------------------- data


def build(base_url: str) -> Any:
    from accounts.models import User
    from characters.models import Character, Persona
    from chats.models import Author, Chat, ChatParticipant, Message, ModelConnection, Swipe

    owner, _ = User.objects.get_or_create(pk=BENCH_ID, defaults={"username": "bench-first-token"})
    persona, _ = Persona.objects.get_or_create(owner=owner, name="Bo", defaults={"description": "A sailor."})
    character, _ = Character.objects.get_or_create(
        owner=owner,
        slug="aria",
        defaults={
            "name": "Aria",
            "description": "Aria is the harbour pilot of Kelmoor, dry and patient. " * 8,
            "personality": "dry, patient, loyal",
            "scenario": "A storm is coming in over the harbour.",
            "first_mes": "The lantern swings as Aria looks up from her charts.",
        },
    )
    connection, _ = ModelConnection.objects.update_or_create(
        owner=owner,
        name="Wire (instant)",
        defaults={
            "base_url": base_url,
            "model": "gpt-4o-mini",
            "context_size": 8192,
            "max_reply_tokens": 300,
        },
    )
    chat, created = Chat.objects.get_or_create(
        pk=BENCH_ID, defaults={"owner": owner, "title": "bench first token", "persona": persona}
    )
    Chat.objects.filter(pk=chat.pk).update(connection=connection)
    if created:
        ChatParticipant.objects.create(chat=chat, character=character)
    # the same chat each run: HISTORY messages, no memories
    Message.objects.filter(chat=chat, position__gt=HISTORY).delete()
    if not Message.objects.filter(chat=chat).exists():
        for position in range(1, HISTORY + 1):
            is_user = position % 2 == 0
            text = ("Is the channel clear tonight? " if is_user else "Clear as it gets before a storm. ") * 4
            message = Message.objects.create(
                chat=chat,
                position=position,
                author=Author.USER if is_user else Author.CHARACTER,
                character=None if is_user else character,
                name="Bo" if is_user else "Aria",
                content=text,
                token_count=len(text.split()) * 4 // 3,
            )
            Swipe.objects.create(message=message, index=0, content=text, token_count=message.token_count)
    Chat.objects.filter(pk=chat.pk).update(last_position=HISTORY, message_count=HISTORY)
    return owner, chat


def socket_path(owner: Any, chat_id: int) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    return f"/ws/chats/{chat_id}/?token={AccessToken.for_user(owner)}"


# ---------------------------------------------------------------- the turns


async def turns(port: int, path: str, runs: int, warm: int) -> dict[str, list[float]]:
    ws = await WebSocket.connect(port, path)
    figures: dict[str, list[float]] = {key: [] for key in ("first", "store", "prepare", "request", "deliver")}
    errors: dict[str, int] = {}
    stamp = time.time_ns()
    for turn in range(warm + runs):
        sent = time.monotonic_ns()
        await ws.send_json(
            {"type": "send", "content": f"Where are we now, Aria? ({turn})", "client_id": f"ft{stamp}-{turn}"}
        )
        ack = started = first = provider = None
        while True:
            event = await asyncio.wait_for(ws.recv_json(), timeout=30)
            now = time.monotonic_ns()
            kind = event["type"]
            if kind == "ack":
                ack = now
            elif kind == "generation_started":
                started = now
            elif kind == "token" and first is None:
                first = now
                _, stamps = split_stamps(event["text"])
                provider = stamps[0] if stamps else None
            elif kind == "done":
                break
            elif kind == "error":
                errors[event.get("code", "?")] = errors.get(event.get("code", "?"), 0) + 1
                break
        if turn >= warm and None not in (ack, started, first, provider):
            figures["first"].append((first - sent) / 1e6)
            figures["store"].append((ack - sent) / 1e6)
            figures["prepare"].append((started - ack) / 1e6)
            figures["request"].append((provider - started) / 1e6)
            figures["deliver"].append((first - provider) / 1e6)
        await asyncio.sleep(0.05)  # the server unlocks the chat just after "done"
    await ws.close()
    if errors:
        print(f"  errors: {errors}")
    return figures


def row(label: str, samples: list[float]) -> None:
    print(
        f"  {label:<58} {statistics.median(samples):7.2f} / {percentile(samples, 95):7.2f} / "
        f"{percentile(samples, 99):7.2f}"
    )


def run(runs: int, warm: int, conn_max_age: int) -> None:
    from tavern.testing.openai_wire_server import OpenAIWireServer

    stamp_wire_chunks()
    with OpenAIWireServer() as wire:
        owner, chat = build(wire.base_url)
        ttfb = asyncio.run(provider_ttfb(wire.port, runs, prompt_chars=2000))
        process, port = daphne_start(DB_NAME, conn_max_age=conn_max_age)
        try:
            figures = asyncio.run(turns(port, socket_path(owner, chat.pk), runs, warm))
        finally:
            daphne_stop(process)
    provider = statistics.median(ttfb)
    added = [value - provider for value in figures["first"]]
    print(
        f"\n{len(figures['first'])} turns (after {warm} warm-up) over a real WebSocket to daphne; "
        f"DATABASE_CONN_MAX_AGE={conn_max_age}; times in ms (median / p95 / p99)"
    )
    row("provider's own time to first content byte (direct)", ttfb)
    row("send → first token (client)", figures["first"])
    row("time to first token ADDED by Tavern (minus provider median)", added)
    print("  where it goes (medians of each segment):")
    row("  store: send → ack (quota, user message stored)", figures["store"])
    row("  prepare: ack → generation_started (lock, turn context)", figures["prepare"])
    row("  request: → wire server sends first chunk (HTTP, provider)", figures["request"])
    row("  deliver: → token at the client (parse, Redis, socket)", figures["deliver"])
    print(f"  celery jobs queued on '{BENCH_QUEUE}.*' by the turns, purged: {celery_queue_purge()}")
    print(
        f"RESULT p50_ms={statistics.median(added):.1f} p99_ms={percentile(added, 99):.1f} "
        f"store_ms={statistics.median(figures['store']):.1f} prepare_ms={statistics.median(figures['prepare']):.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--conn-max-age", type=int, default=60, help="DATABASE_CONN_MAX_AGE for daphne")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # internal: be the daphne process
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    django_setup(DB_NAME)
    bench_database(DB_NAME)
    run(args.runs, args.warm, args.conn_max_age)


if __name__ == "__main__":
    main()
