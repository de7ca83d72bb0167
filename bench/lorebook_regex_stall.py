"""How long one pathological lorebook regex holds up everyone else (finding H1).

A turn's lorebook scan runs in a worker thread; what matters to other users is
whether that thread lets the rest of the process run. This measures, while a scan
with pathological keys runs in a thread, the longest gap between the ticks of a
second thread that only counts (the same thing the event loop of the web process
needs: the interpreter lock, now and then):

* `re` (what Tavern used): one `/(a|aa)+$/` key against 32 `a`s and a `b`;
* Tavern's lorebook activation: 20 such keys against 60 `a`s and a `b`, each search
  time-limited, all of them sharing one budget, the lock released while searching.

    .venv/bin/python bench/lorebook_regex_stall.py
"""

from __future__ import annotations

import os
import random
import re
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tavern.settings.test")

import django

django.setup()

from characters.cards.lorebook.book import Lorebook, LorebookEntry  # noqa: E402
from chats.prompting.lorebook import ActivationSettings, BookInput, ScanMessage, lorebook_activate  # noqa: E402

RUNS = 5


def longest_stall(work) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(seconds `work` took, longest gap in seconds between a counting thread's ticks)."""
    done = threading.Event()
    gaps: list[float] = []

    def count() -> None:
        last = time.perf_counter()
        while not done.is_set():
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    started = time.perf_counter()
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    took = time.perf_counter() - started
    done.set()
    counter.join()
    return took, max(gaps)


def with_re() -> None:
    re.search(r"(a|aa)+$", "a" * 32 + "b")


def with_tavern() -> None:
    entries = [LorebookEntry(uid=n, keys=[f"/(a|aa)+${'x' * n}|z{n}/"], content="x") for n in range(20)]
    lorebook_activate(
        books=[BookInput(id="b", book=Lorebook(entries=entries))],
        history=[ScanMessage(name="User", text="a" * 60 + "b", is_user=True)],
        settings=ActivationSettings(),
        state={},
        turn=1,
        rng=random.Random(0),
        count_tokens=lambda text: len(text.split()),
    )


def main() -> None:
    figures: dict[str, tuple[float, float]] = {}
    for name, work in (("re", with_re), ("tavern", with_tavern)):
        runs = [longest_stall(work) for _ in range(RUNS)]
        took = sorted(run[0] for run in runs)[RUNS // 2]
        stall = sorted(run[1] for run in runs)[RUNS // 2]
        figures[name] = (took, stall)
        print(
            f"{name:>7}: scan {took * 1000:9.1f} ms, longest stall of another thread {stall * 1000:8.1f} ms"
        )
    re_took, re_stall = figures["re"]
    tavern_took, tavern_stall = figures["tavern"]
    print(
        f"RESULT re_scan_ms={re_took * 1000:.1f} re_stall_ms={re_stall * 1000:.1f} "
        f"tavern_scan_ms={tavern_took * 1000:.1f} tavern_stall_ms={tavern_stall * 1000:.1f}"
    )


if __name__ == "__main__":
    main()
