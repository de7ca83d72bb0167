"""Writes for chats: creating and branching chats, storing messages and swipes,
connections (keys encrypted), presets, usage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from characters.models import Character, Persona
from tavern.ai.tokenizer import count_tokens
from tavern.crypto import secret_encrypt, secret_hint
from tavern.errors import DomainRuleError

from .limits import MAX_MESSAGE_CHARS as MAX_MESSAGE_CHARS
from .limits import MAX_PARTICIPANTS as MAX_PARTICIPANTS
from .limits import PRESET_MAX_BYTES, message_text_refusal, preset_refusal
from .models import Author, Chat, ChatParticipant, Message, ModelConnection, Preset, Swipe, UsageRecord
from .payloads import message_payload
from .realtime import chat_publish_on_commit


class ChatError(DomainRuleError):
    """A rule the caller broke; `field` names the input at fault."""


@dataclass(frozen=True)
class GenerationRecord:
    connection_label: str = ""
    model: str = ""
    latency_ms: int | None = None
    first_token_ms: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    finish_reason: str = ""
    is_partial: bool = False
    error: str = ""
    cost_micro_usd: int = 0


def _substitute(text: str, *, char: str, user: str) -> str:
    return (
        text.replace("{{char}}", char)
        .replace("{{user}}", user)
        .replace("<BOT>", char)
        .replace("<USER>", user)
    )


def _sentence(reason: str) -> str:
    return reason[:1].upper() + reason[1:] + "."


def _persona_name(chat: Chat) -> str:
    return chat.persona.name if chat.persona_id else (chat.owner.display_name or chat.owner.username)


# ---------------------------------------------------------------- chats


@transaction.atomic
def chat_create(
    *,
    owner: User,
    characters: list[Character],
    persona: Persona | None = None,
    title: str = "",
    connection: ModelConnection | None = None,
    greeting: bool = True,
) -> Chat:
    if not characters:
        raise ChatError("A chat needs at least one character.", field="characters")
    if len(characters) > MAX_PARTICIPANTS:
        raise ChatError(f"A chat can have at most {MAX_PARTICIPANTS} characters.", field="characters")
    if persona is None:
        persona = Persona.objects.filter(owner=owner, is_default=True).first()
    chat = Chat.objects.create(
        owner=owner,
        title=(title or " & ".join(c.name for c in characters))[:200],
        persona=persona,
        connection=connection,
    )
    ChatParticipant.objects.bulk_create(
        ChatParticipant(
            chat=chat, character=character, position=index, talkativeness=_talkativeness(character)
        )
        for index, character in enumerate(characters)
    )
    Character.objects.filter(pk__in=[c.pk for c in characters]).update(chat_count=F("chat_count") + 1)
    if greeting:
        _greeting_add(chat, characters)
    from characters.trending import trending_record

    ids = [c.pk for c in characters]
    transaction.on_commit(lambda: [trending_record(character_id=pk) for pk in ids])
    return chat


def _talkativeness(character: Character) -> float:
    raw = character.extensions.get("talkativeness", 0.5) if isinstance(character.extensions, dict) else 0.5
    try:
        return min(1.0, max(0.0, float(raw)))
    except (TypeError, ValueError):
        return 0.5


def _greeting_add(chat: Chat, characters: list[Character]) -> None:
    """The first character greets; alternate greetings become swipes (as in SillyTavern).
    In a group, group-only greetings are offered as well."""
    character = characters[0]
    user_name = _persona_name(chat)
    greetings = [character.first_mes, *character.alternate_greetings]
    if len(characters) > 1:
        greetings += character.group_only_greetings
    greetings = [_substitute(g, char=character.name, user=user_name) for g in greetings if g and g.strip()]
    if not greetings:
        return
    message = _message_insert(
        chat, author=Author.CHARACTER, character=character, name=character.name, content=greetings[0]
    )
    Swipe.objects.bulk_create(
        Swipe(
            message=message,
            index=index,
            content=text,
            token_count=count_tokens(text),
            finish_reason="greeting",
        )
        for index, text in enumerate(greetings)
    )
    if len(greetings) > 1:
        message.swipe_count = len(greetings)
        message.save(update_fields=["swipe_count"])


def _message_insert(
    chat: Chat,
    *,
    author: str,
    name: str,
    content: str,
    character: Character | None = None,
    client_id: str = "",
    is_partial: bool = False,
    extra: dict[str, Any] | None = None,
) -> Message:
    """Append at the end, in the caller's transaction: one statement takes the next
    position and the chat's row lock (so appends to one chat queue up), one insert."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Chat._meta.db_table} SET last_position = last_position + 1, "  # noqa: S608 - our table name
            "message_count = message_count + 1, last_message_at = %s, last_message_preview = %s, "
            "updated_at = %s WHERE id = %s RETURNING last_position",
            [now, content[:200], now, chat.pk],
        )
        (position,) = cursor.fetchone()
    message = Message.objects.create(
        chat=chat,
        position=position,
        author=author,
        character=character,
        name=name,
        content=content,
        token_count=count_tokens(content),
        client_id=client_id,
        is_partial=is_partial,
        extra=extra or {},
    )
    chat.last_position = position
    return message


