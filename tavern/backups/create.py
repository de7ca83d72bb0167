"""Making a backup (`manage.py backup`), and keeping only the newest few."""

from __future__ import annotations

import hashlib
import io
import os
import platform
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import django
import psycopg

from .archive import (
    ARCHIVE_NAME,
    DATABASE_MEMBER,
    MANIFEST_MEMBER,
    Manifest,
    TreeSummary,
    archive_name,
    manifest_read,
)
from .errors import BackupError
from .file_trees import FILE_TREES, FileTree, tree_files, tree_holding
from .postgres import Database, tool_run


@dataclass(frozen=True)
class BackupReport:
    path: Path
    bytes: int
    manifest: Manifest


def backup_create(*, database: Database, output_dir: Path) -> BackupReport:
    """Dump `database` and the local file folders into one archive in `output_dir`.

    Everything is written in a hidden staging folder beside the result and renamed into
    place once complete and flushed to disk: a failed or killed backup leaves no file that
    looks like a backup (a killed one may leave a `.tavern-backup-*.partial` folder)."""
    moment = datetime.now(UTC)
    holder = tree_holding(output_dir)
    if holder is not None:
        raise BackupError(
            f"the backup folder {output_dir} is inside {holder.setting}: backups there would be served "
            "as media files and deleted by a restore. Choose a folder outside it (BACKUP_DIR or --output-dir)."
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    facts = _database_facts(database)
    staging = Path(tempfile.mkdtemp(prefix=".tavern-backup-", suffix=".partial", dir=output_dir))
    try:
        dump = staging / DATABASE_MEMBER
        tool_run("pg_dump", ["--format=custom", "--no-password", f"--file={dump}"], database=database)
        facts["versions"]["pg_dump"] = tool_run("pg_dump", ["--version"], database=database).strip()
        partial = staging / "archive.tar"
        manifest = _archive_write(partial, dump=dump, moment=moment, facts=facts)
        final = _unused_path(output_dir, moment)
        os.replace(partial, final)
        _folder_sync(output_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupReport(path=final, bytes=final.stat().st_size, manifest=manifest)


def backups_prune(*, output_dir: Path, keep: int) -> list[Path]:
    """Delete the oldest backups this command made beyond the newest `keep` (0: keep all).
    Other files, even in the same folder, are never touched."""
    if keep <= 0 or not output_dir.is_dir():
        return []
    ours = sorted(
        path
        for path in output_dir.iterdir()
        if ARCHIVE_NAME.match(path.name) and path.is_file() and manifest_read(path) is not None
    )
    doomed = ours[:-keep]
    for path in doomed:
        path.unlink()
    return doomed


def _database_facts(database: Database) -> dict[str, Any]:
    with database.connect() as connection:
        server_version = str(connection.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        extensions = [
            {"name": name, "version": version, "schema": schema}
            for name, version, schema in connection.execute(
                "SELECT e.extname, e.extversion, n.nspname FROM pg_extension e "
                "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY 1"
            )
        ]
        migrations: dict[str, list[str]] = {}
        try:
            for app, name in connection.execute("SELECT app, name FROM django_migrations ORDER BY app, name"):
                migrations.setdefault(app, []).append(name)
        except psycopg.errors.UndefinedTable:
            pass  # never migrated: nothing to record
    return {
        "database": {"name": database.name, "server_version": server_version, "extensions": extensions},
        "migrations": migrations,
        "versions": {
            "django": django.get_version(),
            "python": platform.python_version(),
            "postgresql": server_version,
        },
    }


def _archive_write(partial: Path, *, dump: Path, moment: datetime, facts: dict[str, Any]) -> Manifest:
    trees: dict[str, TreeSummary] = {}
    not_copied: dict[str, str] = {}
    with partial.open("xb") as raw:
        with tarfile.open(fileobj=raw, mode="w:", format=tarfile.PAX_FORMAT) as tar:
            tar.add(dump, arcname=DATABASE_MEMBER)
            for tree in FILE_TREES:
                root = tree.root()
                if root is None:
                    not_copied[tree.name] = tree.elsewhere()
                else:
                    trees[tree.name] = _tree_add(tar, tree, root)
            manifest = Manifest(
                created_at=moment.isoformat(),
                database={**facts["database"], "bytes": dump.stat().st_size, "sha256": _sha256(dump)},
                trees=trees,
                not_copied=not_copied,
                migrations=facts["migrations"],
                versions=facts["versions"],
            )
            # Last: an archive cut short has no manifest, and a restore refuses it.
            data = manifest.to_json()
            info = tarfile.TarInfo(MANIFEST_MEMBER)
            info.size, info.mode, info.mtime = len(data), 0o644, int(moment.timestamp())
            tar.addfile(info, io.BytesIO(data))
        raw.flush()
        os.fsync(raw.fileno())
    return manifest


def _tree_add(tar: tarfile.TarFile, tree: FileTree, root: Path) -> TreeSummary:
    files = size = 0
    for path in tree_files(root):
        try:
            info = tar.gettarinfo(str(path), arcname=f"{tree.name}/{path.relative_to(root).as_posix()}")
            with path.open("rb") as stream:
                tar.addfile(info, stream)
        except FileNotFoundError:
            continue  # deleted as we went (a finished job's upload): not part of this backup
        files += 1
        size += info.size
    return TreeSummary(files=files, bytes=size)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _unused_path(output_dir: Path, moment: datetime) -> Path:
    # Two backups started in the same microsecond still get two names.
    while (candidate := output_dir / archive_name(moment)).exists():
        moment += timedelta(microseconds=1)
    return candidate


def _folder_sync(folder: Path) -> None:
    """The rename itself reaches the disk (the file's data already has)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
