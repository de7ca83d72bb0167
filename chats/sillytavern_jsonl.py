"""SillyTavern chat files (JSONL): export a chat, import one.

A solo chat starts with a header line (`user_name`, `character_name`,
`create_date`, `chat_metadata`); group chats have none. Each following line is a
message: `name`, `is_user`, `is_system`, `send_date`, `mes`, and optionally
`swipes`, `swipe_id`, `swipe_info`, `extra`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from accounts.models import User
from characters.models import Character
from characters.selectors import characters_owned
from tavern.ai.tokenizer import count_tokens

from .limits import (
    chat_import_max_bytes,
    chat_import_max_messages,
    message_extra_refusal,
    message_swipes_refusal,
    message_text_refusal,
)
from .models import Author, Chat, ChatParticipant, Message, Swipe
from .services import ChatError

# Told how far a long import has got: (done, total). A background job shows it.
Progress = Callable[[int, int], None]


class ChatImportError(ChatError):
    """A chat file that cannot be imported: always about the uploaded `file`, and names
    the line at fault where there is one."""

    def __init__(self, message: str, *, field: str | None = "file", **kwargs: Any) -> None:
        super().__init__(message, field=field, **kwargs)


def _st_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%B %-d, %Y %-I:%M%p").replace("AM", "am").replace("PM", "pm")


def chat_export_jsonl(*, chat: Chat) -> bytes:
    participants = list(chat.participants.select_related("character"))
    user_name = chat.persona.name if chat.persona_id else (chat.owner.display_name or chat.owner.username)
    lines: list[dict[str, Any]] = []
    if len(participants) <= 1:
        lines.append(
            {
                "user_name": user_name,
                "character_name": participants[0].character.name if participants else "",
                "create_date": chat.created_at.astimezone(UTC).strftime("%Y-%m-%d@%Hh%Mm%Ss"),
                "chat_metadata": {
                    "note_prompt": chat.author_note,
                    "note_interval": chat.author_note_frequency,
                    "note_depth": chat.author_note_depth,
                    "timedWorldInfo": chat.lorebook_state or {"sticky": {}, "cooldown": {}},
                },
            }
        )
    swipes_by_message: dict[int, list[str]] = {}
    for swipe in (
        Swipe.objects.filter(message__chat=chat)
        .order_by("message_id", "index")
        .values("message_id", "content")
    ):
        swipes_by_message.setdefault(swipe["message_id"], []).append(swipe["content"])
    for message in Message.objects.filter(chat=chat).order_by("position").iterator(chunk_size=2000):
        line: dict[str, Any] = {
            "name": message.name,
            "is_user": message.author == Author.USER,
            "is_system": message.author in (Author.SYSTEM, Author.NARRATOR) or message.is_hidden,
            "send_date": _st_date(message.created_at),
            "mes": message.content,
            "extra": message.extra or {},
        }
        if message.author != Author.USER:
            line["swipes"] = swipes_by_message.get(message.pk, [message.content])
            line["swipe_id"] = message.swipe_index
        lines.append(line)
    return ("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n").encode()


@dataclass(frozen=True)
class ChatFile:
    """A SillyTavern chat file, read and checked against the limits; nothing stored yet."""

    header: dict[str, Any] | None
    messages: list[tuple[int, dict[str, Any]]]  # (line number, message object)

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = (self.header or {}).get("chat_metadata")
        return metadata if isinstance(metadata, dict) else {}


def chat_file_read(data: bytes) -> ChatFile:
    """Every line parsed, every message within the limits a typed message has
    (chats/limits.py); a refusal names the line, for the user to find it."""
    limit = chat_import_max_bytes()
    if len(data) > limit:
        raise ChatImportError(f"The chat file is larger than the limit of {filesizeformat(limit)}.")
    rows = _parse_lines(data)
    first = rows[0][1]
    header = first if "mes" not in first and ("user_name" in first or "chat_metadata" in first) else None
    messages = rows[1:] if header else rows
    limit = chat_import_max_messages()
    if len(messages) > limit:
        raise ChatImportError(f"The chat has more than {limit:,} messages.")
    for line, row in messages:
        _message_check(row, line)
    return ChatFile(header=header, messages=messages)


def _parse_lines(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The file's JSON objects, each with its line number (for errors a user can find)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ChatImportError(
            f"The chat file is not UTF-8 text ({error.reason} at byte {error.start})."
        ) from error
    limit = chat_import_max_messages()
    rows = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ChatImportError(f"Line {number} is not JSON: {error.msg}.") from error
        if not isinstance(row, dict):
            raise ChatImportError(f"Line {number} is not a JSON object.")
        rows.append((number, row))
        # Stop reading early; one more than the limit, as a header line is no message.
        if len(rows) > limit + 1:
            raise ChatImportError(f"The chat has more than {limit:,} messages.")
    if not rows:
        raise ChatImportError("The chat file is empty.")
    return rows


def _message_check(row: dict[str, Any], line: int) -> None:
    reason = message_text_refusal(_text(row, "mes", line))
    _text(row, "name", line)
    swipes = _swipes(row)
    if not reason and swipes is not None:
        reason = message_swipes_refusal(swipes)
    extra = row.get("extra")
    if not reason and isinstance(extra, dict):
        reason = message_extra_refusal(extra)
    if reason:
        raise ChatImportError(f"Line {line}: {reason}.")


def _text(row: dict[str, Any], key: str, line: int) -> str:
    value = row.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ChatImportError(f"Line {line}: '{key}' must be text.")
    return value


def _swipes(row: dict[str, Any]) -> list[str] | None:
    """The message's swipes, or None when it has none worth keeping (then its text is the one)."""
    swipes = row.get("swipes")
    if not isinstance(swipes, list) or not swipes or not all(isinstance(s, str) for s in swipes):
        return None
    return swipes


