"""Writes for characters, versions, tags, favourites, lorebooks and personas."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from characters.cards import CardData, CardError, ParsedCard, parse_card_bytes
from characters.cards import Lorebook as LorebookValue
from characters.cards.lorebook.key_check import keys_refusal, probe_deadline
from tavern.errors import DomainRuleError

from .images import avatar_png_normalise
from .limits import MAX_TAGS as MAX_TAGS
from .limits import (
    card_refusal,
    lorebook_entry_refusal,
    lorebook_header_refusal,
    lorebook_max_entries,
    lorebook_refusal,
)
from .models import (
    Character,
    CharacterTag,
    CharacterVersion,
    Favourite,
    Lorebook,
    LorebookEntry,
    Persona,
    Tag,
    Visibility,
)
from .records import (
    BOOK_COLUMNS,
    CARD_COLUMNS,
    card_content_hash,
    card_from_snapshot,
    card_snapshot,
    card_value,
    entry_row_values,
)

# Told how far a long check has got: (done, total). A background job shows it.
Progress = Callable[[int, int], None]


class CharacterError(DomainRuleError):
    """A rule the caller broke; `field` names the input at fault."""


# ---------------------------------------------------------------- tags


def tags_resolve(names: list[str], *, field: str = "tags") -> list[Tag]:
    """Tags for these names, created when new; "Fantasy" and "fantasy" are one tag.
    `field`: the input to name when there are too many (the uploaded file, for an import).
    Each tag carries `lower`, its name lower-cased by PostgreSQL (what `tag_keys` holds)."""
    wanted: dict[str, str] = {}
    for raw in names:
        name = " ".join(str(raw).split())[:64]
        if name and name.lower() not in wanted:
            wanted[name.lower()] = name
    if len(wanted) > MAX_TAGS:
        raise CharacterError(f"A character can have at most {MAX_TAGS} tags.", field=field)
    existing = {
        tag.name.lower(): tag for tag in Tag.objects.annotate(lower=Lower("name")).filter(lower__in=wanted)
    }
    missing = [Tag(name=name) for key, name in wanted.items() if key not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {
            tag.name.lower(): tag
            for tag in Tag.objects.annotate(lower=Lower("name")).filter(lower__in=wanted)
        }
    return [existing[key] for key in wanted]


def _character_tags_set(character: Character, tags: list[Tag]) -> dict[str, Any]:
    """Link `tags` (from `tags_resolve`) in card order; returns the columns search reads
    from them, for the caller to save: `tag_text` (full text) and `tag_keys` (the tag
    filter), the names as PostgreSQL lower-cased them in `tags_resolve`."""
    CharacterTag.objects.filter(character=character).delete()
    CharacterTag.objects.bulk_create(
        CharacterTag(character=character, tag=tag, position=index) for index, tag in enumerate(tags)
    )
    return {
        "tag_text": " ".join(tag.name for tag in tags),
        "tag_keys": [tag.lower for tag in tags],  # type: ignore[attr-defined]
    }


# ---------------------------------------------------------------- lorebooks


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
    from characters.cards import world_from_sillytavern
    from characters.cards.json_bytes import load_json_bytes

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


# ---------------------------------------------------------------- characters


def _unique_slug(owner: User, name: str, *, exclude_id: int | None = None) -> str:
    base = slugify(name, allow_unicode=True)[:100] or "character"
    taken = set(
        Character.objects.filter(owner=owner, slug__startswith=base)
        .exclude(pk=exclude_id)
        .values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _apply_card(character: Character, card: CardData) -> list[str]:
    changed = [name for name in CARD_COLUMNS if getattr(character, name) != getattr(card, name)]
    for name in changed:
        setattr(character, name, getattr(card, name))
    if character.card_extra != card.extra:
        character.card_extra = card.extra
        changed.append("card_extra")
    return changed


def _avatar_png(data: bytes, *, field: str) -> bytes:
    try:
        return avatar_png_normalise(data)
    except CardError as error:
        raise CharacterError(str(error), field=field) from error


def _store_avatar(character: Character, avatar_png: bytes, *, field: str = "avatar") -> None:
    image = _avatar_png(avatar_png, field=field)
    character.avatar.save(f"{hashlib.sha256(image).hexdigest()[:16]}.png", ContentFile(image), save=False)


def _version_create(
    character: Character, *, card: CardData, author: User | None, summary: str
) -> CharacterVersion:
    last = character.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return CharacterVersion.objects.create(
        character=character,
        number=last + 1,
        snapshot=card_snapshot(card),
        change_summary=summary[:300],
        author=author,
    )


def _after_content_change(character: Character) -> None:
    from .tasks import character_embed

    character_id = character.pk
    # robust: a broker outage must not fail a save that already committed; the
    # periodic re-embed picks it up.
    transaction.on_commit(lambda: character_embed.delay(character_id), robust=True)


def _validate_card(card: CardData, *, field: str | None = None) -> None:
    """Every card field within its limit (characters/limits.py). `field`: the input to
    name instead of the card field (the uploaded file, for an import)."""
    refused_field, message = card_refusal(card)
    if message:
        raise CharacterError(message, field=field or refused_field)


@transaction.atomic
def character_create(
    *,
    owner: User,
    card: CardData,
    avatar_png: bytes | None = None,
    visibility: str = Visibility.PRIVATE,
    is_nsfw: bool = False,
    language: str = "en",
    forked_from: Character | None = None,
    change_summary: str = "Created",
    avatar_field: str = "avatar",
    book_field: str = "character_book",
    card_field: str | None = None,
    progress: Progress | None = None,
) -> Character:
    """`avatar_field`, `book_field`, `card_field`: the inputs to name when the avatar, the
    card's lorebook or a card field is refused (the uploaded file, for an import).
    `progress` hears of the book's entries being checked."""
    _validate_card(card, field=card_field)
    # Hash and snapshot the card as stored: tags folded to the existing tags' spelling.
    tags = tags_resolve(card.tags, field=card_field or "tags")
    card = dataclasses.replace(card, tags=[tag.name for tag in tags])
    character = Character(
        owner=owner,
        slug=_unique_slug(owner, card.name),
        visibility=visibility,
        is_nsfw=is_nsfw,
        language=language,
        forked_from=forked_from,
    )
    _apply_card(character, card)
    if card.character_book is not None:
        character.book = lorebook_create(
            owner=owner, value=card.character_book, field=book_field, progress=progress
        )
    if avatar_png is not None:
        _store_avatar(character, avatar_png, field=avatar_field)
    character.content_hash = card_content_hash(card)
    character.full_clean(exclude=["avatar"])
    character.save()
    Character.objects.filter(pk=character.pk).update(**_character_tags_set(character, tags))
    _version_create(character, card=card, author=owner, summary=change_summary)
    _after_content_change(character)
    return character


