"""Characters (every Character Card V3 field), their versions, tags, categories,
favourites, lorebooks (every SillyTavern world-info field) and personas."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Lower
from pgvector.django import HnswIndex, VectorField

from characters.cards import Position, Role, SelectiveLogic

EMBEDDING_DIMENSIONS = 384


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    UNLISTED = "unlisted", "Unlisted (anyone with the link)"
    PUBLIC = "public", "Public"


def character_avatar_upload_to(instance: Character, filename: str) -> str:
    return f"characters/{instance.owner_id}/{uuid.uuid4().hex}.png"


def persona_avatar_upload_to(instance: Persona, filename: str) -> str:
    return f"personas/{instance.owner_id}/{uuid.uuid4().hex}.png"


class Tag(models.Model):
    """Case-insensitive: "Fantasy" and "fantasy" are one tag, shown as first written."""

    name = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(Lower("name"), name="characters_tag_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A tree: a category may sit under a parent."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Lorebook(models.Model):
    """World info: a character's own book, a user's global book, or one attached to chats."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lorebooks")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    scan_depth = models.PositiveIntegerField(null=True, blank=True)
    token_budget = models.PositiveIntegerField(null=True, blank=True)
    recursive_scanning = models.BooleanField(null=True, blank=True)
    extensions = models.JSONField(default=dict, blank=True)
    extra = models.JSONField(
        default=dict, blank=True, help_text="Fields Tavern does not know, kept for export."
    )
    is_global = models.BooleanField(default=False, help_text="Active in every chat of its owner.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at"])]

    def __str__(self) -> str:
        return self.name


class LorebookEntry(models.Model):
    """One world-info entry. Field names match `characters.cards.LorebookEntry`."""

    lorebook = models.ForeignKey(Lorebook, on_delete=models.CASCADE, related_name="entries")
    sort_index = models.PositiveIntegerField(default=0, help_text="Order in the book, kept on export.")
    uid = models.JSONField(null=True, blank=True)
    keys = models.JSONField(default=list, blank=True)
    secondary_keys = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    content = models.TextField(blank=True)
    constant = models.BooleanField(default=False)
    vectorized = models.BooleanField(default=False)
    selective = models.BooleanField(default=True)
    selective_logic = models.CharField(
        max_length=8,
        choices=[(v.value, v.name) for v in SelectiveLogic],
        default=SelectiveLogic.AND_ANY.value,
    )
    order = models.IntegerField(default=100)
    position = models.CharField(
        max_length=12, choices=[(v.value, v.name) for v in Position], default=Position.BEFORE_CHAR.value
    )
    disabled = models.BooleanField(default=False)
    exclude_recursion = models.BooleanField(default=False)
    prevent_recursion = models.BooleanField(default=False)
    delay_until_recursion = models.JSONField(default=bool, blank=True)
    probability = models.IntegerField(default=100)
    use_probability = models.BooleanField(default=True)
    depth = models.IntegerField(default=4)
    outlet_name = models.CharField(max_length=200, blank=True)
    group = models.CharField(max_length=200, blank=True)
    group_override = models.BooleanField(default=False)
    group_weight = models.IntegerField(default=100)
    scan_depth = models.IntegerField(null=True, blank=True)
    case_sensitive = models.BooleanField(null=True, blank=True)
    match_whole_words = models.BooleanField(null=True, blank=True)
    use_group_scoring = models.BooleanField(null=True, blank=True)
    automation_id = models.CharField(max_length=200, blank=True)
    role = models.CharField(
        max_length=10, choices=[(v.value, v.name) for v in Role], default=Role.SYSTEM.value
    )
    sticky = models.IntegerField(null=True, blank=True)
    cooldown = models.IntegerField(null=True, blank=True)
    delay = models.IntegerField(null=True, blank=True)
    display_index = models.IntegerField(null=True, blank=True)
    match_persona_description = models.BooleanField(default=False)
    match_character_description = models.BooleanField(default=False)
    match_character_personality = models.BooleanField(default=False)
    match_character_depth_prompt = models.BooleanField(default=False)
    match_scenario = models.BooleanField(default=False)
    match_creator_notes = models.BooleanField(default=False)
    ignore_budget = models.BooleanField(default=False)
    triggers = models.JSONField(default=list, blank=True)
    name = models.CharField(max_length=200, blank=True)
    priority = models.IntegerField(null=True, blank=True)
    use_regex = models.BooleanField(default=False)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["lorebook", "sort_index", "id"]
        verbose_name_plural = "lorebook entries"
        indexes = [models.Index(fields=["lorebook", "sort_index"])]

    def __str__(self) -> str:
        return self.comment or ", ".join(self.keys[:3]) or f"entry {self.pk}"


class CharacterQuerySet(models.QuerySet["Character"]):
    def alive(self) -> CharacterQuerySet:
        return self.filter(deleted_at__isnull=True)


