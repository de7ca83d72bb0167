"""Concurrent streaming chats: N WebSocket chats (default 200) each receiving a reply
streamed at 50 tokens a second, on this 2-core machine.

Three processes: one daphne serving `tavern.asgi:application` (its database
`bench_chat_streams` through `DATABASE_URL`, the embedded Redis for live events),
an `OpenAIWireServer` process answering every chat with ~100-word replies at
`chunk_delay=0.02` (one word per chunk, 50 a second), and this process running the
N clients (asyncio, one real WebSocket each; the minimal client of
`bench/chat_first_token.py`, the `websockets` package not being installed). Each
client sends a message, reads the reply to `done`, and sends the next, until
`--seconds` (default 30) have passed; then it finishes its reply and stops.

The wire server stamps each chunk with its send time (CLOCK_MONOTONIC, shared by
the processes), so the added delay of each token is exact: its arrival at the
client minus the moment the provider sent it. Printed: tokens delivered per
second (steady state, the first `--ramp` seconds left out), the added delay per
token (median / p95 / p99 / max), and the CPU each process used.

    .venv/bin/python -m tavern.embedded run -- .venv/bin/python bench/chat_concurrent_streams.py [--chats 200]

Target (shared/PERFORMANCE.md): 1,000 chats with p99 added delay <= 50 ms per token.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import chat_first_token as common  # noqa: E402 - the WebSocket client, daphne and stamping

DB_NAME = "bench_chat_streams"
FIRST_ID = 9_200_000_001  # user and chat ids; far above any test's
REPLY_WORDS = int(os.environ.get("BENCH_REPLY_WORDS", "100"))  # --words; the wire subprocess reads it too
HISTORY = 10


def reply_text() -> str:
    words = [
        "the",
        "lantern",
        "swings",
        "over",
        "the",
        "harbour",
        "as",
        "Aria",
        "reads",
        "the",
        "tide",
        "tables",
        "and",
        "the",
        "storm",
        "gathers",
        "beyond",
        "the",
        "breakwater",
        "while",
        "gulls",
        "wheel",
        "low",
        "over",
        "the",
        "grey",
        "water",
    ]
    return " ".join(words[i % len(words)] for i in range(REPLY_WORDS)) + "."


# ---------------------------------------------------------------- the wire server process


def wire_serve(replies: int) -> None:
    from tavern.testing.openai_wire_server import OpenAIWireServer

    common.stamp_wire_chunks()
    server = OpenAIWireServer().start()
    text = reply_text()
    for _ in range(replies):
        server.script_reply(text, chunk_delay=0.02)
    print(server.port, flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    server.stop()


def wire_start(replies: int) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(  # a fixed argv of our own, no shell
        [sys.executable, str(Path(__file__).resolve()), "--wire", str(replies)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(BENCH_DIR.parent),
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tavern.settings.test"},
    )
    port = int(process.stdout.readline())  # type: ignore[union-attr]
    return process, port


def wire_stop(process: subprocess.Popen[str]) -> None:
    process.stdin.close()  # type: ignore[union-attr]
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---------------------------------------------------------------- data


def build(chats: int, base_url: str) -> Any:
    from accounts.models import User
    from characters.models import Character
    from chats.models import Author, Chat, ChatParticipant, Message, ModelConnection

    owner, _ = User.objects.get_or_create(pk=FIRST_ID, defaults={"username": "bench-streams"})
    character, _ = Character.objects.get_or_create(
        owner=owner,
        slug="aria",
        defaults={"name": "Aria", "description": "Aria is the harbour pilot of Kelmoor. " * 6},
    )
    connection, _ = ModelConnection.objects.update_or_create(
        owner=owner,
        name="Wire (50 tokens/s)",
        defaults={
            "base_url": base_url,
            "model": "gpt-4o-mini",
            "context_size": 8192,
            "max_reply_tokens": 300,
        },
    )
    existing = set(Chat.objects.filter(owner=owner).values_list("pk", flat=True))
    wanted = [FIRST_ID + i for i in range(chats)]
    missing = [pk for pk in wanted if pk not in existing]
    if missing:
        print(f"data: {len(missing)} chats …", flush=True)
        made = Chat.objects.bulk_create(
            Chat(pk=pk, owner=owner, title=f"bench stream {pk}") for pk in missing
        )
        ChatParticipant.objects.bulk_create(ChatParticipant(chat=chat, character=character) for chat in made)
    # every run starts from the same short history
    Message.objects.filter(chat__owner=owner).delete()
    Message.objects.bulk_create(
        Message(
            chat_id=pk,
            position=position,
            author=Author.USER if position % 2 == 0 else Author.CHARACTER,
            character=None if position % 2 == 0 else character,
            name="Bo" if position % 2 == 0 else "Aria",
            content="Is the channel clear tonight?"
            if position % 2 == 0
            else "Clear as it gets before a storm.",
            token_count=8,
        )
        for pk in wanted
        for position in range(1, HISTORY + 1)
    )
    Chat.objects.filter(owner=owner).update(
        connection=connection, last_position=HISTORY, message_count=HISTORY, archived_at=None
    )
    return owner, wanted


# ---------------------------------------------------------------- the clients


class Tally:
    def __init__(self) -> None:
        self.arrivals: list[int] = []  # ns, one per token
        self.delays: list[float] = []  # ms, one per token
        self.turns = 0
        self.errors: dict[str, int] = {}
        self.connected = 0
        self.failed = 0


async def client(port: int, path: str, deadline: float, tally: Tally, index: int) -> None:
    await asyncio.sleep(index * 0.01)  # connect over 2 s, as users arrive
    ws = await common.WebSocket.connect(port, path)
    tally.connected += 1
    turn = 0
    try:
        while time.monotonic() < deadline:
            await ws.send_json(
                {
                    "type": "send",
                    "content": f"Tell me about the storm ({turn}).",
                    "client_id": f"s{index}-{turn}-{time.time_ns()}",
                }
            )
            while True:
                event = await asyncio.wait_for(ws.recv_json(), timeout=60)
                kind = event["type"]
                if kind == "token":
                    now = time.monotonic_ns()
                    _, stamps = common.split_stamps(event["text"])
                    for sent in stamps:
                        tally.arrivals.append(now)
                        tally.delays.append((now - sent) / 1e6)
                elif kind == "done":
                    tally.turns += 1
                    break
                elif kind == "error":
                    code = event.get("code", "?")
                    tally.errors[code] = tally.errors.get(code, 0) + 1
                    await asyncio.sleep(0.2)
                    break
            turn += 1
            await asyncio.sleep(0.05)  # the server unlocks the chat just after "done"
    finally:
        await ws.close()


async def clients(ports: list[int], paths: list[str], seconds: float) -> tuple[Tally, float]:
    """The chats' sockets, spread round-robin over the web processes (as a proxy would)."""
    tally = Tally()
    started = time.monotonic()
    deadline = started + seconds
    tasks = [
        asyncio.create_task(client(ports[i % len(ports)], path, deadline, tally, i))
        for i, path in enumerate(paths)
    ]
    done, pending = await asyncio.wait(tasks, timeout=seconds + 90)
    for task in pending:
        task.cancel()
    failures = [task.exception() for task in done if task.exception() is not None]
    tally.failed = len(failures) + len(pending)
    if failures or pending:
        print(
            f"  clients failed: {len(failures)} (e.g. {failures[0]!r})" if failures else "",
            f"unfinished: {len(pending)}",
        )
    return tally, started


