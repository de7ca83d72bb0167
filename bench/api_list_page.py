"""List pages a user waits on, through the whole Django stack, at 100,000 characters.

Uses the library `search_characters.py` builds (database `bench_tavern`, 100,000 public
characters owned by 50 users, built on first run and kept) and times, with Django's
test client (middleware, authentication, throttling, JSON or HTML rendered):

- `GET /api/v1/characters/` as the owner of 2,000 of them (JWT), 20 and 100 per page;
- `GET /api/v1/characters/search/` (browse, no query: the whole public library), anonymous,
  20 and 100 per page, and with a text query and a tag;
- the browse page `GET /characters/`, anonymous, first page and a text + tag search.

Prints median / p95 / p99 in ms, the queries of one request and the database's share.

    .venv/bin/python -m tavern.embedded run -- .venv/bin/python bench/api_list_page.py [--runs 100]

Targets (shared/PERFORMANCE.md): API list page <= 10 ms; no full COUNT(*) at scale.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tavern.settings.test")

import django
from django.conf import settings

settings.DATABASES["default"]["TEST"] = {"NAME": "bench_tavern"}
django.setup()

from bench_support import percentile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def _time(fn: Callable[[], object], runs: int) -> tuple[float, float, float]:
    fn()  # warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), percentile(samples, 95), percentile(samples, 99)


def measure(runs: int) -> dict[str, float]:
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from characters.models import Character

    # The bench sends far more than a user may: lift the limits, keep the Redis check.
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(
        settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000000/min"
    )
    owner = User.objects.get(username="bench0")
    owned = Character.objects.filter(owner=owner, deleted_at__isnull=True).count()
    token = RefreshToken.for_user(owner).access_token
    signed_in = Client(headers={"authorization": f"Bearer {token}"})
    anonymous = Client()
    total = Character.objects.count()
    print(
        f"\ncharacters: {total:,} ({owned:,} owned by the signed-in user); runs per figure: {runs}; "
        "ms (median / p95 / p99), queries, db ms of one request"
    )

    rows: list[tuple[str, str, Client, str, dict[str, str]]] = [
        ("api_mine_20", "API: my characters, first page, 20", signed_in, "/api/v1/characters/", {}),
        (
            "api_mine_100",
            "API: my characters, first page, 100",
            signed_in,
            "/api/v1/characters/",
            {"page_size": "100"},
        ),
        ("api_browse_20", "API: search, browse, 20", anonymous, "/api/v1/characters/search/", {}),
        (
            "api_browse_100",
            "API: search, browse, 100",
            anonymous,
            "/api/v1/characters/search/",
            {"page_size": "100"},
        ),
        (
            "api_text_tag_20",
            "API: search, text + tag, 20",
            anonymous,
            "/api/v1/characters/search/",
            {"q": "storm", "tags": "fantasy"},
        ),
        ("page_browse", "page: browse, first page (24)", anonymous, "/characters/", {}),
        (
            "page_text_tag",
            "page: browse, text + tag",
            anonymous,
            "/characters/",
            {"q": "storm", "tags": "fantasy"},
        ),
    ]
    results: dict[str, float] = {}
    for key, label, client, url, params in rows:

        def request(client: Client = client, url: str = url, params: dict[str, str] = params) -> object:
            response = client.get(url, params)
            assert response.status_code == 200, (url, response.status_code)
            return response.content

        median, p95, p99 = _time(request, runs)
        with CaptureQueriesContext(connection) as queries:
            request()
        db_ms = sum(float(query["time"]) for query in queries.captured_queries) * 1000
        print(
            f"  {label:<36} {median:7.2f} / {p95:7.2f} / {p99:7.2f}   "
            f"{len(queries.captured_queries)} queries, db {db_ms:5.2f}"
        )
        results[key] = median
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)
    from search_characters import build  # the same library, built once

    build(args.count)
    results = measure(args.runs)
    print("RESULT " + " ".join(f"{key}_ms={value:.2f}" for key, value in results.items()))


if __name__ == "__main__":
    main()
