"""Import a SillyTavern user data folder (`data/default-user/`) into a Tavern account.

Characters (`characters/*.png|json|charx`), world lorebooks (`worlds/*.json`) and
personas (`settings.json` → `power_user.personas`, images in `User Avatars/`)
go through the same services as an upload, and so within the same limits (a file
too big is refused before it is read). Nothing is imported twice: a
character is skipped when the account has one with the same name and content
hash, a lorebook when one has the same name and entry count, a persona when one
has the same name. A bad file is reported and the import goes on.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from accounts.models import User
from characters.cards import CardError
from characters.models import DescriptionPosition
from characters.records import card_content_hash
from characters.selectors import characters_owned, lorebooks_owned, personas_owned
from characters.services import (
    CharacterError,
    character_card_read,
    character_create,
    lorebook_create,
    lorebook_world_read,
    persona_save,
)
from chats.limits import chat_import_max_bytes
from tavern.errors import DomainRuleError

CARD_SUFFIXES = (".png", ".json", ".charx")
KINDS = ("characters", "lorebooks", "personas", "chats")

# SillyTavern's persona_description_positions; 1 (after the character) is deprecated
# and SillyTavern itself now treats it as "in the prompt".
PERSONA_POSITIONS = {
    0: DescriptionPosition.IN_PROMPT,
    1: DescriptionPosition.IN_PROMPT,
    2: DescriptionPosition.TOP_AN,
    3: DescriptionPosition.BOTTOM_AN,
    4: DescriptionPosition.AT_DEPTH,
    9: DescriptionPosition.NONE,
}
PERSONA_ROLES = {0: "system", 1: "user", 2: "assistant"}

# What a single bad file may raise; anything else is a bug and stops the import.
FILE_ERRORS = (DomainRuleError, CardError, ValidationError, OSError, ValueError)

IMPORTED, SKIPPED, FAILED = "imported", "already imported", "failed"


@dataclass(frozen=True)
class Item:
    kind: str
    label: str  # the path inside the data folder, as the user knows it
    run: Callable[[], str]  # IMPORTED or SKIPPED; raises one of FILE_ERRORS


class ProgressBar:
    """One line redrawn in place on a terminal; one line per item when piped to a log."""

    def __init__(self, out: OutputWrapper, total: int, *, width: int = 28) -> None:
        self.out, self.total, self.width = out, total, width
        self.done = 0
        self.in_place = out.isatty()

    def step(self, label: str, outcome: str) -> None:
        self.done += 1
        filled = self.width * self.done // max(self.total, 1)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} {label}: {outcome}"
        if self.in_place:
            self.out.write(f"\r\x1b[K{line}", ending="")
            self.out.flush()
        else:
            self.out.write(line)

    def close(self) -> None:
        if self.in_place and self.done:
            self.out.write("")


class Command(BaseCommand):
    help = "Import a SillyTavern user data folder (characters, worlds, personas, chats); safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="a SillyTavern user folder, e.g. data/default-user")
        parser.add_argument(
            "--user", default=None, help=f"Tavern username to import into (default: {settings.DEMO_USERNAME})"
        )

    def handle(self, *args: Any, path: Path, user: str | None, **options: Any) -> None:
        username = user or settings.DEMO_USERNAME
        owner = User.objects.filter(username=username).first()
        if owner is None:
            raise CommandError(f"There is no user {username!r}.")
        folder = _user_folder(path)

        items = [
            *_character_items(folder, owner),
            *_lorebook_items(folder, owner),
            *_persona_items(folder, owner),
        ]
        # Chats last: they name characters imported just above.
        items += _chat_items(folder, owner)
        self.stdout.write(f"Importing {len(items)} item(s) from {folder} into {owner.username}'s account")
        counts: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
        failures: list[tuple[str, str]] = []
        bar = ProgressBar(self.stdout, len(items))
        for item in items:
            try:
                outcome = item.run()
            except FILE_ERRORS as error:
                outcome = FAILED
                failures.append((item.label, _message(error)))
            counts[item.kind][outcome] += 1
            bar.step(item.label, outcome)
        bar.close()

        self.stdout.write("Summary:")
        for kind in KINDS:
            tally = counts[kind]
            self.stdout.write(
                f"  {kind}: {tally[IMPORTED]} imported, {tally[SKIPPED]} already imported, {tally[FAILED]} failed"
            )
        if failures:
            self.stdout.write(self.style.WARNING(f"{len(failures)} file(s) could not be imported:"))
            for label, message in failures:
                self.stdout.write(f"  {label}: {message}")
        done = sum(counts[kind][IMPORTED] for kind in KINDS)
        self.stdout.write(self.style.SUCCESS(f"Done: {done} new item(s)."))


def _user_folder(path: Path) -> Path:
    """The user folder itself, or the `default-user` inside a whole `data/` folder."""
    if not path.is_dir():
        raise CommandError(f"{path} is not a folder.")
    markers = ("characters", "worlds", "settings.json")
    if not any((path / name).exists() for name in markers) and (path / "default-user").is_dir():
        return path / "default-user"
    return path


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error)


def _read(path: Path, *, limit: int) -> bytes:
    """The file's bytes, refused unread when it is over the limit an upload has."""
    size = path.stat().st_size
    if size > limit:
        raise CharacterError(f"The file is {size:,} bytes, more than the limit of {limit:,}.", field="file")
    return path.read_bytes()