class Character(models.Model):
    """A character card. Card fields keep their Character Card V3 names."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="characters")
    slug = models.SlugField(max_length=120, allow_unicode=True)

    # --- Character Card V3 data
    name = models.CharField(max_length=200)
    nickname = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    personality = models.TextField(blank=True)
    scenario = models.TextField(blank=True)
    first_mes = models.TextField(blank=True)
    mes_example = models.TextField(blank=True)
    alternate_greetings = models.JSONField(default=list, blank=True)
    group_only_greetings = models.JSONField(default=list, blank=True)
    system_prompt = models.TextField(blank=True)
    post_history_instructions = models.TextField(blank=True)
    creator_notes = models.TextField(blank=True)
    creator_notes_multilingual = models.JSONField(default=dict, blank=True)
    creator = models.CharField(max_length=200, blank=True)
    character_version = models.CharField(max_length=100, blank=True)
    tags = models.ManyToManyField(Tag, through="CharacterTag", related_name="characters", blank=True)
    source = models.JSONField(default=list, blank=True)
    creation_date = models.BigIntegerField(null=True, blank=True, help_text="The card's own, Unix seconds.")
    modification_date = models.BigIntegerField(
        null=True, blank=True, help_text="The card's own, Unix seconds."
    )
    extensions = models.JSONField(default=dict, blank=True)
    assets = models.JSONField(default=list, blank=True)
    card_extra = models.JSONField(default=dict, blank=True, help_text="Card fields Tavern does not know.")
    book = models.OneToOneField(
        Lorebook, null=True, blank=True, on_delete=models.SET_NULL, related_name="character"
    )

    # --- Tavern
    avatar = models.ImageField(upload_to=character_avatar_upload_to, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    is_nsfw = models.BooleanField(default=False)
    language = models.CharField(max_length=16, default="en")
    categories = models.ManyToManyField(Category, related_name="characters", blank=True)
    forked_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks"
    )
    tag_text = models.TextField(blank=True, editable=False, help_text="Tag names, for full-text search.")
    tag_keys = ArrayField(
        models.CharField(max_length=64),
        default=list,
        blank=True,
        editable=False,
        help_text="Tag names, lower-cased by PostgreSQL, for the tag filter.",
    )
    chat_count = models.PositiveIntegerField(default=0)
    favourite_count = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    is_hidden = models.BooleanField(default=False, help_text="Hidden by a moderator.")
    is_featured = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True, editable=False)
    embedding_hash = models.CharField(max_length=64, blank=True, editable=False)
    search_vector = models.GeneratedField(
        expression=SearchVector("name", weight="A", config="simple")
        + SearchVector("tag_text", weight="A", config="simple")
        + SearchVector("description", weight="B", config="simple")
        + SearchVector("creator_notes", weight="C", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = CharacterQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "slug"], name="characters_character_owner_slug_unique"),
        ]
        indexes = [
            models.Index(fields=["owner", "-updated_at"]),
            models.Index(
                fields=["-created_at", "-id"],
                name="characters_public_new_idx",
                condition=models.Q(visibility="public", deleted_at__isnull=True, is_hidden=False),
            ),
            models.Index(
                fields=["-chat_count", "-id"],
                name="characters_public_popular_idx",
                condition=models.Q(visibility="public", deleted_at__isnull=True, is_hidden=False),
            ),
            GinIndex(fields=["search_vector"], name="characters_search_gin"),
            GinIndex(fields=["tag_keys"], name="characters_tag_keys_gin"),
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="characters_name_trgm"),
            HnswIndex(
                name="characters_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class CharacterTag(models.Model):
    character = models.ForeignKey(Character, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["character", "tag"], name="characters_charactertag_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.character_id}:{self.tag_id}"


class CharacterVersion(models.Model):
    """An immutable snapshot (the full V3 card, book included) taken on each content change."""

    character = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    change_summary = models.CharField(max_length=300, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["character", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["character", "number"], name="characters_version_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.character_id} v{self.number}"


class Favourite(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites")
    character = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "character"], name="characters_favourite_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.character_id}"


class DescriptionPosition(models.TextChoices):
    IN_PROMPT = "in_prompt", "In the prompt (after the character)"
    TOP_AN = "top_an", "Top of author's note"
    BOTTOM_AN = "bottom_an", "Bottom of author's note"
    AT_DEPTH = "at_depth", "At a depth in the chat"
    NONE = "none", "Not sent"


class Persona(models.Model):
    """Who the user plays as in a chat."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personas")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    avatar = models.ImageField(upload_to=persona_avatar_upload_to, blank=True)
    is_default = models.BooleanField(default=False)
    description_position = models.CharField(
        max_length=10, choices=DescriptionPosition.choices, default=DescriptionPosition.IN_PROMPT
    )
    depth = models.PositiveSmallIntegerField(default=2)
    role = models.CharField(
        max_length=10, choices=[(v.value, v.name) for v in Role], default=Role.SYSTEM.value
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=models.Q(is_default=True), name="characters_persona_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name
