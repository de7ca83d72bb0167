"""Store one new message in a long chat: `chats.services.message_append_user` in a chat of
10,000 and of 50,000 messages.

Builds the chats (messages and their swipes, bulk-created) in its own database
`bench_chat_store` on the embedded PostgreSQL, kept between runs (the appended
messages stay too: the figure must not depend on the chat's length). Prints
median / p95 / p99 over `--runs` appends for each chat, for the service alone and
for a socket's send around it (`chats.turns._send_store`, its one trip to the database
thread: the chat, a resend, the quota and the reply's slot in Redis, the append), and
for the reply's context read ahead in the same trip.

    .venv/bin/python -m tavern.embedded run -- .venv/bin/python bench/chat_store_message.py

Target (shared/PERFORMANCE.md): <= 2 ms p50, flat from 10,000 to 50,000 messages.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tavern.settings.test")

import django
from django.conf import settings

settings.DATABASES["default"]["TEST"] = {"NAME": "bench_chat_store"}
django.setup()

from bench_support import FILLER, percentile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

SIZES = (10_000, 50_000)


def line(rng: random.Random) -> str:
    text = " ".join(rng.choice(FILLER) for _ in range(rng.randint(15, 90)))
    return text[0].upper() + text[1:] + "."


def build_chat(size: int):  # type: ignore[no-untyped-def]
    """A chat of `size` messages (user and character alternating), each with its swipe."""
    from accounts.models import User
    from characters.models import Character
    from chats.models import Author, Chat, ChatParticipant, Message, Swipe

    title = f"bench store {size}"
    chat = Chat.objects.filter(title=title).first()
    if chat is not None and chat.message_count >= size:
        return chat
    print(f"data: building a chat of {size:,} messages …", flush=True)
    started = time.perf_counter()
    owner, _ = User.objects.get_or_create(username="bench-store")
    character, _ = Character.objects.get_or_create(
        owner=owner, slug="aria", defaults={"name": "Aria", "description": "A harbour pilot."}
    )
    if chat is not None:
        chat.delete()
    chat = Chat.objects.create(owner=owner, title=title)
    ChatParticipant.objects.create(chat=chat, character=character)
    rng = random.Random(size)
    batch = 5000
    for start in range(1, size + 1, batch):
        rows = []
        for position in range(start, min(size, start + batch - 1) + 1):
            text = line(rng)
            is_user = position % 2 == 0
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
        created = Message.objects.bulk_create(rows, batch_size=1000)
        Swipe.objects.bulk_create(
            [Swipe(message=m, index=0, content=m.content, token_count=m.token_count) for m in created],
            batch_size=1000,
        )
    last = Message.objects.filter(chat=chat).order_by("-position").first()
    Chat.objects.filter(pk=chat.pk).update(
        last_position=size,
        message_count=size,
        last_message_at=last.created_at,
        last_message_preview=last.content[:200],
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE chats_message")
        cursor.execute("ANALYZE chats_swipe")
    print(f"data: built in {time.perf_counter() - started:.1f} s", flush=True)
    chat.refresh_from_db()
    return chat


def timed(fn: Callable[[int], object], runs: int, warm: int = 20) -> list[float]:
    for index in range(warm):
        fn(-index - 1)
    samples = []
    for index in range(runs):
        started = time.perf_counter()
        fn(index)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(label: str, samples: list[float]) -> None:
    print(
        f"  {label:<46} {statistics.median(samples):6.2f} / {percentile(samples, 95):6.2f} / "
        f"{percentile(samples, 99):6.2f}"
    )


def measure(runs: int) -> None:
    from chats.generation import generation_release_sync
    from chats.models import Message
    from chats.selectors import chat_get_for_user
    from chats.services import message_append_user
    from chats.turn_context import turn_context_load
    from chats.turns import _send_store

    # The quota is checked as production does (two Redis reads), with limits no run reaches.
    settings.TAVERN_TIER_LIMITS = {
        tier: {**limits, "messages_per_minute": 10**9, "tokens_per_day": 10**12}
        for tier, limits in settings.TAVERN_TIER_LIMITS.items()
    }

    rng = random.Random(1)
    texts = [line(rng) for _ in range(64)]
    print(f"\nappends per figure: {runs} (after 20 warm-up); times in ms (median / p95 / p99)")
    for size in SIZES:
        chat = build_chat(size)
        owner = chat.owner
        chat = chat_get_for_user(chat_id=chat.pk, user=owner)
        stamp = time.time_ns()
        before = Message.objects.filter(chat=chat).count()
        print(f"chat of {before:,} messages (id {chat.pk})")

        service = timed(lambda i, chat=chat: message_append_user(chat=chat, content=texts[i % 64]), runs)
        report("message_append_user (service)", service)

        def socket_path(i: int, chat=chat, owner=owner, stamp=stamp) -> None:  # type: ignore[no-untyped-def]
            stored = _send_store(chat.pk, owner.pk, texts[i % 64], f"b{stamp}-{i}")
            # Free the slot for the next send: one Redis command, timed with the send.
            generation_release_sync(chat.pk, stored.generation_id)

        socket = timed(socket_path, runs)
        report("a socket's send (chat, resend, quota, slot, append, free)", socket)
        read = timed(
            lambda i, chat=chat, owner=owner: turn_context_load(
                chat_id=chat.pk, user_id=owner.pk, mode="send"
            ),
            runs,
        )
        report("the reply's context, read ahead in the same trip", read)

        with CaptureQueriesContext(connection) as queries:
            message_append_user(chat=chat, content="One more, counted.")
        print(f"  queries per append (service): {len(queries)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)
    for size in SIZES:
        build_chat(size)
    measure(args.runs)


if __name__ == "__main__":
    main()