# ---------------------------------------------------------------- characters


def _character_items(folder: Path, owner: User) -> list[Item]:
    directory = folder / "characters"
    if not directory.is_dir():
        return []
    # Only the top level: sub-folders hold a character's expression sprites, not cards.
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in CARD_SUFFIXES)
    return [Item("characters", f"characters/{p.name}", partial(_character_import, p, owner)) for p in files]


def _character_import(path: Path, owner: User) -> str:
    # No filename: the report already names the file.
    parsed = character_card_read(data=_read(path, limit=settings.CARD_MAX_BYTES))
    content_hash = card_content_hash(parsed.card)
    if characters_owned(user=owner).filter(name=parsed.card.name, content_hash=content_hash).exists():
        return SKIPPED
    character_create(
        owner=owner,
        card=parsed.card,
        avatar_png=parsed.avatar_png,
        change_summary=f"Imported from SillyTavern ({path.name}, {parsed.spec_version.upper()})",
        avatar_field="file",
        book_field="file",
        card_field="file",
    )
    return IMPORTED


# ---------------------------------------------------------------- lorebooks


def _lorebook_items(folder: Path, owner: User) -> list[Item]:
    directory = folder / "worlds"
    if not directory.is_dir():
        return []
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".json")
    return [Item("lorebooks", f"worlds/{p.name}", partial(_lorebook_import, p, owner)) for p in files]


def _lorebook_import(path: Path, owner: User) -> str:
    data = _read(path, limit=settings.CARD_MAX_BYTES)
    # SillyTavern names a world by its file; the JSON usually has no name of its own.
    name = path.stem
    value = lorebook_world_read(data=data, name=name)
    already = lorebooks_owned(user=owner).filter(
        name=name, entry_count=len(value.entries), character__isnull=True
    )
    if already.exists():
        return SKIPPED
    lorebook_create(owner=owner, value=value, field="file")
    return IMPORTED


# ---------------------------------------------------------------- personas


