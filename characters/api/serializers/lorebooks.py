"""Lorebooks and their entries: every world-info field, validated; output shaped."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from characters.cards import Lorebook as LorebookValue
from characters.cards import LorebookEntry as LorebookEntryValue
from characters.cards import Position, Role, SelectiveLogic
from characters.models import Lorebook, LorebookEntry
from characters.records import BOOK_COLUMNS

from .fields import FileUploadInput, StringField, card_texts, json_object

_ENUM_FIELDS = {"position": Position, "selective_logic": SelectiveLogic, "role": Role}


class LorebookEntryInput(serializers.ModelSerializer):
    """Every world-info field of an entry; validated here, saved by `lorebook_entry_save`."""

    keys = card_texts()
    secondary_keys = card_texts()
    triggers = serializers.ListField(child=StringField(), required=False)
    uid = serializers.JSONField(required=False, allow_null=True, help_text="A number, a string or null.")
    delay_until_recursion = serializers.JSONField(
        required=False, help_text="true/false, or the recursion level to wait for."
    )
    extra = serializers.JSONField(required=False)

    class Meta:
        model = LorebookEntry
        exclude = ["id", "lorebook"]

    def validate_uid(self, value: Any) -> int | str | None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | str)):
            raise serializers.ValidationError("Expected a number, a string or null.")
        return value

    def validate_delay_until_recursion(self, value: Any) -> bool | int:
        if not isinstance(value, bool | int):
            raise serializers.ValidationError("Expected true, false or a whole number.")
        return value

    def validate_extra(self, value: Any) -> dict[str, Any]:
        return json_object(value)


def lorebook_entry_value(data: dict[str, Any]) -> LorebookEntryValue:
    """A validated `LorebookEntryInput` as the card value (order in the book is the list's)."""
    values = {name: value for name, value in data.items() if name != "sort_index"}
    for name, enum in _ENUM_FIELDS.items():
        if name in values:
            values[name] = enum(values[name])
    return LorebookEntryValue(**values)


class LorebookEntryOutput(serializers.ModelSerializer):
    class Meta:
        model = LorebookEntry
        exclude = ["lorebook"]
        read_only_fields = [field.name for field in LorebookEntry._meta.fields if field.name != "lorebook"]


class LorebookInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, required=False)
    scan_depth = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    token_budget = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    recursive_scanning = serializers.BooleanField(allow_null=True, required=False)
    extensions = serializers.JSONField(required=False)
    extra = serializers.JSONField(required=False)
    is_global = serializers.BooleanField(required=False, help_text="Active in every chat of its owner.")

    def validate_extensions(self, value: Any) -> dict[str, Any]:
        return json_object(value)

    def validate_extra(self, value: Any) -> dict[str, Any]:
        return json_object(value)


class LorebookCreateInput(LorebookInput):
    entries = LorebookEntryInput(many=True, required=False)

    def lorebook_value(self) -> LorebookValue:
        data = self.validated_data
        return LorebookValue(
            **{name: data[name] for name in BOOK_COLUMNS if name in data},
            entries=[lorebook_entry_value(entry) for entry in data.get("entries", [])],
        )


class LorebookOutput(serializers.ModelSerializer):
    entry_count = serializers.SerializerMethodField()

    class Meta:
        model = Lorebook
        fields = [
            "id",
            "name",
            "description",
            "scan_depth",
            "token_budget",
            "recursive_scanning",
            "extensions",
            "extra",
            "is_global",
            "entry_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_entry_count(self, book: Lorebook) -> int:
        # Lists annotate it (`lorebooks_owned`); a single book counts.
        counted = getattr(book, "entry_count", None)
        return counted if counted is not None else book.entries.count()


class LorebookImportInput(FileUploadInput):
    name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Overrides the name in the file."
    )
