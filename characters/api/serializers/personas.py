"""Personas: input (an optional avatar upload) and output."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from rest_framework import serializers

from characters.models import DescriptionPosition, Persona

from .fields import avatar_url


class PersonaInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    is_default = serializers.BooleanField(required=False)
    description_position = serializers.ChoiceField(choices=DescriptionPosition.choices, required=False)
    depth = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    role = serializers.ChoiceField(choices=Persona._meta.get_field("role").choices, required=False)
    avatar = serializers.FileField(required=False, help_text="PNG, JPEG or WebP (multipart only).")

    def validate_avatar(self, value: Any) -> Any:
        if value.size > settings.AVATAR_MAX_BYTES:
            raise serializers.ValidationError(
                f"The avatar is larger than the limit of {filesizeformat(settings.AVATAR_MAX_BYTES)}."
            )
        return value

    def persona_data(self) -> dict[str, Any]:
        return {name: value for name, value in self.validated_data.items() if name != "avatar"}

    def avatar_bytes(self) -> bytes | None:
        avatar = self.validated_data.get("avatar")
        return avatar.read() if avatar is not None else None


class PersonaOutput(serializers.ModelSerializer):
    avatar = serializers.SerializerMethodField()

    class Meta:
        model = Persona
        fields = [
            "id",
            "name",
            "description",
            "avatar",
            "is_default",
            "description_position",
            "depth",
            "role",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_avatar(self, persona: Persona) -> str | None:
        return avatar_url(persona.avatar)
