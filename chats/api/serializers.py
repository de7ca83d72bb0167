from __future__ import annotations

from typing import Any

from django.template.defaultfilters import filesizeformat
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chats.limits import MAX_MESSAGE_CHARS, PRESET_MAX_STOP_STRINGS, PRESET_RANGES, chat_import_max_bytes
from chats.models import Chat, ChatParticipant, ModelConnection, Preset, SpeakerStrategy
from tavern.outbound import validate_outbound_url


class ParticipantOutput(serializers.ModelSerializer):
    character_id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="character.name", read_only=True)
    avatar = serializers.ImageField(source="character.avatar", read_only=True)

    class Meta:
        model = ChatParticipant
        fields = ["character_id", "name", "avatar", "position", "is_muted", "talkativeness", "left_at"]


class ChatOutput(serializers.ModelSerializer):
    participants = ParticipantOutput(many=True, read_only=True)

    class Meta:
        model = Chat
        fields = [
            "id",
            "title",
            "participants",
            "persona",
            "connection",
            "preset",
            "author_note",
            "author_note_depth",
            "author_note_frequency",
            "scenario_override",
            "speaker_strategy",
            "cross_chat_memory",
            "summary",
            "message_count",
            "last_message_at",
            "last_message_preview",
            "archived_at",
            "branched_from",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ChatCreateInput(serializers.Serializer):
    character_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=12)
    persona_id = serializers.IntegerField(required=False, allow_null=True)
    connection_id = serializers.IntegerField(required=False, allow_null=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ChatUpdateInput(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=200)
    persona_id = serializers.IntegerField(required=False, allow_null=True)
    connection_id = serializers.IntegerField(required=False, allow_null=True)
    fallback_connection_ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, max_length=5
    )
    preset_id = serializers.IntegerField(required=False, allow_null=True)
    lorebook_ids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=20)
    author_note = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    author_note_depth = serializers.IntegerField(required=False, min_value=0, max_value=100)
    author_note_frequency = serializers.IntegerField(required=False, min_value=0, max_value=100)
    scenario_override = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    speaker_strategy = serializers.ChoiceField(choices=SpeakerStrategy.choices, required=False)
    cross_chat_memory = serializers.BooleanField(required=False)


class MessageSendInput(serializers.Serializer):
    content = serializers.CharField(max_length=MAX_MESSAGE_CHARS, trim_whitespace=False)
    client_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    character_id = serializers.IntegerField(required=False, allow_null=True)
    stream = serializers.BooleanField(required=False, default=False)


class MessageUpdateInput(serializers.Serializer):
    content = serializers.CharField(required=False, max_length=MAX_MESSAGE_CHARS, trim_whitespace=False)
    is_hidden = serializers.BooleanField(required=False)


class StreamInput(serializers.Serializer):
    stream = serializers.BooleanField(required=False, default=False)


class SwipeInput(serializers.Serializer):
    index = serializers.IntegerField(min_value=0)


class BranchInput(serializers.Serializer):
    message_id = serializers.IntegerField()


class ParticipantAddInput(serializers.Serializer):
    character_id = serializers.IntegerField()


class ParticipantUpdateInput(serializers.Serializer):
    is_muted = serializers.BooleanField(required=False)


@extend_schema_field({"type": "boolean", "enum": [False]})
class _OwnConnectionFlag(serializers.BooleanField):
    """`is_shared` of one's own connection: documented as false, so that a connection in a
    list matches exactly one of the two shapes (owned, shared)."""


@extend_schema_field({"type": "boolean", "enum": [True]})
class _SharedConnectionFlag(serializers.BooleanField):
    pass


class ConnectionOutput(serializers.ModelSerializer):
    has_api_key = serializers.SerializerMethodField()
    is_shared = _OwnConnectionFlag(read_only=True)

    class Meta:
        model = ModelConnection
        fields = [
            "id",
            "name",
            "base_url",
            "model",
            "has_api_key",
            "api_key_hint",
            "extra_headers",
            "context_size",
            "max_reply_tokens",
            "is_shared",
            "last_tested_at",
            "last_test_ok",
            "last_test_message",
        ]
        read_only_fields = fields

    def get_has_api_key(self, connection: ModelConnection) -> bool:
        return bool(connection.api_key_encrypted)