def message_append_user(*, chat: Chat, content: str, client_id: str = "") -> tuple[Message, bool]:
    """Store the user's message at once. Returns (message, created); a repeated
    `client_id` (a resend after a network blip) returns the stored one."""
    content = content.strip()
    if not content:
        raise ChatError("The message is empty.", field="content")
    if reason := message_text_refusal(content):
        raise ChatError(_sentence(reason), field="content")
    if chat.archived_at is not None:
        raise ChatError("This chat is archived; unarchive it to continue.", code="chat_archived")
    try:
        with transaction.atomic():  # a repeated client_id breaks the unique constraint: caught below
            message = _message_insert(
                chat, author=Author.USER, name=_persona_name(chat), content=content, client_id=client_id
            )
            Swipe.objects.create(message=message, index=0, content=content, token_count=message.token_count)
            chat_publish_on_commit(chat.pk, {"type": "message_created", "message": message_payload(message)})
    except IntegrityError:
        existing = Message.objects.filter(chat=chat, client_id=client_id).first()
        if existing is None:
            raise
        return existing, False
    return message, True


def _swipe_fields(generation: GenerationRecord) -> dict[str, Any]:
    return {
        "connection_label": generation.connection_label[:100],
        "model": generation.model[:200],
        "latency_ms": generation.latency_ms,
        "first_token_ms": generation.first_token_ms,
        "tokens_in": generation.tokens_in,
        "tokens_out": generation.tokens_out,
        "finish_reason": generation.finish_reason[:32],
        "is_partial": generation.is_partial,
        "error": generation.error[:500],
    }


@transaction.atomic
def message_append_reply(
    *, chat: Chat, character: Character | None, content: str, generation: GenerationRecord
) -> Message:
    name = character.name if character else "Narrator"
    message = _message_insert(
        chat,
        author=Author.CHARACTER if character else Author.NARRATOR,
        character=character,
        name=name,
        content=content,
        is_partial=generation.is_partial,
    )
    Swipe.objects.create(
        message=message,
        index=0,
        content=content,
        token_count=message.token_count,
        **_swipe_fields(generation),
    )
    usage_record(user=chat.owner, chat=chat, generation=generation)
    return message


