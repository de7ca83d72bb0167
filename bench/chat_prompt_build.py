"""Prompt build for one turn of a big chat: `chats.turn_context.turn_context_load(mode="send")`
end to end (database reads, lorebook activation, memory recall with the query
embedding, the builder), and the pure `prompt_build` part on its own.

Data, in its own database `bench_chat_prompt` on the embedded PostgreSQL (kept
between runs): a chat of 10,000 messages with a character whose book has 1,000
entries (realistic keys: names, multi-word names, a few regexes, some selective
and constant entries), and 100,000 stored memories (MemoryChunk rows, random unit
384-dim vectors): 2,500 of this chat (one per 4 messages, as `chats.memory` cuts
them) and 97,500 of the owner's 39 other chats with the character, recalled with
`cross_chat_memory` on; the HNSW index is built after loading.

    .venv/bin/python -m tavern.embedded run -- .venv/bin/python bench/chat_prompt_build.py [--runs 100]

Prints median / p95 / p99 of the whole load and of its parts (each part timed
inside the real call), then a cProfile of the whole load (`--profile`, default on)
sorted by cumulative time, to say where the time goes.

Target (shared/PERFORMANCE.md): <= 50 ms p50.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tavern.settings.test")

import django
from django.conf import settings

settings.DATABASES["default"]["TEST"] = {"NAME": "bench_chat_prompt"}
django.setup()

import numpy as np  # noqa: E402
from bench_support import FILLER, percentile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

MESSAGES = 10_000
ENTRIES = 1_000
MEMORIES = 100_000
OTHER_CHATS = 39
CHUNK = 4  # messages per memory, as chats.memory.CHUNK_MESSAGES
DIMS = 384
TITLE = "bench prompt"


def vocabulary(rng: random.Random, size: int) -> list[str]:
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def sentence(rng: random.Random, words: list[str], low: int, high: int, names: float = 0.03) -> str:
    text = " ".join(
        rng.choice(words) if rng.random() < names else rng.choice(FILLER)
        for _ in range(rng.randint(low, high))
    )
    return text[0].upper() + text[1:] + "."


def lore_key(rng: random.Random, words: list[str]) -> str:
    roll = rng.random()
    if roll < 0.05:
        return f"/\\b{rng.choice(words)}s?\\b/i"
    if roll < 0.25:
        return f"{rng.choice(words).capitalize()} {rng.choice(words).capitalize()}"
    return rng.choice(words)


def build() -> None:
    from accounts.models import User
    from characters.models import Character, Lorebook, LorebookEntry, Persona
    from chats.models import Author, Chat, ChatParticipant, MemoryChunk, Message, ModelConnection

    if Chat.objects.filter(title=TITLE).exists() and MemoryChunk.objects.count() >= MEMORIES:
        print("data: chat, book and memories already in bench_chat_prompt")
        return
    print("data: building …", flush=True)
    started = time.perf_counter()
    Chat.objects.all().delete()
    rng = random.Random(7)
    words = vocabulary(rng, 3000)
    owner, _ = User.objects.get_or_create(username="bench-prompt", defaults={"display_name": "Bo"})
    persona, _ = Persona.objects.get_or_create(
        owner=owner,
        name="Bo",
        defaults={"description": "Bo is a sailor who owes the harbourmaster money.", "is_default": True},
    )
    book, _ = Lorebook.objects.get_or_create(owner=owner, name="Harbour lore")
    book.entries.all().delete()
    entries = []
    for uid in range(ENTRIES):
        selective = rng.random() < 0.15
        entries.append(
            LorebookEntry(
                lorebook=book,
                sort_index=uid,
                uid=uid,
                keys=[lore_key(rng, words) for _ in range(rng.randint(1, 4))],
                secondary_keys=[rng.choice(words) for _ in range(rng.randint(1, 3))] if selective else [],
                selective=selective,
                comment=f"entry {uid}",
                content=sentence(rng, words, 30, 80, names=0.05),
                constant=rng.random() < 0.01,
                order=rng.randint(1, 200),
                position=rng.choice(["before_char", "after_char", "at_depth", "an_top", "an_bottom"]),
                probability=100 if rng.random() < 0.9 else rng.randint(10, 90),
                group=rng.choice(["", "", "", "", "weather", "mood"]),
            )
        )
    LorebookEntry.objects.bulk_create(entries, batch_size=500)
    character, _ = Character.objects.update_or_create(
        owner=owner,
        slug="aria",
        defaults={
            "name": "Aria",
            "description": "Aria is the harbour pilot of Kelmoor. " + sentence(rng, words, 120, 160),
            "personality": "dry, patient, fiercely loyal",
            "scenario": "A storm is coming in over the harbour of Kelmoor.",
            "mes_example": "<START>\n{{user}}: Is the channel clear?\n{{char}}: Clear as it gets before a storm.",
            "first_mes": "The lantern swings as Aria looks up from her charts.",
            "book": book,
        },
    )
    connection_row, _ = ModelConnection.objects.get_or_create(
        owner=owner,
        name="Bench 16k",
        defaults={
            "base_url": "http://127.0.0.1:9/v1",
            "model": "bench-model",
            "context_size": 16384,
            "max_reply_tokens": 512,
        },
    )
    chat = Chat.objects.create(
        owner=owner, title=TITLE, persona=persona, connection=connection_row, cross_chat_memory=True
    )
    ChatParticipant.objects.create(chat=chat, character=character)
    rows = []
    for position in range(1, MESSAGES + 1):
        is_user = position % 2 == 0
        text = sentence(rng, words, 15, 120)
        rows.append(
            Message(
                chat=chat,
                position=position,
                author=Author.USER if is_user else Author.CHARACTER,
                character=None if is_user else character,
                name="Bo" if is_user else "Aria",
                content=text,
                token_count=len(text.split()) * 4 // 3,
            )
        )
    Message.objects.bulk_create(rows, batch_size=2000)
    Chat.objects.filter(pk=chat.pk).update(last_position=MESSAGES, message_count=MESSAGES)
    others = Chat.objects.bulk_create(
        Chat(owner=owner, title=f"{TITLE} other {i}") for i in range(OTHER_CHATS)
    )
    print(f"  chat, book, 10,000 messages: {time.perf_counter() - started:.1f} s; memories …", flush=True)

    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS chats_memory_embedding_hnsw")
    vectors_rng = np.random.default_rng(7)
    texts = [r.content for r in rows]
    per_chat = MESSAGES // CHUNK
    batch = 5000
    made = 0
    targets = [chat, *others]
    while made < MEMORIES:
        size = min(batch, MEMORIES - made)
        vectors = vectors_rng.normal(0, 1, (size, DIMS)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        chunks = []
        for i in range(size):
            n = made + i
            target, index = targets[n // per_chat], n % per_chat
            start = index * CHUNK + 1
            text = "\n".join(
                f"{'Bo' if (start + k) % 2 == 0 else 'Aria'}: {texts[(n * CHUNK + k) % MESSAGES]}"
                for k in range(CHUNK)
            )
            chunks.append(
                MemoryChunk(
                    owner=owner,
                    chat=target,
                    character=character,
                    position_start=start,
                    position_end=start + CHUNK - 1,
                    text=text[:2000],
                    embedding=vectors[i],
                )
            )
        MemoryChunk.objects.bulk_create(chunks, batch_size=1000)
        made += size
        print(f"  {made}/{MEMORIES}", flush=True)
    print("  building the HNSW index …", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute(
            "CREATE INDEX chats_memory_embedding_hnsw ON chats_memorychunk "
            "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
        )
        for table in ("chats_memorychunk", "chats_message", "characters_lorebookentry", "chats_chat"):
            cursor.execute(f"ANALYZE {table}")
    print(f"data: built in {time.perf_counter() - started:.0f} s", flush=True)


class PartTimer:
    """Wraps module functions so each call is timed inside the real turn."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)

    def wrap(self, module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.samples[label].append((time.perf_counter() - started) * 1000)

        setattr(module, name, timed)


def row(label: str, samples: list[float]) -> None:
    print(
        f"  {label:<52} {statistics.median(samples):7.2f} / {percentile(samples, 95):7.2f} / "
        f"{percentile(samples, 99):7.2f}"
    )


def timed_runs(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def lore_projection(chat: Any, runs: int) -> None:
    """What activation would add once `chats.lore.lore_for_turn` is wired: the 1,000
    entries compiled (per turn, or once when cached) and activated over the history."""
    from characters.cards.lorebook.book import Lorebook as CardBook
    from characters.cards.lorebook.book import LorebookEntry as CardEntry
    from characters.models import LorebookEntry
    from chats.models import Message
    from chats.prompting.lorebook import (
        ActivationSettings,
        BookInput,
        ScanMessage,
        lorebook_activate,
        lorebook_compile,
    )

    card_fields = [f for f in CardEntry.__dataclass_fields__ if f != "extra"]
    rows = list(LorebookEntry.objects.filter(lorebook__character__chats=chat).order_by("sort_index"))
    book = CardBook(
        name="Harbour lore", entries=[CardEntry(**{f: getattr(r, f) for f in card_fields}) for r in rows]
    )
    history = [
        ScanMessage(name=m.name, text=m.content, is_user=m.author == "user")
        for m in Message.objects.filter(chat=chat).order_by("-position")[:50]
    ][::-1]
    compile_ms = timed_runs(lambda: lorebook_compile(BookInput(id=1, book=book)), max(10, runs // 5))
    compiled = lorebook_compile(BookInput(id=1, book=book))
    for label, activation in (
        ("depth 2", ActivationSettings(context_tokens=16384)),
        ("depth 10 + recursion", ActivationSettings(scan_depth=10, recursive=True, context_tokens=16384)),
    ):
        samples = timed_runs(
            lambda activation=activation: lorebook_activate(
                books=[compiled],
                history=history,
                settings=activation,
                state={},
                turn=len(history),
                rng=random.Random(1),
            ),
            runs,
        )
        row(f"lorebook_activate, 1,000 entries, {label}", samples)
    row("lorebook_compile, 1,000 entries (per book change)", compile_ms)


def measure(runs: int, profile: bool) -> None:
    import chats.lore
    import chats.turn_context as turn_context
    import tavern.ai.embeddings as embeddings
    from chats.models import Chat, MemoryChunk

    chat = Chat.objects.get(title=TITLE)
    print(
        f"\nchat: {chat.message_count:,} messages; lorebook entries: "
        f"{chat.participants.get().character.book.entries.count():,}; memories: {MemoryChunk.objects.count():,} "
        f"({MemoryChunk.objects.filter(chat=chat).count():,} of this chat)"
    )
    print(f"runs per figure: {runs}; times in ms (median / p95 / p99)")

    def load() -> Any:
        return turn_context.turn_context_load(chat_id=chat.pk, user_id=chat.owner_id, mode="send")

    embeddings.embed_texts(["warm the local model up"])
    context = load()
    for _ in range(4):
        load()
    report = context.prompt.report
    print(
        f"prompt: {len(context.prompt.messages)} messages, {report.used:,}/{report.budget:,} tokens, "
        f"history {report.history_included} in / {report.history_left_out} left out, "
        f"lore {len(report.lore_included)}, memories {report.memories_included}"
    )
    with CaptureQueriesContext(connection) as queries:
        load()
    print(f"queries per turn: {len(queries)}")
    for query in queries.captured_queries:
        if float(query["time"]) * 1000 >= 2:
            print(f"  {float(query['time']) * 1000:6.1f} ms  {query['sql'][:150]}")

    parts = PartTimer()
    parts.wrap(turn_context, "_lorebooks", "  _lorebooks (books + entries read)")
    parts.wrap(chats.lore, "lore_for_turn", "  lore_for_turn (activation)")
    parts.wrap(turn_context, "_memories", "  _memories (recall: exists, embed, HNSW)")
    parts.wrap(embeddings, "embed_texts", "    embed_texts (query embedding, local)")
    parts.wrap(turn_context, "prompt_build", "  prompt_build (pure builder)")
    captured: list[Any] = []
    build_fn = turn_context.prompt_build

    def capture(inputs: Any, **kwargs: Any) -> Any:
        captured[:] = [inputs]
        return build_fn(inputs, **kwargs)

    turn_context.prompt_build = capture
    pauses: list[tuple[int, float]] = []
    gc_started = [0.0]

    def gc_watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], (time.perf_counter() - gc_started[0]) * 1000))

    gc.callbacks.append(gc_watch)
    whole = timed_runs(load, runs)
    gc.callbacks.remove(gc_watch)
    print("\nturn_context_load(mode='send'), end to end, and its parts:")
    row("turn_context_load (whole)", whole)
    for label, samples in parts.samples.items():
        row(label, samples)
    medians = {label: statistics.median(samples) for label, samples in parts.samples.items()}
    embed_label = "    embed_texts (query embedding, local)"
    rest = statistics.median(whole) - sum(v for k, v in medians.items() if k != embed_label)
    print(
        f"  {'  the rest (chat, 2,000 messages read, history, speaker)':<52} {rest:7.2f}  (median, by difference)"
    )

    full = [ms for generation, ms in pauses if generation == 2]
    young = [ms for generation, ms in pauses if generation < 2]
    print(
        f"  garbage collector during those {runs} loads ({len(gc.get_objects()):,} objects tracked): "
        f"{len(full)} full collections, max {max(full, default=0):.0f} ms, "
        f"total {sum(full):.0f} ms; {len(young)} young ones, total {sum(young):.0f} ms"
    )

    from chats.prompting.builder import prompt_build

    inputs = captured[0]
    pure = timed_runs(lambda: prompt_build(inputs), runs)
    row("prompt_build(inputs) alone, same inputs", pure)

    Chat.objects.filter(pk=chat.pk).update(cross_chat_memory=False)
    try:
        own = timed_runs(load, runs)
        row("turn_context_load, cross_chat_memory off (2,500)", own)
    finally:
        Chat.objects.filter(pk=chat.pk).update(cross_chat_memory=True)

    print("\nlorebook activation if wired (chats.lore.lore_for_turn is a stub today):")
    lore_projection(chat, runs)

    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(min(runs, 50)):
            load()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(30)
        print(f"\ncProfile of {min(runs, 50)} loads, top 30 by cumulative time:")
        print("\n".join(out.getvalue().splitlines()[6:]))
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print("top 15 by own time:")
        print("\n".join(out.getvalue().splitlines()[6:]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    args = parser.parse_args()
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)
    build()
    measure(args.runs, args.profile)


if __name__ == "__main__":
    main()
