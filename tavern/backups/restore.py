"""Restoring a backup (`manage.py restore`): check everything, refuse to replace data
unless told to, then the database in one transaction, then the files."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.db.migrations.loader import MigrationLoader

from .archive import DATABASE_MEMBER, Manifest, OpenedArchive, TreeSummary, archive_open
from .errors import BackupError
from .file_trees import FILE_TREES, FileTree
from .postgres import Database
from .restore_database import DatabaseContents, database_contents, database_load
from .restore_files import files_count, files_stage, files_swap, files_unstage
from .sizes import count_text


@dataclass
class RestoreReport:
    database: str
    manifest: Manifest
    tables: int = 0
    tables_dropped: list[str] = field(default_factory=list)
    files: dict[str, TreeSummary] = field(default_factory=dict)  # per FileTree.setting
    notes: list[str] = field(default_factory=list)
    migrations_pending: int = 0


def backup_restore(
    *, archive: Path, database: Database, force: bool, with_files: bool = True
) -> RestoreReport:
    """Restore `archive` into `database` (and, unless `with_files` is off, the local file
    folders). Refuses a database or folders that hold anything unless `force`."""
    opened = archive_open(archive)
    try:
        with tempfile.TemporaryDirectory(prefix="tavern-restore-") as folder:
            return _restore(opened, Path(folder), database=database, force=force, with_files=with_files)
    finally:
        opened.tar.close()


def _restore(
    opened: OpenedArchive, folder: Path, *, database: Database, force: bool, with_files: bool
) -> RestoreReport:
    manifest = opened.manifest
    report = RestoreReport(database=database.describe(), manifest=manifest)
    report.migrations_pending = len(_migrations_pending(opened))
    trees = _trees_to_restore(opened, with_files=with_files, report=report)
    dump = _dump_extract(opened, folder)
    contents = database_contents(database)
    _refuse_replacing(database, contents, trees, force=force)
    staged: list[Path] = []
    try:
        for tree, root in trees:
            staged.append(files_stage(opened, tree, root))
        report.tables_dropped = database_load(
            database=database, dump=dump, extensions=manifest.database["extensions"], contents=contents
        )
    except BaseException:
        for staging in staged:
            files_unstage(staging)
        raise
    for (tree, root), staging in zip(trees, staged, strict=True):
        files_swap(root, staging)
        report.files[tree.setting] = manifest.trees[tree.name]
    report.tables = len(database_contents(database).tables)
    return report


def _migrations_pending(opened: OpenedArchive) -> list[tuple[str, str]]:
    """The migrations this code has that the backup's database lacks; refuses a backup made
    by newer code (its tables would not match these models)."""
    disk = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    known = set(disk) | {tuple(replaced) for migration in disk.values() for replaced in migration.replaces}
    applied = opened.manifest.migration_keys()
    unknown = sorted(applied - known)
    if unknown:
        named = ", ".join(f"{app}.{name}" for app, name in unknown[:5])
        raise BackupError(
            f"{opened.path} cannot be restored: it was made by newer code: its database has migrations this code does not have ({named}"
            f"{', ...' if len(unknown) > 5 else ''}). Restore it with the version of Tavern that made it."
        )
    return [
        key
        for key, migration in disk.items()
        if key not in applied
        and not (migration.replaces and all(tuple(replaced) in applied for replaced in migration.replaces))
    ]


def _trees_to_restore(
    opened: OpenedArchive, *, with_files: bool, report: RestoreReport
) -> list[tuple[FileTree, Path]]:
    trees = []
    for tree in FILE_TREES:
        if tree.name in opened.manifest.not_copied:
            report.notes.append(f"When it was made, {opened.manifest.not_copied[tree.name]}.")
        if tree.name not in opened.manifest.trees:
            continue
        summary = opened.manifest.trees[tree.name]
        root = tree.root()
        if not with_files:
            report.notes.append(
                f"{tree.setting} left as it is (--database-only): the backup's "
                f"{count_text(summary.files, 'file')} not restored."
            )
        elif root is None:
            report.notes.append(
                f"The backup holds {summary.files} {tree.label}, but here {tree.elsewhere().split(' and ')[0]}: "
                f"not restored. Unpack them with `tar -xf {opened.path} {tree.name}/` and upload them."
            )
        elif opened.path.resolve().is_relative_to(root.resolve()):
            raise BackupError(
                f"the archive lies inside {tree.setting}, which a restore replaces: move it out first"
            )
        else:
            trees.append((tree, root))
    return trees


def _refuse_replacing(
    database: Database, contents: DatabaseContents, trees: list[tuple[FileTree, Path]], *, force: bool
) -> None:
    at_stake = [] if contents.empty else [f"the database {database.describe()} holds {contents.describe()}"]
    for tree, root in trees:
        count = files_count(root)
        if count:
            at_stake.append(f"{tree.setting} ({root}) holds {count_text(count, 'file')}")
    if at_stake and not force:
        raise BackupError(
            f"{'; '.join(at_stake)}. A restore replaces all of it with the backup's. "
            "Run again with --force to do so (back it up first if it matters)."
        )


def _dump_extract(opened: OpenedArchive, folder: Path) -> Path:
    """database.dump into `folder`, its checksum checked against the manifest's."""
    path, digest = folder / DATABASE_MEMBER, hashlib.sha256()
    source = opened.tar.extractfile(opened.database)
    if source is None:
        raise BackupError(f"{DATABASE_MEMBER} in the archive is not a file")
    with source, path.open("xb") as sink:
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(chunk)
            sink.write(chunk)
    if digest.hexdigest() != opened.manifest.database["sha256"]:
        raise BackupError(
            f"{opened.path} cannot be restored: {DATABASE_MEMBER} does not match the manifest's checksum (damaged)"
        )
    return path