def chat_import_participants(
    *,
    owner: User,
    chat_file: ChatFile,
    character: Character | None = None,
    characters_by_name: dict[str, Character] | None = None,
) -> list[Character]:
    """The chat's characters, matched by name among `characters_by_name` (or the owner's
    characters), `character` being the fallback for a solo chat."""
    if characters_by_name is None:
        characters_by_name = {c.name: c for c in characters_owned(user=owner).prefetch_related(None)}
    names = []
    for _, row in chat_file.messages:
        name = row.get("name")
        # hidden replies (is_system) count: a chat may have no other line of a character
        if not row.get("is_user") and isinstance(name, str) and name not in names:
            names.append(name)
    participants = [characters_by_name[name] for name in names if name in characters_by_name]
    if not participants and character is not None:
        participants = [character]
    if not participants:
        wanted = (chat_file.header or {}).get("character_name") or (names[0] if names else "?")
        raise ChatImportError(f"No character of yours is called {wanted!r}; import the character first.")
    return participants


def chat_import_jsonl(
    *,
    owner: User,
    data: bytes,
    character: Character | None = None,
    characters_by_name: dict[str, Character] | None = None,
    progress: Progress | None = None,
) -> Chat:
    """Import a SillyTavern chat. Characters are matched by name among `characters_by_name`
    (or the owner's characters), `character` being the fallback for a solo chat."""
    chat_file = chat_file_read(data)
    participants = chat_import_participants(
        owner=owner, chat_file=chat_file, character=character, characters_by_name=characters_by_name
    )
    return chat_import_file(owner=owner, chat_file=chat_file, participants=participants, progress=progress)


@transaction.atomic
def chat_import_file(
    *, owner: User, chat_file: ChatFile, participants: list[Character], progress: Progress | None = None
) -> Chat:
    """Store a chat file that `chat_file_read` has read; `progress` hears of each message
    (counting its tokens is the slow part of a big import)."""
    metadata = chat_file.metadata
    chat = Chat.objects.create(
        owner=owner,
        title=f"{' & '.join(c.name for c in participants)} (imported)"[:200],
        author_note=str(metadata.get("note_prompt", "") or "")[:10000],
    )
    ChatParticipant.objects.bulk_create(
        ChatParticipant(chat=chat, character=c, position=i) for i, c in enumerate(participants)
    )
    by_name = {c.name: c for c in participants}
    message_rows: list[Message] = []
    swipe_texts: list[list[str]] = []
    now = timezone.now()
    total = len(chat_file.messages)
    for number, (line, row) in enumerate(chat_file.messages, start=1):
        content = _text(row, "mes", line)
        name = _text(row, "name", line) or ("User" if row.get("is_user") else participants[0].name)
        if row.get("is_user"):
            author, speaker = Author.USER, None
        elif row.get("is_system") and name not in by_name:
            # SillyTavern hides a message by marking it is_system: a participant's
            # hidden reply stays theirs (hidden below); anything else is a system line.
            author, speaker = Author.SYSTEM, None
        else:
            author, speaker = Author.CHARACTER, by_name.get(name, participants[0])
        swipes = _swipes(row) or [content]
        swipe_id = row.get("swipe_id", 0)
        if not isinstance(swipe_id, int) or not 0 <= swipe_id < len(swipes):
            swipe_id = 0
        extra = row.get("extra") if isinstance(row.get("extra"), dict) else {}
        message_rows.append(
            Message(
                chat=chat,
                position=number,
                author=author,
                character=speaker,
                name=name[:200],
                content=content,
                swipe_index=swipe_id,
                swipe_count=len(swipes),
                token_count=count_tokens(content),
                is_hidden=bool(row.get("is_system")) and author != Author.SYSTEM,
                extra=extra,
            )
        )
        swipe_texts.append(swipes)
        if progress is not None:
            progress(number, total)
    created = Message.objects.bulk_create(message_rows, batch_size=2000)
    Swipe.objects.bulk_create(
        (
            Swipe(message=message, index=index, content=text, token_count=count_tokens(text))
            for message, texts in zip(created, swipe_texts, strict=True)
            for index, text in enumerate(texts)
        ),
        batch_size=2000,
    )
    last = created[-1] if created else None
    Chat.objects.filter(pk=chat.pk).update(
        last_position=len(created),
        message_count=len(created),
        last_message_at=now,
        last_message_preview=last.content[:200] if last else "",
    )
    chat.refresh_from_db()
    return chat
