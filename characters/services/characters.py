"""Writes for characters: create, import, update (a content change makes a version), fork,
delete and restore, moderation, favourites, the embedding."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from characters.cards import CardData, CardError, ParsedCard, parse_card_bytes
from tavern.ai.embeddings import embed_texts

from ..images import avatar_png_normalise
from ..limits import card_refusal, lorebook_refusal
from ..models import Character, CharacterVersion, Favourite, Visibility
from ..records import (
    CARD_COLUMNS,
    card_content_hash,
    card_from_snapshot,
    card_snapshot,
    card_value,
    embedding_text,
)
from ..trending import trending_record
from .errors import CharacterError
from .lorebooks import Progress, lorebook_create, lorebook_replace
from .tags import _character_tags_set, tags_resolve


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
    from ..tasks import character_embed  # a real cycle: the tasks call these services

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
            character_id = character.pk
            transaction.on_commit(lambda: trending_record(character_id=character_id, weight=2.0))
        return True
    deleted, _ = Favourite.objects.filter(user=user, character=character).delete()
    if deleted:
        Character.objects.filter(pk=character.pk).update(favourite_count=F("favourite_count") - 1)
    return False


def character_embedding_refresh(*, character_id: int) -> bool:
    """Embed the character when its content changed since the last embedding."""
    character = Character.objects.filter(pk=character_id).first()
    if character is None or character.embedding_hash == character.content_hash:
        return False
    tags = list(character.tags.order_by("charactertag__position").values_list("name", flat=True))
    [vector] = embed_texts([embedding_text(character, tags)])
    Character.objects.filter(pk=character_id, content_hash=character.content_hash).update(
        embedding=vector, embedding_hash=character.content_hash
    )
    return True


def characters_chat_started(*, character_ids: list[int]) -> None:
    """A chat with these characters began: their chat counts go up by one."""
    Character.objects.filter(pk__in=character_ids).update(chat_count=F("chat_count") + 1)