def _persona_items(folder: Path, owner: User) -> list[Item]:
    settings_path = folder / "settings.json"
    if not settings_path.is_file():
        return []
    try:
        power_user = _power_user_settings(settings_path)
    except FILE_ERRORS as error:
        return [Item("personas", "settings.json", partial(_unreadable, _message(error)))]
    names = power_user.get("personas") or {}
    descriptions = power_user.get("persona_descriptions") or {}
    default_avatar = power_user.get("default_persona")
    if not isinstance(names, dict) or not isinstance(descriptions, dict):
        return []
    # SillyTavern's default becomes Tavern's only when the account had none before the import.
    keeps_its_default = personas_owned(user=owner).filter(is_default=True).exists()
    return [
        Item(
            "personas",
            f"settings.json: persona {name!r}",
            partial(
                _persona_import,
                folder,
                owner,
                avatar=str(avatar),
                name=str(name),
                description=descriptions.get(avatar) or {},
                is_default=avatar == default_avatar and not keeps_its_default,
            ),
        )
        for avatar, name in names.items()
    ]


def _unreadable(message: str) -> str:
    raise CharacterError(message, field="file")


def _power_user_settings(path: Path) -> dict[str, Any]:
    loaded = json.loads(path.read_text(encoding="utf-8-sig"))
    power_user = loaded.get("power_user") if isinstance(loaded, dict) else None
    return power_user if isinstance(power_user, dict) else {}


def _persona_import(
    folder: Path, owner: User, *, avatar: str, name: str, description: object, is_default: bool
) -> str:
    name = " ".join(name.split())[:100]
    if personas_owned(user=owner).filter(name=name).exists():
        return SKIPPED
    details = description if isinstance(description, dict) else {}
    data = {
        "name": name,
        "description": str(details.get("description") or ""),
        "description_position": PERSONA_POSITIONS.get(
            _int_or(details.get("position"), 0), DescriptionPosition.IN_PROMPT
        ),
        "depth": min(max(0, _int_or(details.get("depth"), 2)), 1000),
        "role": PERSONA_ROLES.get(_int_or(details.get("role"), 0), "system"),
        "is_default": is_default,
    }
    image_path = folder / "User Avatars" / Path(avatar).name
    avatar_png = _read(image_path, limit=settings.AVATAR_MAX_BYTES) if image_path.is_file() else None
    persona_save(owner=owner, persona=None, data=data, avatar_png=avatar_png)
    return IMPORTED


def _int_or(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return default


# ---------------------------------------------------------------- chats


def _chat_items(folder: Path, owner: User) -> list[Item]:
    """`chats/<character>/*.jsonl` (solo, the folder names the character) and
    `group chats/*.jsonl` (characters matched by the names in the messages)."""
    items = []
    solo = folder / "chats"
    if solo.is_dir():
        for path in sorted(solo.rglob("*.jsonl")):
            label = path.relative_to(folder).as_posix()
            items.append(Item("chats", label, partial(_chat_import, path, owner, label, path.parent.name)))
    group = folder / "group chats"
    if group.is_dir():
        for path in sorted(group.glob("*.jsonl")):
            label = path.relative_to(folder).as_posix()
            items.append(Item("chats", label, partial(_chat_import, path, owner, label, None)))
    return items


def _chat_import(path: Path, owner: User, label: str, character_name: str | None) -> str:
    from chats.selectors import chats_for_user
    from chats.sillytavern_jsonl import chat_import_jsonl

    data = _read(path, limit=chat_import_max_bytes())
    digest = hashlib.sha256(data).hexdigest()
    imported = chats_for_user(user=owner).filter(settings__imported_sha256=digest)
    if (
        imported.exists()
        or chats_for_user(user=owner, archived=True).filter(settings__imported_sha256=digest).exists()
    ):
        return SKIPPED
    characters = {c.name: c for c in characters_owned(user=owner)}
    fallback = characters.get(character_name) if character_name else None
    if fallback is None and character_name:
        # SillyTavern names the folder after the card file; match loosely on the name.
        fallback = next((c for name, c in characters.items() if name.lower() == character_name.lower()), None)
    chat = chat_import_jsonl(owner=owner, data=data, character=fallback, characters_by_name=characters)
    chat.settings = {**chat.settings, "imported_from": label, "imported_sha256": digest}
    chat.save(update_fields=["settings"])
    return IMPORTED
