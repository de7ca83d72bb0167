"""Characters, their versions and tags: input validated (never acted on), output shaped."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cached_property
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from characters.cards import CardData, CardError, lorebook_from_book
from characters.cards import Lorebook as LorebookValue
from characters.models import Character, CharacterVersion, Tag, Visibility
from characters.selectors import character_tag_names

from .fields import StringField, avatar_url, card_text, card_texts, json_object

# Every CardData field but `extra` (what the card holds that no spec defines: read-only here).
CARD_FIELDS = tuple(field.name for field in dataclasses.fields(CardData) if field.name != "extra")
SETTINGS_FIELDS = ("visibility", "is_nsfw", "language")


class CharacterInput(serializers.Serializer):
    """Every Character Card V3 field, plus Tavern's settings of the character."""

    name = serializers.CharField(max_length=200, trim_whitespace=False)
    nickname = card_text(max_length=200)
    description = card_text()
    personality = card_text()
    scenario = card_text()
    first_mes = card_text()
    mes_example = card_text()
    alternate_greetings = card_texts()
    group_only_greetings = card_texts()
    system_prompt = card_text()
    post_history_instructions = card_text()
    creator_notes = card_text()
    creator_notes_multilingual = serializers.DictField(
        child=StringField(trim_whitespace=False, allow_blank=True), required=False
    )
    creator = card_text(max_length=200)
    character_version = card_text(max_length=100)
    tags = serializers.ListField(child=StringField(max_length=64), required=False)
    source = card_texts()
    creation_date = serializers.IntegerField(required=False, allow_null=True)
    modification_date = serializers.IntegerField(required=False, allow_null=True)
    extensions = serializers.JSONField(required=False)
    assets = serializers.ListField(child=serializers.JSONField(), required=False)
    character_book = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="A V2/V3 `character_book` object; null removes the book.",
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    is_nsfw = serializers.BooleanField(required=False)
    language = serializers.CharField(max_length=16, required=False)

    def validate_extensions(self, value: Any) -> dict[str, Any]:
        return json_object(value)

    def validate_assets(self, value: list[Any]) -> list[dict[str, Any]]:
        for asset in value:
            json_object(asset, label="each asset to be an object of type, uri, name and ext")
        return value

    def validate_character_book(self, value: Any) -> LorebookValue | None:
        if value is None:
            return None
        try:
            return lorebook_from_book(value, "character_book")
        except CardError as error:
            raise serializers.ValidationError(str(error)) from error

    def card_changes(self) -> dict[str, Any]:
        return {name: value for name, value in self.validated_data.items() if name in CARD_FIELDS}

    def settings_changes(self) -> dict[str, Any]:
        return {name: value for name, value in self.validated_data.items() if name in SETTINGS_FIELDS}


class CharacterUpdateInput(CharacterInput):
    change_summary = serializers.CharField(
        max_length=300, required=False, allow_blank=True, help_text="What changed, for the version history."
    )


