"""Imports of world files and character cards from the API and the pages: one owner
for both, small ones now, big ones as background jobs.

The file is read and sized up in the request, so what breaks a limit is refused at
once (a 400 naming the `file`). A small import is then done there and then (201); a
big one (setting IMPORT_SYNC_MAX_BYTES, or more entries than
IMPORT_SYNC_MAX_LOREBOOK_ENTRIES) becomes a background job (202) whose worker makes
the same service call, reporting progress while it checks each entry — the slow part.
The operator's `import_sillytavern` command calls the services directly: it may take as
long as it needs, with a progress bar of its own.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from accounts.models import User
from tavern.jobs.progress import JobProgress
from tavern.jobs.registry import JobKind, job_kind_register
from tavern.jobs.services import job_create
from tavern.models import BackgroundJob

from .models import Character, Lorebook
from .services import (
    character_card_read,
    character_import,
    character_import_parsed,
    lorebook_create,
    lorebook_import_world,
    lorebook_world_read,
)

LOREBOOK_IMPORT = "lorebook_import"
CHARACTER_IMPORT = "character_import"


def _runs_as_job(*, size: int, entries: int) -> bool:
    return size > settings.IMPORT_SYNC_MAX_BYTES or entries > settings.IMPORT_SYNC_MAX_LOREBOOK_ENTRIES


def lorebook_import_start(
    *, owner: User, data: bytes, name: str = "", input_name: str = ""
) -> Lorebook | BackgroundJob:
    """A SillyTavern world file becomes a lorebook now, or a job that will make it."""
    value = lorebook_world_read(data=data, name=name)
    if not _runs_as_job(size=len(data), entries=len(value.entries)):
        return lorebook_create(owner=owner, value=value, field="file")
    return job_create(
        owner=owner,
        kind=LOREBOOK_IMPORT,
        data=data,
        input_name=input_name or "world.json",
        total=len(value.entries),
        params={"name": name},
    )


def character_import_start(
    *, owner: User, data: bytes, filename: str | None = None
) -> Character | BackgroundJob:
    """A card file becomes a private character now, or a job that will make it: a card is
    a job only for the size of its book (a card's picture makes most PNGs big)."""
    parsed = character_card_read(data=data, filename=filename)
    book = parsed.card.character_book
    entries = len(book.entries) if book is not None else 0
    if entries <= settings.IMPORT_SYNC_MAX_LOREBOOK_ENTRIES:
        return character_import_parsed(owner=owner, parsed=parsed, filename=filename)
    return job_create(
        owner=owner,
        kind=CHARACTER_IMPORT,
        data=data,
        input_name=filename or "card",
        total=entries,
        params={"filename": filename or ""},
    )


# ---------------------------------------------------------------- the jobs' work


def _lorebook_import_run(job: BackgroundJob, data: bytes, progress: JobProgress) -> Lorebook:
    return lorebook_import_world(
        owner=job.owner, data=data, name=str(job.params.get("name") or ""), progress=progress
    )


def _character_import_run(job: BackgroundJob, data: bytes, progress: JobProgress) -> Character:
    return character_import(
        owner=job.owner, data=data, filename=str(job.params.get("filename") or "") or None, progress=progress
    )


job_kind_register(
    JobKind(
        name=LOREBOOK_IMPORT,
        label="Lorebook import",
        doing="Importing",
        run=_lorebook_import_run,
        links=lambda pk: {
            "type": "characters.lorebook",
            "api": reverse("api:lorebook", args=[pk]),
            "page": reverse("characters:lorebook", args=[pk]),
        },
    )
)
job_kind_register(
    JobKind(
        name=CHARACTER_IMPORT,
        label="Character import",
        doing="Importing",
        run=_character_import_run,
        links=lambda pk: {
            "type": "characters.character",
            "api": reverse("api:character", args=[pk]),
            "page": reverse("characters:detail", args=[pk]),
        },
    )
)
