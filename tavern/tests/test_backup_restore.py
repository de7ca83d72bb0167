"""manage.py backup, then manage.py restore into a fresh database on the same server: the
rows and the media files come back; a second restore needs --force; a pg_restore failing
half-way changes nothing."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from characters.tests.factories import CharacterFactory, card_png_bytes
from chats.models import Message
from chats.tests.factories import make_chat
from tavern import embedded
from tavern.backups import Database, database_from_alias
from tavern.backups.postgres import tool_path
from tavern.testing.backups import archive_members, database_fresh, database_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fresh_database(transactional_db) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    with database_fresh() as database:
        yield database


def _backup(output_dir: Path) -> Path:
    out = io.StringIO()
    call_command("backup", output_dir=output_dir, keep=0, stdout=out)
    (archive,) = output_dir.glob("tavern-backup-*.tar")
    return archive


def _restore(archive: Path, database: Database, **options: object) -> str:
    out = io.StringIO()
    call_command("restore", str(archive), database_url=database_url(database), stdout=out, **options)
    return out.getvalue()


def _rows(database: Database, query: str) -> list[tuple[object, ...]]:
    with database.connect() as connection:
        return connection.execute(query).fetchall()  # type: ignore[arg-type]


def test_a_backup_restored_into_a_fresh_database_brings_back_rows_and_media(
    tmp_path, settings, fresh_database
):
    # given: a user with a character (its avatar a media file) and a chat
    user = UserFactory(username="alba")
    character = CharacterFactory(owner=user, avatar_png=card_png_bytes())
    chat = make_chat(user, character)
    avatar = Path(settings.MEDIA_ROOT) / character.avatar.name
    avatar_bytes = avatar.read_bytes()
    messages = Message.objects.filter(chat=chat).count()

    # when: backed up, then restored into another database and an empty media folder
    archive = _backup(tmp_path / "backups")
    settings.MEDIA_ROOT = tmp_path / "media-restored"
    output = _restore(archive, fresh_database)

    # then
    assert _rows(fresh_database, f"SELECT username FROM accounts_user WHERE id = {user.pk}") == [("alba",)]
    assert _rows(
        fresh_database, f"SELECT name, avatar FROM characters_character WHERE id = {character.pk}"
    ) == [(character.name, character.avatar.name)]
    assert _rows(fresh_database, f"SELECT count(*) FROM chats_message WHERE chat_id = {chat.pk}") == [
        (messages,)
    ]
    assert _rows(fresh_database, "SELECT count(*) FROM django_migrations") == _rows(
        database_from_alias("default"), "SELECT count(*) FROM django_migrations"
    )
    assert (tmp_path / "media-restored" / character.avatar.name).read_bytes() == avatar_bytes
    assert "MEDIA_ROOT: 1 file restored" in output
    assert "Restore complete." in output


def test_the_manifest_describes_what_the_archive_holds(tmp_path, settings):
    UserFactory()
    (Path(settings.MEDIA_ROOT) / "notes").mkdir(parents=True)
    (Path(settings.MEDIA_ROOT) / "notes" / "a.txt").write_bytes(b"12345")

    members = archive_members(_backup(tmp_path / "backups"))

    manifest = json.loads(members["manifest.json"])
    assert sorted(members) == ["database.dump", "manifest.json", "media/notes/a.txt"]
    assert manifest["format"] == "tavern-backup"
    assert manifest["database"]["bytes"] == len(members["database.dump"])
    assert manifest["database"]["sha256"] == hashlib.sha256(members["database.dump"]).hexdigest()
    assert manifest["trees"] == {"media": {"files": 1, "bytes": 5}, "private": {"files": 0, "bytes": 0}}
    assert {extension["name"] for extension in manifest["database"]["extensions"]} == {"vector", "pg_trgm"}
    assert "0001_initial" in manifest["migrations"]["accounts"]


def test_a_second_restore_needs_force_and_then_replaces_everything(tmp_path, settings, fresh_database):
    # given: a backup already restored once, and a table the backup does not have
    UserFactory(username="alba")
    archive = _backup(tmp_path / "backups")
    settings.MEDIA_ROOT = tmp_path / "media-restored"
    _restore(archive, fresh_database)
    with fresh_database.connect() as connection:
        connection.execute("CREATE TABLE from_a_newer_migration (id int)")
        connection.execute("TRUNCATE accounts_user CASCADE")

    # when: restored again without --force, then with it
    with pytest.raises(CommandError) as refused:
        _restore(archive, fresh_database)
    output = _restore(archive, fresh_database, force=True)

    # then
    assert "holds" in str(refused.value)
    assert "0 users" in str(refused.value)
    assert "--force" in str(refused.value)
    assert _rows(fresh_database, "SELECT username FROM accounts_user") == [("alba",)]
    assert _rows(fresh_database, "SELECT to_regclass('public.from_a_newer_migration')") == [(None,)]
    assert "Dropped 1 table the backup does not have: public.from_a_newer_migration." in output


def test_a_pg_restore_failing_half_way_changes_nothing(tmp_path, fresh_database, monkeypatch):
    # given: a pg_restore that stops with an error once it has written the users' table,
    # and a database holding a table the backup does not have (the prologue drops it)
    UserFactory()
    archive = _backup(tmp_path / "backups")
    programs = tmp_path / "bin"
    programs.mkdir()
    for name in ("pg_dump", "psql"):
        (programs / name).symlink_to(tool_path(name))
    cut_short = programs / "pg_restore"
    cut_short.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *--list*) exec {tool_path("pg_restore")} "$@";; esac\n'
        f'{tool_path("pg_restore")} "$@" | '
        "awk '{ print } /^CREATE TABLE public\\.accounts_user \\(/ { found = 1 } found && /^\\);$/ { exit }'\n"
        'echo "pg_restore: error: could not read from input file: end of file" >&2\n'
        "exit 1\n"
    )
    cut_short.chmod(0o755)
    monkeypatch.setattr(embedded, "postgres_bin_dir", lambda: programs)
    with fresh_database.connect() as connection:
        connection.execute("CREATE TABLE kept (id int)")
        connection.execute("INSERT INTO kept VALUES (1)")

    # when
    with pytest.raises(CommandError) as failed:
        _restore(archive, fresh_database, force=True)

    # then: psql was stopped before its input ended, so it committed nothing
    assert str(failed.value) == (
        "Restore failed: pg_restore failed; nothing was changed: "
        "pg_restore: error: could not read from input file: end of file"
    )
    assert _rows(fresh_database, "SELECT id FROM kept") == [(1,)]
    assert _rows(fresh_database, "SELECT to_regclass('public.accounts_user')") == [(None,)]
