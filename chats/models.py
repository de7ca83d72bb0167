"""Chats with one or many characters, their messages and swipes, model connections
(keys encrypted at rest), presets, long-term memory and usage."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from pgvector.django import HnswIndex, VectorField

from characters.models import EMBEDDING_DIMENSIONS, Character, Lorebook, Persona


class ModelConnection(models.Model):
    """An OpenAI-compatible endpoint. A user's own, or shared by staff with some tiers."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="connections"
    )
    name = models.CharField(max_length=100)
    base_url = models.URLField(max_length=500)
    model = models.CharField(max_length=200)
    api_key_encrypted = models.TextField(blank=True, editable=False)
    api_key_hint = models.CharField(max_length=16, blank=True, editable=False)
    extra_headers = models.JSONField(default=dict, blank=True)
    context_size = models.PositiveIntegerField(default=8192)
    max_reply_tokens = models.PositiveIntegerField(default=512)
    is_shared = models.BooleanField(default=False, help_text="Defined by staff; offered to the tiers below.")
    allowed_tiers = models.JSONField(default=list, blank=True, help_text='e.g. ["plus", "pro"]')
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    last_test_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_shared=True, owner__isnull=True)
                | models.Q(is_shared=False, owner__isnull=False),
                name="chats_connection_shared_xor_owned",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.model})"


class Preset(models.Model):
    """Sampling settings; imported from SillyTavern presets or made here."""

    # The numeric samplers, named as GenerationParams names them (stop strings aside).
    NUMBERS = (
        "temperature",
        "top_p",
        "top_k",
        "min_p",
        "frequency_penalty",
        "presence_penalty",
        "repetition_penalty",
        "max_tokens",
        "seed",
    )

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presets")
    name = models.CharField(max_length=100)
    temperature = models.FloatField(null=True, blank=True)
    top_p = models.FloatField(null=True, blank=True)
    top_k = models.IntegerField(null=True, blank=True)
    min_p = models.FloatField(null=True, blank=True)
    frequency_penalty = models.FloatField(null=True, blank=True)
    presence_penalty = models.FloatField(null=True, blank=True)
    repetition_penalty = models.FloatField(null=True, blank=True)
    stop = models.JSONField(default=list, blank=True)
    max_tokens = models.PositiveIntegerField(null=True, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    source = models.JSONField(default=dict, blank=True, help_text="The imported preset, kept as it was.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SpeakerStrategy(models.TextChoices):
    MANUAL = "manual", "Manual: I choose who speaks"
    ROUND_ROBIN = "round_robin", "Round robin"
    NATURAL = "natural", "Natural: by mention and talkativeness"


class Chat(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chats")
    title = models.CharField(max_length=200)
    characters = models.ManyToManyField(Character, through="ChatParticipant", related_name="chats")
    persona = models.ForeignKey(Persona, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    connection = models.ForeignKey(
        ModelConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fallback_connections = models.ManyToManyField(ModelConnection, blank=True, related_name="+")
    preset = models.ForeignKey(Preset, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lorebooks = models.ManyToManyField(Lorebook, blank=True, related_name="chats")
    author_note = models.TextField(blank=True)
    author_note_depth = models.PositiveSmallIntegerField(default=4)
    author_note_frequency = models.PositiveSmallIntegerField(
        default=1, help_text="Every N user messages; 0 = never."
    )
    scenario_override = models.TextField(blank=True)
    speaker_strategy = models.CharField(
        max_length=12, choices=SpeakerStrategy.choices, default=SpeakerStrategy.NATURAL
    )
    settings = models.JSONField(default=dict, blank=True)
    lorebook_state = models.JSONField(
        default=dict, blank=True, editable=False, help_text="Sticky/cooldown clocks."
    )
    summary = models.TextField(blank=True)
    summary_until = models.BigIntegerField(
        default=0, help_text="Messages up to this position are summarised."
    )
    cross_chat_memory = models.BooleanField(
        default=False, help_text="Also recall memories from my other chats with these characters."
    )
    branched_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="branches"
    )
    last_position = models.BigIntegerField(default=0, editable=False)
    message_count = models.PositiveIntegerField(default=0, editable=False)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=200, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [models.Index(fields=["owner", "archived_at", "-last_message_at"])]

    def __str__(self) -> str:
        return self.title


class ChatParticipant(models.Model):
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="participants")
    character = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    is_muted = models.BooleanField(default=False)
    talkativeness = models.FloatField(default=0.5)
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["chat", "character"], name="chats_participant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.chat_id}:{self.character_id}"


class Author(models.TextChoices):
    USER = "user", "User"
    CHARACTER = "character", "Character"
    SYSTEM = "system", "System"
    NARRATOR = "narrator", "Narrator"


class Message(models.Model):
    """One turn of the chat. `content` is the active swipe's text, copied here so
    history reads touch this table only."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    position = models.BigIntegerField()
    author = models.CharField(max_length=10, choices=Author.choices)
    character = models.ForeignKey(
        Character, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200, help_text="Who spoke, as shown then.")
    content = models.TextField(blank=True)
    swipe_index = models.PositiveSmallIntegerField(default=0)
    swipe_count = models.PositiveSmallIntegerField(default=1)
    token_count = models.PositiveIntegerField(default=0)
    is_hidden = models.BooleanField(default=False, help_text="Kept, but left out of prompts.")
    is_partial = models.BooleanField(default=False)
    client_id = models.CharField(max_length=64, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["chat", "position"]
        constraints = [
            models.UniqueConstraint(fields=["chat", "position"], name="chats_message_position_unique"),
            models.UniqueConstraint(
                fields=["chat", "client_id"],
                condition=~models.Q(client_id=""),
                name="chats_message_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chat_id}#{self.position}"


class Swipe(models.Model):
    """An alternative text of a message, with the record of its generation."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="swipes")
    index = models.PositiveSmallIntegerField()
    content = models.TextField(blank=True)
    token_count = models.PositiveIntegerField(default=0)
    connection_label = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=200, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    tokens_in = models.PositiveIntegerField(null=True, blank=True)
    tokens_out = models.PositiveIntegerField(null=True, blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    is_partial = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message", "index"]
        constraints = [
            models.UniqueConstraint(fields=["message", "index"], name="chats_swipe_index_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id}/{self.index}"


class MemoryChunk(models.Model):
    """A passage of a chat, embedded for recall once it has left the prompt window."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="memories")
    character = models.ForeignKey(
        Character, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position_start = models.BigIntegerField()
    position_end = models.BigIntegerField()
    text = models.TextField()
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["chat", "position_start"]
        indexes = [
            models.Index(fields=["chat", "position_end"]),
            HnswIndex(
                name="chats_memory_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["chat", "position_start"], name="chats_memory_chunk_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.chat_id}[{self.position_start}..{self.position_end}]"


class UsageRecord(models.Model):
    """One generation's tokens and cost, for quotas, the usage page and admin."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_records")
    chat = models.ForeignKey(Chat, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    connection_label = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=200, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost_micro_usd = models.BigIntegerField(default=0)
    kind = models.CharField(max_length=20, default="chat")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.model} {self.tokens_in}+{self.tokens_out}"
