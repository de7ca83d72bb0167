"""Character search at scale: text, fuzzy name, meaning (HNSW) and browse, first page.

Builds N public characters (default 100,000) in its own database `bench_tavern`
on the embedded PostgreSQL (kept between runs), then times the selectors the
pages and API use, and measures HNSW recall@10 against exact search.

    .venv/bin/python -m tavern.embedded run -- .venv/bin/python bench/search_characters.py [--count 100000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tavern.settings.test")

import django
from django.conf import settings

settings.DATABASES["default"]["TEST"] = {"NAME": "bench_tavern"}
django.setup()

import numpy as np  # noqa: E402
from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

WORDS = [
    "ancient",
    "brave",
    "cunning",
    "dragon",
    "elf",
    "forest",
    "ghost",
    "harbour",
    "iron",
    "jade",
    "knight",
    "lantern",
    "moon",
    "night",
    "ocean",
    "pirate",
    "queen",
    "river",
    "storm",
    "tavern",
    "umbra",
    "valley",
    "witch",
    "wolf",
    "winter",
    "ember",
    "frost",
    "golden",
    "hollow",
    "ivory",
    "mystic",
    "noble",
    "oracle",
    "phantom",
    "raven",
    "silver",
    "thunder",
    "velvet",
    "whisper",
    "zephyr",
    "alchemist",
    "bard",
    "cleric",
    "druid",
    "healer",
    "hunter",
    "merchant",
    "monk",
    "necromancer",
    "paladin",
    "ranger",
    "rogue",
    "sorcerer",
    "warrior",
    "scholar",
    "smith",
    "sailor",
]
FIRST = [
    "Aria",
    "Bram",
    "Cora",
    "Dax",
    "Elin",
    "Fen",
    "Gale",
    "Hana",
    "Ivo",
    "Juno",
    "Kai",
    "Lira",
    "Milo",
    "Nyx",
    "Orin",
    "Pia",
    "Quin",
    "Rhea",
    "Sol",
    "Tova",
    "Ulric",
    "Vera",
    "Wren",
    "Xan",
    "Yara",
    "Zed",
]
TAGS = [
    "fantasy",
    "sci-fi",
    "romance",
    "horror",
    "comedy",
    "mystery",
    "adventure",
    "slice-of-life",
    "historical",
    "anime",
]
CLUSTERS = 64
DIMS = 384


def _vocabulary(size: int = 6000) -> list[str]:
    """Pseudo-words with a realistic (Zipf) frequency: a few common, most rare."""
    syllables = [
        "ka",
        "ri",
        "mo",
        "sel",
        "tha",
        "vin",
        "dor",
        "el",
        "an",
        "ur",
        "is",
        "ko",
        "ma",
        "ne",
        "lu",
        "fa",
        "ro",
        "zen",
        "qui",
        "ta",
    ]
    rng = random.Random(3)
    words = list(WORDS)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


VOCABULARY = _vocabulary()
_ZIPF = [1 / (rank + 1) ** 1.07 for rank in range(len(VOCABULARY))]


def _text(count: int) -> list[str]:
    return random.choices(VOCABULARY, weights=_ZIPF, k=count)


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _time(fn, runs: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    fn()  # warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), _percentile(samples, 95), _percentile(samples, 99)


def _vectors(rng: np.random.Generator, centres: np.ndarray, n: int) -> np.ndarray:
    picks = rng.integers(0, CLUSTERS, n)
    vectors = centres[picks] + rng.normal(0, 0.35, (n, DIMS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def build(count: int) -> None:
    from accounts.models import User
    from characters.models import Character, CharacterTag, Tag

    existing = Character.objects.count()
    if existing >= count:
        print(f"data: {existing} characters already in bench_tavern")
        return
    print(f"data: building {count - existing} characters …", flush=True)
    started = time.perf_counter()
    rng = np.random.default_rng(7)
    random.seed(7)
    centres = rng.normal(0, 1, (CLUSTERS, DIMS)).astype(np.float32)
    owners = [User.objects.get_or_create(username=f"bench{i}")[0] for i in range(50)]
    tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS characters_embedding_hnsw")
    batch = 5000
    for offset in range(existing, count, batch):
        size = min(batch, count - offset)
        vectors = _vectors(rng, centres, size)
        rows = []
        picks = []
        for i in range(size):
            n = offset + i
            words = _text(18)
            tag_pick = random.sample(tags, 2)
            picks.append(tag_pick)
            rows.append(
                Character(
                    owner=owners[n % len(owners)],
                    slug=f"c{n}",
                    name=f"{random.choice(FIRST)} the {words[0].title()} {n}",
                    description=" ".join(words) + ". " + " ".join(_text(30)),
                    personality=", ".join(words[3:7]),
                    creator_notes=" ".join(_text(10)),
                    tag_text=" ".join(t.name for t in tag_pick),
                    tag_keys=[t.name.lower() for t in tag_pick],  # the bench's tags are ASCII
                    visibility="public",
                    chat_count=random.randint(0, 5000),
                    favourite_count=random.randint(0, 500),
                    embedding=vectors[i].tolist(),
                    content_hash=f"{n}",
                    embedding_hash=f"{n}",
                )
            )
        created = Character.objects.bulk_create(rows, batch_size=1000)
        CharacterTag.objects.bulk_create(
            [
                CharacterTag(character=c, tag=t, position=p)
                for c, pick in zip(created, picks, strict=True)
                for p, t in enumerate(pick)
            ],
            batch_size=5000,
        )
        print(f"  {offset + size}/{count}", flush=True)
    print("  building HNSW index …", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute(
            "CREATE INDEX characters_embedding_hnsw ON characters_character "
            "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
        )
        cursor.execute("ANALYZE characters_character")
        cursor.execute("ANALYZE characters_charactertag")
    print(f"data: built in {time.perf_counter() - started:.0f} s")


def measure(runs: int) -> dict[str, float]:
    from characters.models import Character
    from characters.selectors import SearchFilters, character_search

    anonymous = AnonymousUser()
    rng = np.random.default_rng(11)
    total = Character.objects.count()
    print(f"\ncharacters: {total:,}; runs per figure: {runs}; times in ms (median / p95 / p99)")

    def first_page(filters: SearchFilters):  # type: ignore[no-untyped-def]
        return lambda: list(character_search(user=anonymous, filters=filters)[:20])

    rows = [
        ("browse, popular, first page", first_page(SearchFilters())),
        ("browse, new, first page", first_page(SearchFilters(sort="new"))),
        ("text: common word, by relevance", first_page(SearchFilters(q=VOCABULARY[5]))),
        ("text: mid word, by relevance", first_page(SearchFilters(q=VOCABULARY[120]))),
        ("text: two words, by relevance", first_page(SearchFilters(q=f"{VOCABULARY[40]} {VOCABULARY[60]}"))),
        ("text: rare word, by relevance", first_page(SearchFilters(q=VOCABULARY[3000]))),
        ("text: mid word + tag filter", first_page(SearchFilters(q=VOCABULARY[120], tags=("fantasy",)))),
        ("fuzzy name (typo 'Lirra')", first_page(SearchFilters(q="Lirra"))),
    ]
    keys = ["browse_popular", "browse_new", "text_common", "text_mid", "text_two", "text_rare"]
    keys += ["text_tag", "fuzzy_name"]
    results: dict[str, float] = {}
    for key, (label, fn) in zip(keys, rows, strict=True):
        median, p95, p99 = _time(fn, runs)
        print(f"  {label:<38} {median:7.2f} / {p95:7.2f} / {p99:7.2f}")
        results[key] = median

    # Meaning, database part: a precomputed query vector (the query embedding is timed below).
    centres = np.random.default_rng(7).normal(0, 1, (CLUSTERS, DIMS)).astype(np.float32)
    queries = _vectors(rng, centres, 50)
    from pgvector.django import CosineDistance

    base = Character.objects.filter(
        visibility="public", deleted_at__isnull=True, is_hidden=False, is_nsfw=False
    )

    def nearest(vector, exact: bool):  # type: ignore[no-untyped-def]
        with connection.cursor() as cursor:
            cursor.execute("SET enable_indexscan = %s", ["off" if exact else "on"])
        ids = list(
            base.annotate(distance=CosineDistance("embedding", vector.tolist()))
            .order_by("distance")
            .values_list("id", flat=True)[:10]
        )
        with connection.cursor() as cursor:
            cursor.execute("SET enable_indexscan = on")
        return ids

    index = 0

    def meaning_db():  # type: ignore[no-untyped-def]
        nonlocal index
        index = (index + 1) % len(queries)
        return nearest(queries[index], exact=False)

    median, p95, p99 = _time(meaning_db, runs)
    print(f"  {'meaning: HNSW top 10 (db)':<38} {median:7.2f} / {p95:7.2f} / {p99:7.2f}")
    results["meaning_db"] = median
    recalls = []
    for vector in queries[:30]:
        approx = set(nearest(vector, exact=False))
        exact = set(nearest(vector, exact=True))
        recalls.append(len(approx & exact) / 10)
    print(f"  {'meaning: HNSW recall@10 (30 queries)':<38} {statistics.mean(recalls):.3f}")

    from tavern.ai.embeddings import embed_texts

    embed_texts(["warm up"])
    median, p95, p99 = _time(lambda: embed_texts(["a healer who protects the forest"]), max(20, runs // 5))
    print(f"  {'query embedding (local MiniLM)':<38} {median:7.2f} / {p95:7.2f} / {p99:7.2f}")
    median, p95, p99 = _time(
        first_page(SearchFilters(q="a healer who protects the forest", mode="meaning")), max(20, runs // 5)
    )
    print(f"  {'meaning: end to end (embed + search)':<38} {median:7.2f} / {p95:7.2f} / {p99:7.2f}")
    results["meaning_end_to_end"] = median
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)
    build(args.count)
    results = measure(args.runs)
    print("RESULT " + " ".join(f"{key}_ms={value:.2f}" for key, value in results.items()))


if __name__ == "__main__":
    main()
