"""Reads for characters, lorebooks and personas, each checking who may see what.

Another user's private character looks exactly like a missing one (404)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Greatest, Lower
from django.http import Http404
from pgvector.django import CosineDistance

from accounts.models import User
from tavern.compiled_query import CompiledQuery
from tavern.db_router import on_primary, on_read_database, reading_from_replica

from .models import (
    Character,
    CharacterTag,
    CharacterVersion,
    Favourite,
    Lorebook,
    LorebookEntry,
    Persona,
    Visibility,
)

SEARCH_CANDIDATES = 1000
SORTS = ("relevance", "popular", "new", "top_rated", "trending")
SEARCH_MODES = ("text", "meaning")
_TRIGRAM_THRESHOLD = 0.3

AnyUser = User | AnonymousUser


def _viewer_id(user: AnyUser) -> int | None:
    return user.pk if user.is_authenticated else None


def _tags_prefetch() -> Prefetch:
    return Prefetch(
        "charactertag_set", queryset=CharacterTag.objects.select_related("tag").order_by("position", "id")
    )


def character_list_base() -> QuerySet[Character]:
    """What a list shows: owner and tags fetched with a constant number of queries;
    the search columns (1.5 KB of vector a row) stay in the database."""
    return (
        Character.objects.select_related("owner")
        .prefetch_related(_tags_prefetch())
        .defer("embedding", "search_vector")
    )


def characters_discoverable(*, user: AnyUser) -> QuerySet[Character]:
    """Public, alive, not hidden; NSFW only for users who see it."""
    queryset = character_list_base().filter(
        visibility=Visibility.PUBLIC, deleted_at__isnull=True, is_hidden=False
    )
    if not _sees_nsfw(user):
        queryset = queryset.filter(is_nsfw=False)
    return queryset


def _sees_nsfw(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.sees_nsfw)


def character_get_visible(*, character_id: int, user: AnyUser) -> Character:
    """A character the user may open (read, export, chat with): theirs (even deleted),
    or public/unlisted and alive, NSFW only for adults who opted in."""
    viewer = _viewer_id(user)
    visible = Q(
        visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED], deleted_at__isnull=True, is_hidden=False
    )
    if not _sees_nsfw(user):
        visible &= Q(is_nsfw=False)
    if viewer is not None:
        visible |= Q(owner_id=viewer)
    character = (
        Character.objects.select_related("owner", "book", "forked_from__owner")
        .prefetch_related(_tags_prefetch())
        .filter(visible, pk=character_id)
        .first()
    )
    if character is None:
        raise Http404
    return character


def character_get_owned(*, character_id: int, user: AnyUser) -> Character:
    if not user.is_authenticated:
        raise Http404
    character = (
        Character.objects.select_related("owner", "book")
        .prefetch_related(_tags_prefetch())
        .filter(pk=character_id, owner=user)
        .first()
    )
    if character is None:
        raise Http404
    return character


def character_get_by_reference(*, reference: str, user: User) -> Character:
    """One of the user's characters by id or slug (the OpenAI endpoint's `model`)."""
    query = Q(slug=reference)
    if reference.isdigit():
        query |= Q(pk=int(reference))
    character = Character.objects.filter(query, owner=user, deleted_at__isnull=True).first()
    if character is None:
        raise Http404
    return character


def characters_owned(*, user: User, deleted: bool = False) -> QuerySet[Character]:
    return (
        character_list_base()
        .filter(owner=user, deleted_at__isnull=not deleted)
        .order_by("-updated_at", "-id")
    )


def character_tag_names(character: Character) -> list[str]:
    """Tag names in card order (from `with_tag_names`, or the prefetch when there is one)."""
    names = getattr(character, "tag_names", None)
    if names is not None:
        return names
    return [link.tag.name for link in character.charactertag_set.all()]


def with_tag_names(queryset: QuerySet[Character]) -> QuerySet[Character]:
    """Tag names as an array on each row of the page query, for lists that show only the
    names: one query less than the prefetch, and no model object per tag."""
    names = (
        CharacterTag.objects.filter(character=OuterRef("pk")).order_by("position", "id").values("tag__name")
    )
    return queryset.prefetch_related(None).annotate(tag_names=ArraySubquery(names))


def with_favourite_flag(queryset: QuerySet[Character], *, user: AnyUser) -> QuerySet[Character]:
    """The viewer's own favourites, which they may have changed a moment ago: read from the
    primary, even for a library page that would otherwise read the replica."""
    if not user.is_authenticated:
        return queryset.annotate(is_favourite=Value(False))
    return on_primary(
        queryset.annotate(is_favourite=Exists(Favourite.objects.filter(user=user, character=OuterRef("pk"))))
    )


@dataclass(frozen=True)
class SearchFilters:
    q: str = ""
    mode: str = "text"
    tags: tuple[str, ...] = ()
    creator: str = ""
    language: str = ""
    sort: str = ""
    category: str = ""


def character_search(*, user: AnyUser, filters: SearchFilters) -> QuerySet[Character]:
    """Browse and search the public library.

    text: full text over name and tags (A), description (B) and creator notes (C),
    or a fuzzy name match (trigram) for typos. meaning: nearest embeddings (HNSW).

    Public rows only, the heaviest reads there are, and a second's lag is harmless: the
    queryset reads the replica when there is one (tavern/db_router.py).
    """
    with reading_from_replica():
        return on_read_database(_character_search(user=user, filters=filters))


def _character_search(*, user: AnyUser, filters: SearchFilters) -> QuerySet[Character]:
    queryset = characters_discoverable(user=user)
    if filters.tags:
        queryset = queryset.filter(_has_every_tag(filters.tags))
    if filters.creator:
        queryset = queryset.filter(owner__username=filters.creator)
    if filters.language:
        queryset = queryset.filter(language=filters.language)
    if filters.category:
        queryset = queryset.filter(categories__slug=filters.category)

    q = filters.q.strip()
    sort = filters.sort or ("relevance" if q else "popular")
    if q and filters.mode == "meaning":
        from tavern.ai.embeddings import embed_texts

        [vector] = embed_texts([q])
        # Ordered by distance alone so the HNSW index serves it.
        return (
            queryset.filter(embedding__isnull=False)
            .annotate(distance=CosineDistance("embedding", vector))
            .order_by("distance")
        )
    if q:
        query = SearchQuery(q, search_type="websearch", config="simple")
        # Rank at most SEARCH_CANDIDATES matches (the most popular ones): a word found in
        # half the library must not cost a sort of half the library.
        candidates = (
            queryset.filter(Q(search_vector=query) | Q(name__trigram_word_similar=q))
            .order_by("-chat_count", "-id")
            .values("pk")[:SEARCH_CANDIDATES]
        )
        queryset = queryset.filter(pk__in=Subquery(candidates)).annotate(
            rank=SearchRank(F("search_vector"), query),
            name_similarity=TrigramWordSimilarity(q, "name"),
        )
        if sort == "relevance":
            return queryset.annotate(score=Greatest(F("rank"), F("name_similarity"))).order_by(
                "-score", "-id"
            )
    return _sorted(queryset, sort)


def _has_every_tag(names: tuple[str, ...]) -> Func:
    """`tag_keys @> ARRAY[lower(name), ...]` (the GIN index serves it): case-insensitive,
    lower-cased by PostgreSQL as `tag_keys` were. Not the ArrayField lookup, which would
    cast the names to varchar(64) and so cut a longer one down to a tag it is not."""
    wanted = Func(
        *[Lower(Value(name, output_field=CharField())) for name in names],
        template="ARRAY[%(expressions)s]::varchar[]",
    )
    return Func(
        F("tag_keys"), wanted, template="%(expressions)s", arg_joiner=" @> ", output_field=BooleanField()
    )


def _sorted(queryset: QuerySet[Character], sort: str) -> QuerySet[Character]:
    if sort == "new":
        return queryset.order_by("-created_at", "-id")
    if sort == "top_rated":
        return queryset.order_by(
            F("rating_sum") * 1.0 / Greatest(F("rating_count"), 1) * -1, "-rating_count", "-id"
        )
    if sort == "trending":
        from .trending import trending_ids

        ids = trending_ids()
        if ids:
            from django.db.models import Case, IntegerField, When

            order = Case(
                *[When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)],
                default=Value(len(ids)),
                output_field=IntegerField(),
            )
            return queryset.order_by(order, "-chat_count", "-id")
        return queryset.order_by("-favourite_count", "-chat_count", "-id")
    return queryset.order_by("-chat_count", "-favourite_count", "-id")


@reading_from_replica()  # public characters only, one nearest-neighbour search
def character_similar(*, character: Character, user: AnyUser, limit: int = 8) -> list[Character]:
    if character.embedding is None:
        return []
    return list(
        characters_discoverable(user=user)
        .exclude(pk=character.pk)
        .filter(embedding__isnull=False)
        .annotate(distance=CosineDistance("embedding", character.embedding))
        .order_by("distance")[:limit]
    )


# ---------------------------------------------------------------- versions


def character_versions(*, character: Character) -> QuerySet[CharacterVersion]:
    return character.versions.select_related("author").order_by("-number")


def character_version_get(*, character: Character, number: int) -> CharacterVersion:
    version = character.versions.select_related("author").filter(number=number).first()
    if version is None:
        raise Http404
    return version


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any
    diff: str  # unified diff for text, empty for other values


def character_version_diff(*, older: CharacterVersion, newer: CharacterVersion) -> list[FieldChange]:
    """What changed between two snapshots, field by field (card data, book included)."""
    before = older.snapshot.get("data", {})
    after = newer.snapshot.get("data", {})
    changes = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if isinstance(old, str) and isinstance(new, str):
            diff = "\n".join(
                difflib.unified_diff(
                    old.splitlines(), new.splitlines(), f"v{older.number}", f"v{newer.number}", lineterm=""
                )
            )
        else:
            diff = "\n".join(
                difflib.unified_diff(
                    json.dumps(old, indent=1, ensure_ascii=False, sort_keys=True).splitlines(),
                    json.dumps(new, indent=1, ensure_ascii=False, sort_keys=True).splitlines(),
                    f"v{older.number}",
                    f"v{newer.number}",
                    lineterm="",
                )
            )
        changes.append(FieldChange(field=name, before=old, after=new, diff=diff))
    return changes


# ---------------------------------------------------------------- lorebooks, personas


def lorebooks_owned(*, user: User) -> QuerySet[Lorebook]:
    from django.db.models import Count

    return (
        Lorebook.objects.filter(owner=user)
        .annotate(entry_count=Count("entries"))
        .order_by("-updated_at", "-id")
    )


def lorebook_get_owned(*, lorebook_id: int, user: AnyUser) -> Lorebook:
    if not user.is_authenticated:
        raise Http404
    book = Lorebook.objects.filter(pk=lorebook_id, owner=user).first()
    if book is None:
        raise Http404
    return book


def lorebook_entry_get_owned(*, lorebook: Lorebook, entry_id: int) -> LorebookEntry:
    entry = LorebookEntry.objects.filter(pk=entry_id, lorebook=lorebook).first()
    if entry is None:
        raise Http404
    return entry


def lorebooks_in_play(*, owner_id: int, book_ids: Iterable[int], extra_ids: Any = ()) -> list[Lorebook]:
    """The books a turn reads, by id: the characters' own books (`book_ids`), the ones its
    chat adds (`extra_ids`: ids, or a subquery of them), and the owner's global books."""
    return list(
        Lorebook.objects.filter(
            Q(pk__in=list(book_ids)) | Q(pk__in=extra_ids) | Q(owner_id=owner_id, is_global=True)
        )
        .distinct()
        .order_by("pk")
    )