@transaction.atomic
def message_add_swipe(*, message: Message, content: str, generation: GenerationRecord) -> Message:
    """A regenerated reply: a new swipe, made the active one."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    index = message.swipe_count
    tokens = count_tokens(content)
    Swipe.objects.create(
        message=message, index=index, content=content, token_count=tokens, **_swipe_fields(generation)
    )
    message.content, message.token_count = content, tokens
    message.swipe_index, message.swipe_count = index, index + 1
    message.is_partial = generation.is_partial
    message.save(update_fields=["content", "token_count", "swipe_index", "swipe_count", "is_partial"])
    usage_record(user=message.chat.owner, chat=message.chat, generation=generation)
    return message


@transaction.atomic
def message_swipe_select(*, message: Message, index: int) -> Message:
    message = Message.objects.select_for_update().get(pk=message.pk)
    swipe = Swipe.objects.filter(message=message, index=index).first()
    if swipe is None:
        raise ChatError(f"There is no swipe {index + 1} of this message.", field="index")
    message.content, message.token_count, message.swipe_index = swipe.content, swipe.token_count, index
    message.is_partial = swipe.is_partial
    message.save(update_fields=["content", "token_count", "swipe_index", "is_partial"])
    _message_updated(message)
    return message


@transaction.atomic
def message_continue(*, message: Message, addition: str, generation: GenerationRecord) -> Message:
    """Append generated text to the active swipe (SillyTavern's "continue")."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    content = message.content + addition
    tokens = count_tokens(content)
    Swipe.objects.filter(message=message, index=message.swipe_index).update(
        content=content, token_count=tokens, is_partial=generation.is_partial
    )
    message.content, message.token_count, message.is_partial = content, tokens, generation.is_partial
    message.save(update_fields=["content", "token_count", "is_partial"])
    usage_record(user=message.chat.owner, chat=message.chat, generation=generation)
    return message


@transaction.atomic
def message_edit(*, message: Message, content: str) -> Message:
    if reason := message_text_refusal(content):
        raise ChatError(_sentence(reason), field="content")
    tokens = count_tokens(content)
    Swipe.objects.filter(message=message, index=message.swipe_index).update(
        content=content, token_count=tokens
    )
    message.content, message.token_count, message.edited_at = content, tokens, timezone.now()
    message.save(update_fields=["content", "token_count", "edited_at"])
    _message_updated(message)
    return message


@transaction.atomic
def message_set_hidden(*, message: Message, hidden: bool) -> Message:
    message.is_hidden = hidden
    message.save(update_fields=["is_hidden"])
    _message_updated(message)
    return message


def _message_updated(message: Message) -> None:
    chat_publish_on_commit(message.chat_id, {"type": "message_updated", "message": message_payload(message)})


@transaction.atomic
def message_delete(*, message: Message) -> None:
    chat_id, message_id = message.chat_id, message.pk
    message.delete()
    chat_publish_on_commit(chat_id, {"type": "message_deleted", "message_id": message_id})
    last = Message.objects.filter(chat_id=chat_id).order_by("-position").first()
    Chat.objects.filter(pk=chat_id).update(
        message_count=F("message_count") - 1,
        last_message_preview=last.content[:200] if last else "",
        last_message_at=last.created_at if last else None,
    )


@transaction.atomic
def chat_branch(*, chat: Chat, up_to: Message) -> Chat:
    """A new chat with the same set-up and the messages up to `up_to` (swipes included)."""
    branch = Chat.objects.create(
        owner=chat.owner,
        title=f"{chat.title} (branch)"[:200],
        persona=chat.persona,
        connection=chat.connection,
        preset=chat.preset,
        author_note=chat.author_note,
        author_note_depth=chat.author_note_depth,
        author_note_frequency=chat.author_note_frequency,
        scenario_override=chat.scenario_override,
        speaker_strategy=chat.speaker_strategy,
        settings=chat.settings,
        lorebook_state=chat.lorebook_state,
        cross_chat_memory=chat.cross_chat_memory,
        branched_from=chat,
    )
    ChatParticipant.objects.bulk_create(
        ChatParticipant(
            chat=branch,
            character_id=p.character_id,
            position=p.position,
            is_muted=p.is_muted,
            talkativeness=p.talkativeness,
        )
        for p in chat.participants.all()
    )
    branch.lorebooks.set(chat.lorebooks.all())
    branch.fallback_connections.set(chat.fallback_connections.all())
    originals = list(Message.objects.filter(chat=chat, position__lte=up_to.position).order_by("position"))
    copies = Message.objects.bulk_create(
        Message(
            chat=branch,
            position=m.position,
            author=m.author,
            character_id=m.character_id,
            name=m.name,
            content=m.content,
            swipe_index=m.swipe_index,
            swipe_count=m.swipe_count,
            token_count=m.token_count,
            is_hidden=m.is_hidden,
            is_partial=m.is_partial,
            extra=m.extra,
        )
        for m in originals
    )
    by_original = {m.pk: copy for m, copy in zip(originals, copies, strict=True)}
    Swipe.objects.bulk_create(
        Swipe(
            message=by_original[s.message_id],
            index=s.index,
            content=s.content,
            token_count=s.token_count,
            connection_label=s.connection_label,
            model=s.model,
            finish_reason=s.finish_reason,
            is_partial=s.is_partial,
        )
        for s in Swipe.objects.filter(message_id__in=by_original)
    )
    last = originals[-1] if originals else None
    Chat.objects.filter(pk=branch.pk).update(
        last_position=last.position if last else 0,
        message_count=len(originals),
        last_message_at=timezone.now(),
        last_message_preview=last.content[:200] if last else "",
    )
    branch.refresh_from_db()
    return branch


def _chat_updated(chat: Chat, changed: list[str]) -> None:
    """The chat's set-up changed (title, participants, archive…): sockets refetch it."""
    chat_publish_on_commit(chat.pk, {"type": "chat_updated", "chat_id": chat.pk, "changed": changed})


@transaction.atomic
def chat_update(*, chat: Chat, data: dict[str, Any]) -> Chat:
    simple = [
        name
        for name in (
            "title",
            "persona",
            "connection",
            "preset",
            "author_note",
            "author_note_depth",
            "author_note_frequency",
            "scenario_override",
            "speaker_strategy",
            "settings",
            "cross_chat_memory",
        )
        if name in data
    ]
    for name in simple:
        setattr(chat, name, data[name])
    chat.full_clean()
    chat.save(update_fields=[*simple, "updated_at"])
    if "lorebooks" in data:
        chat.lorebooks.set(data["lorebooks"])
    if "fallback_connections" in data:
        chat.fallback_connections.set(data["fallback_connections"])
    _chat_updated(
        chat, sorted(name for name in data if name in (*simple, "lorebooks", "fallback_connections"))
    )
    return chat


def chat_archive(*, chat: Chat, archived: bool) -> Chat:
    chat.archived_at = timezone.now() if archived else None
    chat.save(update_fields=["archived_at", "updated_at"])
    _chat_updated(chat, ["archived_at"])
    return chat


def chat_delete(*, chat: Chat) -> None:
    chat.delete()


@transaction.atomic
def participant_add(*, chat: Chat, character: Character) -> ChatParticipant:
    active = chat.participants.filter(left_at__isnull=True)
    if active.count() >= MAX_PARTICIPANTS:
        raise ChatError(f"A chat can have at most {MAX_PARTICIPANTS} characters.", field="character")
    participant, created = ChatParticipant.objects.get_or_create(
        chat=chat,
        character=character,
        defaults={"position": chat.participants.count(), "talkativeness": _talkativeness(character)},
    )
    if not created and participant.left_at is not None:
        participant.left_at = None
        participant.save(update_fields=["left_at"])
    _chat_updated(chat, ["participants"])
    return participant


@transaction.atomic
def participant_update(
    *, participant: ChatParticipant, muted: bool | None = None, leave: bool = False
) -> ChatParticipant:
    fields = []
    if muted is not None:
        participant.is_muted = muted
        fields.append("is_muted")
    if leave:
        if participant.chat.participants.filter(left_at__isnull=True).count() <= 1:
            raise ChatError("The last character cannot leave the chat.", field="character")
        participant.left_at = timezone.now()
        fields.append("left_at")
    if fields:
        participant.save(update_fields=fields)
        _chat_updated(participant.chat, ["participants"])
    return participant


# ---------------------------------------------------------------- connections, presets, usage


def connection_save(
    *,
    owner: User | None,
    connection: ModelConnection | None,
    data: dict[str, Any],
    api_key: str | None = None,
) -> ModelConnection:
    """Create or update; `api_key=None` keeps the stored key, "" removes it."""
    connection = connection or ModelConnection(owner=owner, is_shared=owner is None)
    for name in (
        "name",
        "base_url",
        "model",
        "extra_headers",
        "context_size",
        "max_reply_tokens",
        "allowed_tiers",
    ):
        if name in data:
            setattr(connection, name, data[name])
    if api_key is not None:
        connection.api_key_encrypted = secret_encrypt(api_key)
        connection.api_key_hint = secret_hint(api_key)
    connection.full_clean()
    connection.save()
    return connection


def connection_record_test(*, connection: ModelConnection, ok: bool, message: str) -> ModelConnection:
    connection.last_tested_at = timezone.now()
    connection.last_test_ok = ok
    connection.last_test_message = message[:300]
    connection.save(update_fields=["last_tested_at", "last_test_ok", "last_test_message"])
    return connection


def preset_save(
    *, owner: User, preset: Preset | None, data: dict[str, Any], field: str | None = None
) -> Preset:
    """`field`: the input to name when a setting is refused (the uploaded file, for an import)."""
    refused_field, message = preset_refusal(data)
    if message:
        raise ChatError(message, field=field or refused_field)
    preset = preset or Preset(owner=owner)
    for name, value in data.items():
        setattr(preset, name, value)
    try:
        preset.full_clean()
    except ValidationError as error:
        if field is None:
            raise
        name, messages = next(iter(error.message_dict.items()))
        raise ChatError(f"{name}: {messages[0]}", field=field) from error
    preset.save()
    return preset


def preset_import_file(*, owner: User, name: str, data: bytes) -> Preset:
    """A SillyTavern preset file (JSON) becomes a preset, within the editor's limits."""
    if len(data) > PRESET_MAX_BYTES:
        raise ChatError(f"A preset file is at most {PRESET_MAX_BYTES // (1024 * 1024)} MB.", field="file")
    try:
        preset_json = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ChatError(f"Not a JSON preset: {error}", field="file") from error
    if not isinstance(preset_json, dict):
        raise ChatError("A preset is a JSON object.", field="file")
    return preset_import_sillytavern(owner=owner, name=name, preset_json=preset_json)


def preset_import_sillytavern(*, owner: User, name: str, preset_json: dict[str, Any]) -> Preset:
    from tavern.ai.presets import PresetError, generation_params_from_sillytavern

    try:
        params = generation_params_from_sillytavern(preset_json)
    except PresetError as error:
        raise ChatError(str(error), field="file") from error
    data = {
        name_: getattr(params, name_)
        for name_ in (
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
    }
    data["stop"] = list(params.stop or [])
    return preset_save(
        owner=owner,
        preset=None,
        data={"name": name[:100] or "Imported preset", "source": preset_json, **data},
        field="file",
    )


def usage_record(*, user: User, chat: Chat | None, generation: GenerationRecord, kind: str = "chat") -> None:
    if not generation.tokens_in and not generation.tokens_out:
        return
    UsageRecord.objects.create(
        user=user,
        chat=chat,
        connection_label=generation.connection_label[:100],
        model=generation.model[:200],
        tokens_in=generation.tokens_in or 0,
        tokens_out=generation.tokens_out or 0,
        cost_micro_usd=generation.cost_micro_usd,
        kind=kind,
    )
