"""Tags: resolved by name (one tag whatever the case) and linked in card order."""

from __future__ import annotations

from typing import Any

from django.db.models.functions import Lower

from ..limits import MAX_TAGS
from ..models import Character, CharacterTag, Tag
from .errors import CharacterError


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