def lorebooks_in_play_query(*id_queries: Callable[[Any], QuerySet[Any]]) -> CompiledQuery[Lorebook]:
    """`lorebooks_in_play` compiled once (tavern.compiled_query) for a caller that reads
    it on every turn: the books whose ids one of `id_queries(p)` selects (subqueries of
    the caller's own tables, e.g. a chat's), and the global books of `p.owner_id`."""

    def build(p: Any) -> QuerySet[Lorebook]:
        chosen = Q(owner_id=p.owner_id, is_global=True)
        for ids in id_queries:
            chosen |= Q(pk__in=ids(p))
        return Lorebook.objects.filter(chosen).order_by("pk")

    return CompiledQuery(build)


def lorebook_entries_of(*, books: Iterable[Lorebook]) -> QuerySet[LorebookEntry]:
    """Every entry of the books, in each book's order (for compiling them)."""
    return LorebookEntry.objects.filter(lorebook__in=list(books)).order_by("lorebook_id", "sort_index", "id")


def persona_default(*, user: User) -> Persona | None:
    return Persona.objects.filter(owner=user, is_default=True).first()


def personas_owned(*, user: User) -> QuerySet[Persona]:
    return Persona.objects.filter(owner=user).order_by("-is_default", "name", "id")


def persona_get_owned(*, persona_id: int, user: AnyUser) -> Persona:
    if not user.is_authenticated:
        raise Http404
    persona = Persona.objects.filter(pk=persona_id, owner=user).first()
    if persona is None:
        raise Http404
    return persona