def cpu_seconds(process: psutil.Process | ProcessTree) -> float:
    if isinstance(process, ProcessTree):
        return process.seconds()
    times = process.cpu_times()
    return times.user + times.system


def redis_process() -> psutil.Process | None:
    return embedded_process("redis")


def embedded_process(name: str) -> psutil.Process | None:
    from tavern import embedded

    for state in embedded.status():
        if state.name == name and state.running and "pid" in state.detail:
            return psutil.Process(int(state.detail.split("pid ")[1].split(",")[0].split(" ")[0].rstrip(")")))
    return None


class ProcessTree:
    """A server and its children (PostgreSQL's backends), their CPU summed: that of the
    children that exited counts through the parent (psutil's children_* times)."""

    def __init__(self, root: psutil.Process) -> None:
        self.root = root

    def seconds(self) -> float:
        times = self.root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in self.root.children(recursive=True):
            try:
                total += cpu_seconds(child)
            except psutil.NoSuchProcess:
                continue
        return total


def row(label: str, samples: list[float]) -> None:
    print(
        f"  {label:<40} {statistics.median(samples):8.2f} / {common.percentile(samples, 95):8.2f} / "
        f"{common.percentile(samples, 99):8.2f} / {max(samples):8.2f}"
    )


def run(chats: int, seconds: float, ramp: float, conn_max_age: int, web: int) -> None:
    wire, wire_port = wire_start(replies=chats * int(seconds / (REPLY_WORDS / 50) + 10))
    servers: list[subprocess.Popen[bytes]] = []
    try:
        owner, chat_ids = build(chats, f"http://127.0.0.1:{wire_port}/v1")
        paths = [common.socket_path(owner, pk) for pk in chat_ids]
        ports = []
        for _ in range(web):
            server, port = common.daphne_start(DB_NAME, conn_max_age=conn_max_age)
            servers.append(server)
            ports.append(port)
        watched: dict[str, psutil.Process | ProcessTree] = {
            f"web {n + 1}": psutil.Process(server.pid) for n, server in enumerate(servers)
        }
        watched |= {"wire server": psutil.Process(wire.pid), "clients (this)": psutil.Process()}
        redis = redis_process()
        if redis is not None:
            watched["redis"] = redis
        postgres = embedded_process("postgres")
        if postgres is not None:
            watched["postgres"] = ProcessTree(postgres)
        before = {name: cpu_seconds(p) for name, p in watched.items()}
        wall = time.monotonic()
        tally, started = asyncio.run(clients(ports, paths, seconds))
        wall = time.monotonic() - wall
        cpu = {name: (cpu_seconds(p) - before[name]) / wall * 100 for name, p in watched.items()}
    finally:
        for server in servers:
            common.daphne_stop(server)
        wire_stop(wire)

    steady_from = int((started + ramp) * 1e9)
    steady_to = int((started + seconds) * 1e9)
    steady = [d for a, d in zip(tally.arrivals, tally.delays, strict=True) if steady_from <= a < steady_to]
    rate = len(steady) / (seconds - ramp)
    print(
        f"\n{chats} chats ({tally.connected} connected) on {web} web process(es), replies of {REPLY_WORDS} "
        "words at 50 tokens/s "
        f"(offered {chats * 50:,} tokens/s), {seconds:.0f} s run, steady state after {ramp:.0f} s, "
        f"DATABASE_CONN_MAX_AGE={conn_max_age}"
    )
    print(
        f"  replies completed: {tally.turns}; tokens received: {len(tally.delays):,}; errors: {tally.errors or 'none'}"
    )
    print(
        f"  delivered tokens per second (steady): {rate:,.0f} ({rate / (chats * 50) * 100:.0f}% of offered)"
    )
    if steady:
        print("  added delay per token, ms (median / p95 / p99 / max):")
        row("steady state", steady)
        row("whole run", tally.delays)
    print(
        "  CPU over the run (% of one core): "
        + ", ".join(f"{name} {value:.0f}%" for name, value in cpu.items())
    )
    # What a delivered token costs the web processes (turns included), and how much of
    # the machine the whole run took (the bench's own wire server and clients included).
    web_cpu = sum(value for name, value in cpu.items() if name.startswith("web ")) / 100 * wall
    web_us_per_token = web_cpu / len(tally.delays) * 1e6 if tally.delays else float("nan")
    machine_pct = sum(cpu.values()) / (os.cpu_count() or 1)
    print(
        f"  web CPU per delivered token: {web_us_per_token:.0f} µs (turns included); "
        f"the machine was {machine_pct:.0f}% busy, of which the bench's wire server and clients "
        f"{(cpu['wire server'] + cpu['clients (this)']) / (os.cpu_count() or 1):.0f}%"
    )
    load1, _, _ = os.getloadavg()
    print(f"  machine load average (1 min) at the end: {load1:.2f} on {os.cpu_count()} cores")
    print(
        f"  celery jobs queued on '{common.BENCH_QUEUE}' by the turns, purged: {common.celery_queue_purge()}"
    )
    p50 = statistics.median(steady) if steady else float("nan")
    p99 = common.percentile(steady, 99) if steady else float("nan")
    print(
        f"RESULT chats={chats} web={web} words={REPLY_WORDS} offered_tps={chats * 50} delivered_tps={rate:.0f} "
        f"p50_ms={p50:.1f} p99_ms={p99:.1f} turns={tally.turns} failed={tally.failed} "
        f"errors={sum(tally.errors.values())} web_us_per_token={web_us_per_token:.0f} machine_pct={machine_pct:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--ramp", type=float, default=5)
    parser.add_argument("--conn-max-age", type=int, default=60, help="DATABASE_CONN_MAX_AGE for daphne")
    parser.add_argument("--web", type=int, default=1, help="web processes (clients spread round-robin)")
    parser.add_argument(
        "--words", type=int, default=100, help="words per reply (more: fewer turns per second per chat)"
    )
    parser.add_argument("--wire", type=int, help=argparse.SUPPRESS)  # internal: be the wire server
    args = parser.parse_args()
    if args.wire:
        wire_serve(args.wire)
        return
    global REPLY_WORDS
    REPLY_WORDS = args.words
    os.environ["BENCH_REPLY_WORDS"] = str(args.words)
    common.django_setup(DB_NAME)
    common.bench_database(DB_NAME)
    run(args.chats, args.seconds, args.ramp, args.conn_max_age, args.web)


if __name__ == "__main__":
    main()