class SharedConnectionOutput(serializers.ModelSerializer):
    """A staff-shared connection as a user sees it: a label and the model, nothing of
    where it points or how it authenticates (M4)."""

    is_shared = _SharedConnectionFlag(read_only=True)

    class Meta:
        model = ModelConnection
        fields = ["id", "name", "model", "is_shared"]
        read_only_fields = fields


def connection_output(connection: ModelConnection, *, viewer_id: int) -> dict[str, Any]:
    """Owners see their connection whole; anyone else only what SharedConnectionOutput shows."""
    if connection.owner_id == viewer_id:
        return ConnectionOutput(connection).data
    return SharedConnectionOutput(connection).data


class ConnectionInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    base_url = serializers.URLField(max_length=500, validators=[validate_outbound_url])
    model = serializers.CharField(max_length=200)
    api_key = serializers.CharField(required=False, allow_blank=True, max_length=500, write_only=True)
    extra_headers = serializers.DictField(child=serializers.CharField(max_length=500), required=False)
    context_size = serializers.IntegerField(required=False, min_value=512, max_value=2_000_000)
    max_reply_tokens = serializers.IntegerField(required=False, min_value=16, max_value=200_000)


class PresetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Preset
        fields = ["id", "name", *Preset.NUMBERS, "stop", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {
            name: {"min_value": lowest, "max_value": highest}
            for name, (lowest, highest) in PRESET_RANGES.items()
        }

    def validate_stop(self, value: object) -> list[str]:
        if (
            not isinstance(value, list)
            or not all(isinstance(item, str) for item in value)
            or len(value) > PRESET_MAX_STOP_STRINGS
        ):
            raise serializers.ValidationError(f"A list of at most {PRESET_MAX_STOP_STRINGS} stop strings.")
        return value


class FileInput(serializers.Serializer):
    file = serializers.FileField()
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)


# ---------------------------------------------------------------- messages and turns (documentation
# of what chats/payloads.py writes; the views answer with those payloads)


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    author = serializers.ChoiceField(choices=["user", "character", "system", "narrator"])
    character_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    content = serializers.CharField(allow_blank=True)
    swipe_index = serializers.IntegerField()
    swipe_count = serializers.IntegerField()
    token_count = serializers.IntegerField()
    is_hidden = serializers.BooleanField()
    is_partial = serializers.BooleanField()
    client_id = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField(allow_null=True)
    edited_at = serializers.DateTimeField(allow_null=True)


class MessagePageOutput(serializers.Serializer):
    results = MessageOutput(many=True)
    previous_before = serializers.IntegerField(
        allow_null=True, help_text="Pass as `before` for the next older page; null at the start."
    )


class TurnOutput(serializers.Serializer):
    reply = MessageOutput(allow_null=True, help_text="null when nobody is to speak (a manual group chat).")
    error = serializers.CharField(
        allow_null=True, required=False, help_text="Why the reply is partial, when it broke off."
    )
    record = serializers.JSONField(allow_null=True, required=False)


class SendOutput(TurnOutput):
    message = MessageOutput(help_text="The user's message, as stored.")


class DuplicateSendOutput(serializers.Serializer):
    message = MessageOutput(help_text="The message stored the first time this client_id was sent.")
    reply = serializers.JSONField(allow_null=True)
    duplicate = serializers.BooleanField()


class StreamEventOutput(serializers.Serializer):
    """One Server-Sent Event of a streamed turn: `event` is its type, `data` its JSON."""

    event = serializers.CharField(help_text="ack, generation_started, token, done, error, then end.")
    data = serializers.CharField(help_text="The event as JSON, with the same `type`.")


class ChatImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="A SillyTavern chat file (.jsonl), solo or group.")
    character_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="For a solo chat whose character is not found by name among yours.",
    )

    def validate_file(self, value: Any) -> Any:
        # Refused before it is read; the service checks the bytes it gets as well.
        limit = chat_import_max_bytes()
        if value.size > limit:
            raise serializers.ValidationError(
                f"The chat file is larger than the limit of {filesizeformat(limit)}."
            )
        return value


class ConnectionTestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    latency_ms = serializers.IntegerField(allow_null=True)
    message = serializers.CharField(help_text="For people; for a shared connection, only whether it answers.")
    models = serializers.ListField(
        child=serializers.CharField(), help_text="What the server lists (empty for shared connections)."
    )
