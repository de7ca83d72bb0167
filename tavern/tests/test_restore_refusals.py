"""manage.py restore refuses, with a message that says why and before touching anything:
a database that holds data (without --force), a missing, damaged or foreign archive, one
made by newer code, and members that would land outside their folder."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import UserFactory
from tavern.testing.backups import archive_members, archive_write, manifest_edit

DUMP = b"PGDMP not really"
MANIFEST = {
    "format": "tavern-backup",
    "format_version": 1,
    "created_at": "2025-01-01T00:00:00+00:00",
    "database": {
        "name": "tavern",
        "bytes": len(DUMP),
        "sha256": hashlib.sha256(DUMP).hexdigest(),
        "extensions": [],
    },
    "trees": {"media": {"files": 1, "bytes": 2}},
    "not_copied": {},
    "migrations": {},
    "versions": {},
}
GOOD = {"database.dump": DUMP, "media/a.txt": b"hi", "manifest.json": json.dumps(MANIFEST).encode()}


def _restore(archive: Path, **options: object) -> str:
    out = io.StringIO()
    call_command("restore", str(archive), stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_database_holding_data_is_refused_without_force_and_kept(tmp_path, settings):
    # given: the test database with two users, and a media file
    UserFactory.create_batch(2)
    Path(settings.MEDIA_ROOT).mkdir(parents=True)
    (Path(settings.MEDIA_ROOT) / "kept.txt").write_text("kept")
    out = io.StringIO()
    call_command("backup", output_dir=tmp_path / "backups", stdout=out)
    (archive,) = (tmp_path / "backups").glob("*.tar")

    # when
    with pytest.raises(CommandError) as refused:
        _restore(archive)

    # then
    message = str(refused.value)
    assert message.startswith('Restore failed: the database "test_')
    assert "holding rows), 2 users; MEDIA_ROOT (" in message
    assert ") holds 1 file. A restore replaces all of it with the backup's. Run again with --force" in message
    assert User.objects.count() == 2
    assert (Path(settings.MEDIA_ROOT) / "kept.txt").read_text() == "kept"


@pytest.mark.parametrize(
    ("members", "symlinks", "error"),
    [
        pytest.param(None, None, "no such backup file", id="missing"),
        pytest.param({"database.dump": DUMP}, None, "it has no manifest.json", id="no-manifest"),
        pytest.param(
            manifest_edit(GOOD, format="something-else"),
            None,
            "its manifest is not a Tavern backup's",
            id="foreign",
        ),
        pytest.param(
            manifest_edit(GOOD, trees="nonsense"), None, "its manifest is malformed", id="malformed"
        ),
        pytest.param(
            {**GOOD, "database.dump": b"PGDMP altered!!!"},
            None,
            "database.dump does not match the manifest's checksum (damaged)",
            id="dump-altered",
        ),
        pytest.param(
            {"media/b.txt": b"xx", **GOOD},
            None,
            "media/ holds 2 files (4 bytes); the manifest says 1 (2 bytes)",
            id="media-file-added",
        ),
        pytest.param(
            {"media/../../escape.txt": b"hi", **GOOD},
            None,
            "'media/../../escape.txt', a path a restore refuses",
            id="climbs-out",
        ),
        pytest.param(
            GOOD, {"media/link": "/etc/passwd"}, "'media/link', which is not a plain file", id="symlink"
        ),
        pytest.param(
            manifest_edit(GOOD, migrations={"chats": ["0001_initial", "9999_from_the_future"]}),
            None,
            "it was made by newer code: its database has migrations this code does not have "
            "(chats.9999_from_the_future)",
            id="newer-code",
        ),
    ],
)
def test_a_bad_archive_is_refused_with_what_is_wrong(tmp_path, members, symlinks, error):
    archive = tmp_path / "backup.tar"
    if members is not None:
        archive_write(archive, members, symlinks=symlinks)

    with pytest.raises(CommandError) as refused:
        _restore(archive, database_only=True)

    assert str(refused.value).startswith(f"Restore failed: {archive}")
    assert error in str(refused.value)


@pytest.mark.parametrize(
    ("cut", "error"),
    [
        pytest.param(0.5, "is damaged (cut short?): unexpected end of data", id="half"),
        pytest.param(0.0, "is not a backup archive, or is damaged", id="empty"),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_a_backup_cut_short_is_refused(tmp_path, cut, error):
    out = io.StringIO()
    call_command("backup", output_dir=tmp_path / "backups", stdout=out)
    (archive,) = (tmp_path / "backups").glob("*.tar")
    data = archive.read_bytes()
    archive.write_bytes(data[: int(len(data) * cut)])

    with pytest.raises(CommandError) as refused:
        _restore(archive)

    assert error in str(refused.value)


def test_not_a_tar_at_all_is_refused(tmp_path):
    archive = tmp_path / "notes.tar"
    archive.write_bytes(b"just some text, not a tar archive\n" * 40)

    with pytest.raises(CommandError) as refused:
        _restore(archive)

    assert str(refused.value).startswith(f"Restore failed: {archive} is not a backup archive, or is damaged")


def test_archive_members_reads_what_archive_write_wrote(tmp_path):
    assert archive_members(archive_write(tmp_path / "a.tar", GOOD)) == GOOD
