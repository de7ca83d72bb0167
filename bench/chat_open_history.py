"""Open a 50,000-message chat: what the chat page and the API do for the first screen,
`chats.selectors.chat_get_for_user` + `messages_page(chat=..., limit=50)`.

Builds the chat (messages and swipes, bulk-created) in its own database
`bench_chat_history` on the embedded PostgreSQL, kept between runs. Prints median /
p95 / p99 over `--runs` opens, the same through the REST endpoint
(`GET /api/v1/chats/<id>/messages/`, DRF test client, JSON rendered), a page deep
in the history (`before=`), and this process's memory (RSS) before and after.

    .venv/bin/python -m tavern.embedded run -- .venv/bin/python bench/chat_open_history.py

Target (shared/PERFORMANCE.md): <= 20 ms, memory flat.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tavern.settings.test")

import django
from django.conf import settings

settings.DATABASES["default"]["TEST"] = {"NAME": "bench_chat_history"}
django.setup()

import psutil  # noqa: E402
from bench_support import FILLER, percentile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

SIZE = 50_000


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def line(rng: random.Random) -> str:
    text = " ".join(rng.choice(FILLER) for _ in range(rng.randint(15, 120)))
    return text[0].upper() + text[1:] + "."


def build_chat():  # type: ignore[no-untyped-def]
    from accounts.models import User
    from characters.models import Character, Persona
    from chats.models import Author, Chat, ChatParticipant, Message, Swipe

    title = f"bench history {SIZE}"
    chat = Chat.objects.filter(title=title).first()
    if chat is not None and chat.message_count >= SIZE:
        print(f"data: chat of {chat.message_count:,} messages already in bench_chat_history")
        return chat
    print(f"data: building a chat of {SIZE:,} messages …", flush=True)
    started = time.perf_counter()
    owner, _ = User.objects.get_or_create(username="bench-history")
    persona, _ = Persona.objects.get_or_create(owner=owner, name="Bo", defaults={"description": "A sailor."})
    characters = [
        Character.objects.get_or_create(
            owner=owner,
            slug=slug,
            defaults={"name": name, "description": f"{name}, " + line(random.Random(slug))},
        )[0]
        for slug, name in (("aria", "Aria"), ("bram", "Bram"), ("cora", "Cora"))
    ]
    if chat is not None:
        chat.delete()
    chat = Chat.objects.create(owner=owner, title=title, persona=persona)
    ChatParticipant.objects.bulk_create(
        ChatParticipant(chat=chat, character=c, position=i) for i, c in enumerate(characters)
    )
    rng = random.Random(SIZE)
    batch = 5000
    for start in range(1, SIZE + 1, batch):
        rows = []
        for position in range(start, min(SIZE, start + batch - 1) + 1):
            text = line(rng)
            is_user = position % 2 == 0
            speaker = characters[position % 3]
            rows.append(
                Message(
                    chat=chat,
                    position=position,
                    author=Author.USER if is_user else Author.CHARACTER,
                    character=None if is_user else speaker,
                    name="Bo" if is_user else speaker.name,
                    content=text,
                    token_count=len(text.split()) * 4 // 3,
                    swipe_count=1,
                )
            )
        created = Message.objects.bulk_create(rows, batch_size=1000)
        Swipe.objects.bulk_create(
            [Swipe(message=m, index=0, content=m.content, token_count=m.token_count) for m in created],
            batch_size=1000,
        )
    last = Message.objects.filter(chat=chat).order_by("-position").first()
    Chat.objects.filter(pk=chat.pk).update(
        last_position=SIZE,
        message_count=SIZE,
        last_message_at=last.created_at,
        last_message_preview=last.content[:200],
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE chats_message")
        cursor.execute("ANALYZE chats_swipe")
    print(f"data: built in {time.perf_counter() - started:.1f} s", flush=True)
    chat.refresh_from_db()
    return chat


def timed(fn: Callable[[], object], runs: int, warm: int = 10) -> list[float]:
    for _ in range(warm):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(label: str, samples: list[float]) -> None:
    print(
        f"  {label:<44} {statistics.median(samples):6.2f} / {percentile(samples, 95):6.2f} / "
        f"{percentile(samples, 99):6.2f}"
    )


def measure(runs: int) -> None:
    from rest_framework.test import APIClient

    from chats.models import Chat
    from chats.selectors import chat_get_for_user, messages_page

    chat = Chat.objects.select_related("owner").get(title=f"bench history {SIZE}")
    owner = chat.owner
    print(
        f"\nchat of {chat.message_count:,} messages; runs per figure: {runs}; times in ms (median / p95 / p99)"
    )

    def first_screen() -> list:  # type: ignore[type-arg]
        opened = chat_get_for_user(chat_id=chat.pk, user=owner)
        return messages_page(chat=opened, limit=50)

    for _ in range(10):
        first_screen()
    rss_before = rss_mb()
    samples = timed(first_screen, runs)
    rss_after = rss_mb()
    report("chat_get_for_user + messages_page(limit=50)", samples)
    with CaptureQueriesContext(connection) as queries:
        page = first_screen()
    print(f"  queries: {len(queries)}; page: positions {page[0].position}..{page[-1].position}")

    deep = timed(lambda: messages_page(chat=chat, before=1_000, limit=50), runs)
    report("messages_page(before=1000, limit=50), deep", deep)

    client = APIClient()
    client.force_authenticate(owner)
    url = f"/api/v1/chats/{chat.pk}/messages/"

    def api() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        response.render() if hasattr(response, "render") else None

    for _ in range(10):
        api()  # the first call imports the URLconf and every API module
    rss_api_before = rss_mb()
    api_samples = timed(api, runs)
    rss_api_after = rss_mb()
    report("GET /api/v1/chats/<id>/messages/ (JSON)", api_samples)
    print(
        f"  process RSS, selectors: {rss_before:.1f} MB before, {rss_after:.1f} MB after {runs} opens "
        f"({rss_after - rss_before:+.1f} MB)"
    )
    print(
        f"  process RSS, API: {rss_api_before:.1f} MB before (warm), {rss_api_after:.1f} MB after "
        f"{runs} calls ({rss_api_after - rss_api_before:+.1f} MB)"
    )


def main() -> None:
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collected static here
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)
    print(f"process RSS at start (Django loaded): {rss_mb():.1f} MB")
    build_chat()
    measure(args.runs)


if __name__ == "__main__":
    main()
