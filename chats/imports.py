"""Chat imports from the API and the pages: one owner for both, small ones now, big
ones as background jobs.

The file is read and checked in the request (chats/sillytavern_jsonl.py: every line
within the limits a typed message has), so a refusal is at once a 400 naming the `file`
and the line. A small chat is then stored there and then (201); a big one (setting
IMPORT_SYNC_MAX_BYTES, or more messages than IMPORT_SYNC_MAX_CHAT_MESSAGES) becomes a
background job (202) whose worker makes the same service call with progress — counting
every message's tokens is the slow part. The operator's `import_sillytavern` command
calls the service directly.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.urls import reverse

from accounts.models import User
from characters.models import Character
from characters.selectors import character_get_visible
from tavern.jobs.progress import JobProgress
from tavern.jobs.registry import JobKind, job_kind_register
from tavern.jobs.services import job_create
from tavern.models import BackgroundJob

from .models import Chat
from .sillytavern_jsonl import chat_file_read, chat_import_file, chat_import_jsonl, chat_import_participants

CHAT_IMPORT = "chat_import"


def chat_import_start(
    *, owner: User, data: bytes, input_name: str = "", character: Character | None = None
) -> Chat | BackgroundJob:
    """A SillyTavern chat file becomes a chat now, or a job that will make it. `character`
    (one the owner may see) is the fallback for a solo chat whose character is not found
    by name."""
    chat_file = chat_file_read(data)
    participants = chat_import_participants(owner=owner, chat_file=chat_file, character=character)
    count = len(chat_file.messages)
    if len(data) <= settings.IMPORT_SYNC_MAX_BYTES and count <= settings.IMPORT_SYNC_MAX_CHAT_MESSAGES:
        return chat_import_file(owner=owner, chat_file=chat_file, participants=participants)
    return job_create(
        owner=owner,
        kind=CHAT_IMPORT,
        data=data,
        input_name=input_name or "chat.jsonl",
        total=count,
        params={"character_id": character.pk if character is not None else None},
    )


def _chat_import_run(job: BackgroundJob, data: bytes, progress: JobProgress) -> Chat:
    character = None
    character_id = job.params.get("character_id")
    if isinstance(character_id, int):
        try:
            # Looked up again: the character may have gone, or become private, since.
            character = character_get_visible(character_id=character_id, user=job.owner)
        except Http404:
            character = None
    return chat_import_jsonl(owner=job.owner, data=data, character=character, progress=progress)


job_kind_register(
    JobKind(
        name=CHAT_IMPORT,
        label="Chat import",
        doing="Importing",
        run=_chat_import_run,
        links=lambda pk: {
            "type": "chats.chat",
            "api": reverse("api:chat", args=[pk]),
            "page": reverse("chats:detail", args=[pk]),
        },
    )
)
