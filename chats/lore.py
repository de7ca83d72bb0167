"""Lorebook activation for one turn: the chat's books (the characters' own, those
attached to the chat, the user's global ones) through SillyTavern's rules.

Compiled books are cached per process, keyed by book id and `updated_at`
(every entry edit touches it), so a turn parses no keys."""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from characters.models import Character, Lorebook, LorebookEntry
from characters.records import lorebook_value
from characters.selectors import lorebook_entries_of

from .prompting.builder import HistoryMessage, LoreInsert
from .prompting.lorebook import (
    ActivationResult,
    ActivationSettings,
    BookInput,
    CompiledBook,
    ScanExtras,
    ScanMessage,
    lorebook_activate,
    lorebook_compile,
)

_CACHE_SIZE = 256
_cache: OrderedDict[tuple[int, str], CompiledBook] = OrderedDict()
_cache_lock = threading.Lock()


def _compiled_books(books: Sequence[Lorebook]) -> list[CompiledBook]:
    keys = [(book.pk, book.updated_at.isoformat()) for book in books]
    with _cache_lock:
        found = {key: _cache[key] for key in keys if key in _cache}
    missing = [book for book, key in zip(books, keys, strict=True) if key not in found]
    if missing:
        entries: dict[int, list[LorebookEntry]] = {book.pk: [] for book in missing}
        for entry in lorebook_entries_of(books=missing):
            entries[entry.lorebook_id].append(entry)
        for book in missing:
            key = (book.pk, book.updated_at.isoformat())
            found[key] = lorebook_compile(BookInput(id=book.pk, book=lorebook_value(book, entries[book.pk])))
        with _cache_lock:
            for key in (k for k in keys if k in found):
                _cache[key] = found[key]
                _cache.move_to_end(key)
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return [found[key] for key in keys]


def lore_activate(
    *,
    books: Sequence[Lorebook],
    history: Sequence[HistoryMessage],
    state: dict[str, Any],
    context_size: int,
    turn: int,
    speaker: Character,
    persona_description: str,
    rng: random.Random,
) -> ActivationResult | None:
    if not books:
        return None
    depth_prompt = speaker.extensions.get("depth_prompt", {}) if isinstance(speaker.extensions, dict) else {}
    return lorebook_activate(
        books=_compiled_books(books),
        history=[ScanMessage(name=m.name, text=m.content, is_user=m.role == "user") for m in history],
        settings=ActivationSettings(context_tokens=context_size),
        state=state,
        turn=turn,
        rng=rng,
        extra_scan_text=ScanExtras(
            persona_description=persona_description,
            character_description=speaker.description,
            character_personality=speaker.personality,
            character_depth_prompt=str(depth_prompt.get("prompt", ""))
            if isinstance(depth_prompt, dict)
            else "",
            scenario=speaker.scenario,
            creator_notes=speaker.creator_notes,
        ),
    )


def lore_for_turn(**kwargs: Any) -> tuple[list[LoreInsert], dict[str, Any]]:
    """The activated entries as prompt inserts, and the new sticky/cooldown state."""
    result = lore_activate(**kwargs)
    if result is None:
        return [], kwargs["state"]
    inserts = [
        LoreInsert(
            content=item.content,
            position=item.position,
            depth=item.depth,
            role=item.role,
            order=item.order,
            label=item.entry.comment or ", ".join(item.entry.keys[:3]),
        )
        for item in result.entries
        if item.content.strip()
    ]
    return inserts, dict(result.state)