def character_card_read(*, data: bytes, filename: str | None = None) -> ParsedCard:
    """A card file (PNG, JSON or CHARX, told apart by content) read and sized up, nothing
    stored: the checks an import makes before it decides to run now or as a job."""
    try:
        parsed = parse_card_bytes(data, filename=filename, max_bytes=settings.CARD_MAX_BYTES)
    except CardError as error:
        raise CharacterError(str(error), field="file") from error
    _validate_card(parsed.card, field="file")
    if parsed.card.character_book is not None:
        _, message = lorebook_refusal(parsed.card.character_book)
        if message:
            raise CharacterError(message, field="file")
    return parsed


def character_import(
    *,
    owner: User,
    data: bytes,
    filename: str | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> Character:
    """A card file (PNG, JSON or CHARX, told apart by content) becomes a private character."""
    parsed = character_card_read(data=data, filename=filename)
    return character_import_parsed(
        owner=owner, parsed=parsed, filename=filename, progress=progress, **options
    )


def character_import_parsed(
    *,
    owner: User,
    parsed: ParsedCard,
    filename: str | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> Character:
    """A card `character_card_read` has read becomes a private character."""
    return character_create(
        owner=owner,
        card=parsed.card,
        avatar_png=parsed.avatar_png,
        change_summary=f"Imported from {filename or 'a file'} ({parsed.spec_version.upper()})",
        avatar_field="file",
        book_field="file",
        card_field="file",
        progress=progress,
        **options,
    )


@transaction.atomic
def character_update(
    *,
    character: Character,
    editor: User,
    card: CardData | None = None,
    avatar_png: bytes | None = None,
    settings_data: dict[str, Any] | None = None,
    change_summary: str = "",
) -> Character:
    """Apply card content and/or Tavern settings; a content change makes a new version."""
    character = Character.objects.select_for_update().get(pk=character.pk)
    changed: list[str] = []
    for name, value in (settings_data or {}).items():
        if name in ("visibility", "is_nsfw", "language") and getattr(character, name) != value:
            setattr(character, name, value)
            changed.append(name)
    content_changed = False
    if card is not None:
        _validate_card(card)
        tags = tags_resolve(card.tags)
        card = dataclasses.replace(card, tags=[tag.name for tag in tags])
        changed += _apply_card(character, card)
        current_tags = [t.name for t in character.tags.order_by("charactertag__position")]
        if current_tags != card.tags:
            for name, value in _character_tags_set(character, tags).items():
                setattr(character, name, value)
                changed.append(name)
        if card.character_book is not None:
            if character.book is None:
                character.book = lorebook_create(
                    owner=character.owner, value=card.character_book, field="character_book"
                )
                changed.append("book")
            else:
                lorebook_replace(book=character.book, value=card.character_book, field="character_book")
        elif character.book is not None:
            character.book = None
            changed.append("book")
        new_hash = card_content_hash(card)
        content_changed = new_hash != character.content_hash
        if content_changed:
            character.content_hash = new_hash
            changed.append("content_hash")
    if avatar_png is not None:
        _store_avatar(character, avatar_png)
        changed.append("avatar")
    if changed:
        character.full_clean(exclude=["avatar"])
        character.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
    if content_changed:
        assert card is not None
        _version_create(character, card=card, author=editor, summary=change_summary or "Edited")
        _after_content_change(character)
    return character


def character_version_restore(*, version: CharacterVersion, editor: User) -> Character:
    card = card_from_snapshot(version.snapshot)
    return character_update(
        character=version.character,
        editor=editor,
        card=card,
        change_summary=f"Restored version {version.number}",
    )


@transaction.atomic
def character_fork(*, character: Character, owner: User) -> Character:
    card = card_value(character)
    avatar = None
    if character.avatar:
        with character.avatar.open("rb") as file:
            avatar = file.read()
    return character_create(
        owner=owner,
        card=card,
        avatar_png=avatar,
        is_nsfw=character.is_nsfw,
        language=character.language,
        forked_from=character,
        change_summary=f"Forked from {character.owner.username}/{character.slug}",
    )


def character_delete(*, character: Character) -> Character:
    if character.deleted_at is None:
        character.deleted_at = timezone.now()
        character.save(update_fields=["deleted_at", "updated_at"])
    return character


def character_restore(*, character: Character) -> Character:
    if character.deleted_at is not None:
        character.deleted_at = None
        character.save(update_fields=["deleted_at", "updated_at"])
    return character


def character_moderate(*, character: Character, action: str) -> Character:
    """Back-office actions: hide, unhide, mark_nsfw, feature, unfeature, restore."""
    updates = {
        "hide": {"is_hidden": True},
        "unhide": {"is_hidden": False},
        "mark_nsfw": {"is_nsfw": True},
        "feature": {"is_featured": True},
        "unfeature": {"is_featured": False},
        "restore": {"deleted_at": None},
    }[action]
    for name, value in updates.items():
        setattr(character, name, value)
    character.save(update_fields=[*updates, "updated_at"])
    return character


@transaction.atomic
def favourite_set(*, user: User, character: Character, on: bool) -> bool:
    if on:
        _, created = Favourite.objects.get_or_create(user=user, character=character)
        if created:
            Character.objects.filter(pk=character.pk).update(favourite_count=F("favourite_count") + 1)
            from .trending import trending_record

            character_id = character.pk
            transaction.on_commit(lambda: trending_record(character_id=character_id, weight=2.0))
        return True
    deleted, _ = Favourite.objects.filter(user=user, character=character).delete()
    if deleted:
        Character.objects.filter(pk=character.pk).update(favourite_count=F("favourite_count") - 1)
    return False


def character_embedding_refresh(*, character_id: int) -> bool:
    """Embed the character when its content changed since the last embedding."""
    from tavern.ai.embeddings import embed_texts

    from .records import embedding_text

    character = Character.objects.filter(pk=character_id).first()
    if character is None or character.embedding_hash == character.content_hash:
        return False
    tags = list(character.tags.order_by("charactertag__position").values_list("name", flat=True))
    [vector] = embed_texts([embedding_text(character, tags)])
    Character.objects.filter(pk=character_id, content_hash=character.content_hash).update(
        embedding=vector, embedding_hash=character.content_hash
    )
    return True


# ---------------------------------------------------------------- personas


@transaction.atomic
@transaction.atomic
def persona_save(
    *, owner: User, persona: Persona | None, data: dict[str, Any], avatar_png: bytes | None = None
) -> Persona:
    persona = persona or Persona(owner=owner)
    for name, value in data.items():
        setattr(persona, name, value)
    if avatar_png is not None:
        image = _avatar_png(avatar_png, field="avatar")
        persona.avatar.save(f"{hashlib.sha256(image).hexdigest()[:16]}.png", ContentFile(image), save=False)
    if persona.is_default:
        Persona.objects.filter(owner=owner, is_default=True).exclude(pk=persona.pk).update(is_default=False)
    elif not Persona.objects.filter(owner=owner).exclude(pk=persona.pk).exists():
        persona.is_default = True  # the first persona is the default
    persona.full_clean(exclude=["avatar"])
    persona.save()
    return persona


@transaction.atomic
def persona_delete(*, persona: Persona) -> None:
    was_default = persona.is_default
    owner = persona.owner
    persona.delete()
    if was_default:
        successor = Persona.objects.filter(owner=owner).order_by("name", "id").first()
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])
