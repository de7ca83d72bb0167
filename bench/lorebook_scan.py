"""Lorebook activation speed: `lorebook_activate` over 1,000 and 5,000 random entries.

Pure Python, no database: builds books of entries with realistic keys (1-4 words
from a vocabulary of a few thousand, some multi-word names, some regex keys,
some constants, some selective, some in inclusion groups or with a probability),
a 10-message history of 60-200 words each, and times activation with scan depth
2 (without and with recursion), with scan depth 10 and recursion, and the same
with a 128k context, whose 32k-token budget lets hundreds of entries activate.

    .venv/bin/python bench/lorebook_scan.py [--repeat 200] [--seed 7]

Targets: 1,000 entries <= 2.5 ms (depth 2) and <= 5 ms (depth 10 + recursion);
5,000 entries <= 15 ms, and <= 10 ms at a 128k context. Books are compiled once (`lorebook_compile`), as the
chat turn caches them (with what their key tables found in the texts they scanned:
the same history every call, as most of a chat's scan window is from one turn to
the next); the compile time is printed separately. "activated" and "passes" are
those of the last call. The last line, `RESULT e<entries>_<scenario>_p50_ms=...`,
has the medians.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from characters.cards.lorebook.book import Lorebook, LorebookEntry, Position, SelectiveLogic
from chats.prompting.lorebook import (
    ActivationSettings,
    BookInput,
    CompiledBook,
    ScanMessage,
    lorebook_activate,
    lorebook_compile,
)

# Words no key uses, so that chat and lore read like text in which a few names stand out.
FILLER_TEXT = (
    "the a an and or but so then there here this that with without into onto from over under "
    "she he they we you it is was were be been being have has had do does did not no yes very "
    "just still again always never soon later now before after while because though although "
    "looks says asks walks turns smiles laughs nods sighs waits stands sits reaches opens closes "
    "quietly slowly suddenly softly carefully briefly really maybe perhaps something nothing "
    "everyone someone anything little long old new good bad small big first last other same"
)
FILLER = FILLER_TEXT.split()


def vocabulary(rng: random.Random, size: int) -> list[str]:
    """`size` distinct pronounceable made-up words, 4 to 10 letters."""
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    words: set[str] = set()
    while len(words) < size:
        length = rng.randint(2, 5)
        words.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(length)))
    return sorted(words)


def random_key(rng: random.Random, words: list[str]) -> str:
    roll = rng.random()
    if roll < 0.05:
        return f"/\\b{rng.choice(words)}s?\\b/i"
    if roll < 0.25:
        return f"{rng.choice(words).capitalize()} {rng.choice(words).capitalize()}"
    return rng.choice(words)


def random_entry(rng: random.Random, uid: int, words: list[str]) -> LorebookEntry:
    keys = [random_key(rng, words) for _ in range(rng.randint(1, 4))]
    selective = rng.random() < 0.15
    content = " ".join(rng.choice(FILLER) if rng.random() < 0.95 else rng.choice(words) for _ in range(40))
    return LorebookEntry(
        uid=uid,
        keys=keys,
        secondary_keys=[rng.choice(words) for _ in range(rng.randint(1, 3))] if selective else [],
        selective_logic=rng.choice(list(SelectiveLogic)),
        content=content,
        constant=rng.random() < 0.01,
        order=rng.randint(1, 200),
        position=rng.choice(list(Position)),
        probability=100 if rng.random() < 0.9 else rng.randint(10, 90),
        group=rng.choice(["", "", "", "", "weather", "mood"]),
    )


def random_history(rng: random.Random, words: list[str], count: int = 10) -> list[ScanMessage]:
    messages = []
    for index in range(count):
        text = " ".join(
            rng.choice(words) if rng.random() < 0.04 else rng.choice(FILLER)
            for _ in range(rng.randint(60, 200))
        )
        text = text[0].upper() + text[1:] + rng.choice(".!?")
        messages.append(
            ScanMessage(name="User" if index % 2 == 0 else "Aria", text=text, is_user=index % 2 == 0)
        )
    return messages


def time_calls(
    book: CompiledBook, history: list[ScanMessage], settings: ActivationSettings, repeat: int
) -> tuple[list[float], tuple[int, int]]:
    timings = []
    counts = (0, 0)
    for call in range(repeat):
        started = time.perf_counter()
        result = lorebook_activate(
            books=[book],
            history=history,
            settings=settings,
            state={},
            turn=len(history),
            rng=random.Random(call),
        )
        timings.append((time.perf_counter() - started) * 1000)
        counts = (len(result.entries), result.passes)
    return timings, counts


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    words = vocabulary(rng, 3000)
    history = random_history(rng, words)
    scenarios = [  # label, RESULT key, settings
        ("depth 2, no recursion", "d2", ActivationSettings(scan_depth=2, recursive=False)),
        ("depth 2 (defaults)", "d2_rec", ActivationSettings()),
        ("depth 10 + recursion", "d10_rec", ActivationSettings(scan_depth=10, recursive=True)),
        # A 128k context leaves a 32k-token budget: far more entries activate and recurse.
        ("depth 10 + rec., 128k", "d10_rec_128k", ActivationSettings(scan_depth=10, context_tokens=131072)),
    ]
    results: dict[str, float] = {}
    print(f"history: {len(history)} messages, {sum(len(m.text) for m in history)} characters")
    print(f"{'entries':>7}  {'scenario':<24} {'median ms':>9} {'p95 ms':>8} {'activated':>9} {'passes':>6}")
    for size in (1000, 5000):
        book_input = BookInput(
            id=1, book=Lorebook(entries=[random_entry(rng, uid, words) for uid in range(size)])
        )
        started = time.perf_counter()
        book = lorebook_compile(book_input)
        compile_ms = (time.perf_counter() - started) * 1000
        for label, key, settings in scenarios:
            time_calls(book, history, settings, 5)  # warm the book's lookup tables and the tokenizer
            timings, (activated, passes) = time_calls(book, history, settings, args.repeat)
            median, p95 = statistics.median(timings), percentile(timings, 0.95)
            print(f"{size:>7}  {label:<24} {median:>9.2f} {p95:>8.2f} {activated:>9} {passes:>6}")
            results[f"e{size}_{key}_p50"] = median
        print(f"{size:>7}  {'compile (once per book)':<24} {compile_ms:>9.2f}")
    print("RESULT " + " ".join(f"{key}_ms={value:.2f}" for key, value in results.items()))


if __name__ == "__main__":
    main()