class CharacterListOutput(serializers.ModelSerializer):
    avatar = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.username", help_text="The creator's username.")
    rating = serializers.FloatField(allow_null=True, help_text="Average stars, null when unrated.")
    # A CharField, not the model's SlugField: slugs keep letters of every script (林晚照), which
    # the ASCII-only pattern a SlugField documents would call invalid.
    slug = serializers.CharField(
        read_only=True, help_text="The URL name: letters of any script, digits, - and _."
    )

    class Meta:
        model = Character
        fields = [
            "id",
            "slug",
            "name",
            "avatar",
            "tags",
            "owner",
            "visibility",
            "is_nsfw",
            "language",
            "chat_count",
            "favourite_count",
            "rating_count",
            "rating",
            "created_at",
            "updated_at",
            "deleted_at",
        ]
        read_only_fields = fields

    # The columns a row reads: list views load only these (`.only(*CharacterListOutput.COLUMNS)`),
    # not the card's long texts.
    COLUMNS = (
        *(name for name in Meta.fields if name not in ("tags", "owner", "rating")),
        "owner__username",
        "rating_sum",
    )

    def get_avatar(self, character: Character) -> str | None:
        return avatar_url(character.avatar)

    def get_tags(self, character: Character) -> list[str]:
        return character_tag_names(character)

    def to_representation(self, instance: Character) -> dict[str, Any]:
        """The fields above, written out: a page of 100 rows through DRF's per-field
        machinery cost more than its queries. `test_list_row_matches_the_declared_fields`
        holds this to what the fields would say."""
        datetime = self._datetime
        return {
            "id": instance.pk,
            "slug": instance.slug,
            "name": instance.name,
            "avatar": avatar_url(instance.avatar),
            "tags": character_tag_names(instance),
            "owner": instance.owner.username,
            "visibility": instance.visibility,
            "is_nsfw": instance.is_nsfw,
            "language": instance.language,
            "chat_count": instance.chat_count,
            "favourite_count": instance.favourite_count,
            "rating_count": instance.rating_count,
            "rating": instance.rating,
            "created_at": datetime(instance.created_at),
            "updated_at": datetime(instance.updated_at),
            "deleted_at": datetime(instance.deleted_at),
        }

    @cached_property
    def _datetime(self) -> Callable[[Any], Any]:
        return self.fields["created_at"].to_representation  # DRF's format and time zone


class BookSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    entry_count = serializers.IntegerField()


class CharacterDetailOutput(CharacterListOutput):
    book = serializers.SerializerMethodField()
    versions_count = serializers.SerializerMethodField()
    extra = serializers.JSONField(source="card_extra", help_text="Card fields Tavern does not know.")

    class Meta(CharacterListOutput.Meta):
        fields = [
            *CharacterListOutput.Meta.fields,
            *(name for name in CARD_FIELDS if name not in ("name", "tags", "character_book")),
            "extra",
            "book",
            "versions_count",
            "forked_from",
        ]
        read_only_fields = fields

    @extend_schema_field(BookSummaryOutput(allow_null=True))
    def get_book(self, character: Character) -> dict[str, Any] | None:
        book = character.book
        if book is None:
            return None
        return {"id": book.pk, "name": book.name, "entry_count": book.entries.count()}

    def get_versions_count(self, character: Character) -> int:
        return character.versions.count()

    def to_representation(self, instance: Character) -> dict[str, Any]:
        # One row: every declared field, the generic way.
        return serializers.ModelSerializer.to_representation(self, instance)


class FavouriteOutput(serializers.Serializer):
    is_favourite = serializers.BooleanField()
    favourite_count = serializers.IntegerField()


# ---------------------------------------------------------------- versions


class VersionOutput(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", allow_null=True, default=None)

    class Meta:
        model = CharacterVersion
        fields = ["number", "change_summary", "author", "created_at"]
        read_only_fields = fields


class VersionDetailOutput(VersionOutput):
    snapshot = serializers.JSONField(help_text="The full Character Card V3 JSON of this version.")

    class Meta(VersionOutput.Meta):
        fields = [*VersionOutput.Meta.fields, "snapshot"]
        read_only_fields = fields


class FieldChangeOutput(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    diff = serializers.CharField(help_text="A unified diff of the text (or of the JSON).")


class VersionDiffOutput(serializers.Serializer):
    to = serializers.IntegerField(help_text="The newer version's number.")
    changes = FieldChangeOutput(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # `from` is a Python keyword, so it cannot be declared as an attribute.
        return {
            "from": serializers.IntegerField(help_text="The older version's number."),
            **super().get_fields(),
        }


# ---------------------------------------------------------------- tags


class TagOutput(serializers.ModelSerializer):
    character_count = serializers.IntegerField(help_text="Public characters with this tag.")

    class Meta:
        model = Tag
        fields = ["id", "name", "character_count"]
        read_only_fields = fields
