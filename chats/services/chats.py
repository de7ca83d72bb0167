"""Writes for chats: create (with the greeting), branch, update, archive, delete, and the
characters taking part."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from characters.models import Character, Persona
from characters.selectors import persona_default
from characters.services import characters_chat_started
from characters.trending import trending_record
from tavern.ai.tokenizer import count_tokens

from ..limits import MAX_PARTICIPANTS
from ..models import Author, Chat, ChatParticipant, Message, ModelConnection, Swipe
from ..realtime import chat_publish_on_commit
from .errors import ChatError
from .messages import _message_insert, _persona_name


def _substitute(text: str, *, char: str, user: str) -> str:
    return (
        text.replace("{{char}}", char)
        .replace("{{user}}", user)
        .replace("<BOT>", char)
        .replace("<USER>", user)
    )


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
        persona = persona_default(user=owner)
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
    characters_chat_started(character_ids=[c.pk for c in characters])
    if greeting:
        _greeting_add(chat, characters)
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
