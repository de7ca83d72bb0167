"""Input pieces the characters API shares: strict strings, card text kept as written,
JSON objects, uploaded files."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from rest_framework import serializers


def card_text(**kwargs: Any) -> serializers.CharField:
    """Card text kept exactly as written (leading spaces and blank lines matter in prompts)."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    return serializers.CharField(trim_whitespace=False, **kwargs)


class StringField(serializers.CharField):
    """A JSON string, and only a string: DRF's CharField would also take 1 or 2.5."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def card_texts(**kwargs: Any) -> serializers.ListField:
    """A list of card texts, kept as written."""
    return serializers.ListField(
        child=StringField(trim_whitespace=False, allow_blank=True), required=False, **kwargs
    )


def json_object(value: Any, *, label: str = "a JSON object") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise serializers.ValidationError(f"Expected {label}.")
    return value


class FileUploadInput(serializers.Serializer):
    file = serializers.FileField(help_text="The file to import.")

    def validate_file(self, value: Any) -> Any:
        # Refused before anything is read; the services check the bytes they get as well.
        if value.size > settings.CARD_MAX_BYTES:
            raise serializers.ValidationError(
                f"The file is larger than the limit of {filesizeformat(settings.CARD_MAX_BYTES)}."
            )
        return value


def avatar_url(field: Any) -> str | None:
    return field.url if field else None
