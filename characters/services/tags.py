"""Tags: resolved by name (one tag whatever the case) and linked in card order."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models.functions import Lower

from ..limits import MAX_TAGS
from ..models import Character, CharacterTag, Tag
from .errors import CharacterError


def tags_resolve(names: list[str], *, field: str = "tags") -> list[Tag]:
    """Tags for these names, created when new; "Fantasy" and "fantasy" are one tag.
    `field`: the input to name when there are too many (the uploaded file, for an import).
    Each tag carries `lower`, its name lower-cased by PostgreSQL (what `tag_keys` holds).
    Names are told apart as PostgreSQL lower-cases them, which is what the unique index
    compares (Python and PostgreSQL differ on some letters, e.g. "İ")."""
    cleaned = [" ".join(str(raw).split())[:64] for raw in names]
    cleaned = [name for name in cleaned if name]
    wanted: dict[str, str] = {}
    for name, key in zip(cleaned, _lowered(cleaned), strict=True):
        wanted.setdefault(key, name)
    if len(wanted) > MAX_TAGS:
        raise CharacterError(f"A character can have at most {MAX_TAGS} tags.", field=field)
    existing = {tag.lower: tag for tag in Tag.objects.annotate(lower=Lower("name")).filter(lower__in=wanted)}
    missing = [Tag(name=name) for key, name in wanted.items() if key not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {
            tag.lower: tag for tag in Tag.objects.annotate(lower=Lower("name")).filter(lower__in=wanted)
        }
    return [existing[key] for key in wanted]


def _lowered(names: list[str]) -> list[str]:
    """The names lower-cased as PostgreSQL does: Python's own for ASCII (the same), a
    query only when a name has other letters."""
    if all(name.isascii() for name in names):
        return [name.lower() for name in names]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT lower(name) FROM unnest(%s::text[]) WITH ORDINALITY AS given(name, n) ORDER BY n",
            [names],
        )
        return [row[0] for row in cursor.fetchall()]


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
