"""Writes for lorebooks (world info) and their entries, SillyTavern world files included."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from characters.cards import CardError, world_from_sillytavern
from characters.cards import Lorebook as LorebookValue
from characters.cards.json_bytes import load_json_bytes
from characters.cards.lorebook.key_check import keys_refusal, probe_deadline

from ..limits import lorebook_entry_refusal, lorebook_header_refusal, lorebook_max_entries, lorebook_refusal
from ..models import Lorebook, LorebookEntry
from ..records import BOOK_COLUMNS, entry_row_values
from .errors import CharacterError

# Told how far a long check has got: (done, total). A background job shows it.
Progress = Callable[[int, int], None]


def _lorebook_check(value: LorebookValue, *, field: str, progress: Progress | None = None) -> None:
    """The book within limits (characters/limits.py), each entry's fields too, and no key
    that could freeze a scan. The key check is the slow part of a big import: `progress`
    hears of each entry."""
    refused_field, message = lorebook_refusal(value)
    if message:
        # The lorebook editor names the book field at fault; an import, its file; a card, its book.
        raise CharacterError(message, field=refused_field if field == "entries" else field)
    total = len(value.entries)
    deadline = probe_deadline()
    for number, entry in enumerate(value.entries, start=1):
        _, reason = lorebook_entry_refusal(vars(entry))
        reason = reason or keys_refusal([*entry.keys, *entry.secondary_keys], deadline=deadline)
        if reason:
            comment = entry.comment if len(entry.comment) <= 60 else entry.comment[:59] + "…"
            name = f' "{comment}"' if comment else ""
            raise CharacterError(f"Lorebook entry {number}{name}: {reason}.", field=field)
        if progress is not None:
            progress(number, total)


def _lorebook_entries_replace(book: Lorebook, value: LorebookValue) -> None:
    book.entries.all().delete()
    LorebookEntry.objects.bulk_create(
        LorebookEntry(lorebook=book, sort_index=index, **entry_row_values(entry))
        for index, entry in enumerate(value.entries)
    )


@transaction.atomic
def lorebook_create(
    *,
    owner: User,
    value: LorebookValue,
    is_global: bool = False,
    field: str = "entries",
    progress: Progress | None = None,
) -> Lorebook:
    """`field`: the input to name when an entry is refused (the upload, for an import)."""
    _lorebook_check(value, field=field, progress=progress)
    book = Lorebook(owner=owner, is_global=is_global, **{name: getattr(value, name) for name in BOOK_COLUMNS})
    if not book.name:
        book.name = "Untitled lorebook"
    book.full_clean()
    book.save()
    _lorebook_entries_replace(book, value)
    return book


@transaction.atomic
def lorebook_replace(*, book: Lorebook, value: LorebookValue, field: str = "entries") -> Lorebook:
    """Replace the whole book (header and entries) with `value`, e.g. from an import."""
    _lorebook_check(value, field=field)
    for name in BOOK_COLUMNS:
        setattr(book, name, getattr(value, name))
    book.full_clean()
    book.save()
    _lorebook_entries_replace(book, value)
    return book


def lorebook_update(*, book: Lorebook, data: dict[str, Any]) -> Lorebook:
    refused_field, message = lorebook_header_refusal(data)
    if message:
        raise CharacterError(message, field=refused_field)
    fields = [name for name in (*BOOK_COLUMNS, "is_global") if name in data]
    for name in fields:
        setattr(book, name, data[name])
    book.full_clean()
    book.save(update_fields=[*fields, "updated_at"])
    return book


def lorebook_world_read(*, data: bytes, name: str = "") -> LorebookValue:
    """A SillyTavern world file read and sized up, nothing stored: the checks an import
    makes before it decides to run now or as a job. Entries' own limits and keys are
    checked when the book is created."""
    if len(data) > settings.CARD_MAX_BYTES:
        raise CharacterError(
            f"The file is larger than the limit of {settings.CARD_MAX_BYTES:,} bytes.", field="file"
        )
    try:
        value = world_from_sillytavern(load_json_bytes(data, source="world file"))
    except CardError as error:
        raise CharacterError(str(error), field="file") from error
    if name:
        value = dataclasses.replace(value, name=name)
    _, message = lorebook_refusal(value)
    if message:
        raise CharacterError(message, field="file")
    return value


def lorebook_import_world(
    *, owner: User, data: bytes, name: str = "", progress: Progress | None = None
) -> Lorebook:
    value = lorebook_world_read(data=data, name=name)
    return lorebook_create(owner=owner, value=value, field="file", progress=progress)


@transaction.atomic
def lorebook_entry_save(
    *, book: Lorebook, entry: LorebookEntry | None, data: dict[str, Any]
) -> LorebookEntry:
    refused_field, reason = lorebook_entry_refusal(data)
    if reason:
        raise CharacterError(reason[:1].upper() + reason[1:] + ".", field=refused_field)
    if entry is None:
        limit = lorebook_max_entries()
        if book.entries.count() >= limit:
            raise CharacterError(f"The lorebook already has the most entries a book can: {limit:,}.")
        last = book.entries.order_by("-sort_index").values_list("sort_index", flat=True).first()
        entry = LorebookEntry(lorebook=book, sort_index=(last or 0) + 1)
    for name in ("keys", "secondary_keys"):
        reason = keys_refusal(data.get(name) or [])
        if reason:
            raise CharacterError(reason[:1].upper() + reason[1:] + ".", field=name)
    for name, value in data.items():
        setattr(entry, name, value)
    entry.full_clean()
    entry.save()
    Lorebook.objects.filter(pk=book.pk).update(updated_at=timezone.now())
    return entry


def lorebook_entry_delete(*, entry: LorebookEntry) -> None:
    entry.delete()


def lorebook_delete(*, book: Lorebook) -> None:
    book.delete()
