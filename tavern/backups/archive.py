"""The archive's layout, its manifest, and reading one back with every check a restore
needs before it touches anything: a whole tar, our manifest, the dump's checksum, the
files' count and size, and no member that could land outside its folder."""

from __future__ import annotations

import json
import re
import tarfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import BackupError

FORMAT = "tavern-backup"
FORMAT_VERSION = 1
MANIFEST_MEMBER = "manifest.json"
DATABASE_MEMBER = "database.dump"
# Only files with this name are backups this command made (and so may be pruned).
ARCHIVE_NAME = re.compile(r"^tavern-backup-\d{8}T\d{12}Z\.tar$")


def archive_name(moment: datetime) -> str:
    """Sorts as time does: retention keeps the last names."""
    return f"tavern-backup-{moment:%Y%m%dT%H%M%S%f}Z.tar"


@dataclass(frozen=True)
class TreeSummary:
    files: int
    bytes: int


@dataclass(frozen=True)
class Manifest:
    created_at: str
    database: dict[str, Any]  # name, bytes, sha256, server_version, extensions
    # The file folders copied ("media", "private"), and those left where they are, with why.
    trees: dict[str, TreeSummary]
    not_copied: dict[str, str]
    migrations: dict[str, list[str]]  # applied, per app
    versions: dict[str, str]
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT:
                raise BackupError("its manifest is not a Tavern backup's")
            if raw.get("format_version") != FORMAT_VERSION:
                raise BackupError(
                    f"its format version is {raw.get('format_version')!r}; this code reads {FORMAT_VERSION}"
                )
            raw["trees"] = {name: TreeSummary(**summary) for name, summary in raw["trees"].items()}
            manifest = cls(**raw)
            missing = {"name", "bytes", "sha256", "extensions"} - set(manifest.database)
            if missing:
                raise KeyError(", ".join(sorted(missing)))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupError(f"its manifest is malformed ({error!r})") from error
        return manifest

    def migration_keys(self) -> set[tuple[str, str]]:
        return {(app, name) for app, names in self.migrations.items() for name in names}


@dataclass(frozen=True)
class OpenedArchive:
    """A checked archive: its manifest, and the members of each file folder by path."""

    path: Path
    manifest: Manifest
    tar: tarfile.TarFile
    database: tarfile.TarInfo
    trees: dict[str, list[tuple[PurePosixPath, tarfile.TarInfo]]]


def archive_open(path: Path) -> OpenedArchive:
    """Open and check a backup; BackupError saying what is wrong otherwise. Close its `tar`."""
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    try:
        tar = tarfile.open(path, mode="r:")  # noqa: SIM115 - the caller closes it
    except (tarfile.TarError, OSError) as error:
        raise BackupError(f"{path} is not a backup archive, or is damaged: {error}") from error
    try:
        return _archive_check(path, tar)
    except BackupError as error:
        tar.close()
        raise BackupError(f"{path} cannot be restored: {error}") from error
    except (tarfile.TarError, OSError, EOFError) as error:
        tar.close()
        raise BackupError(f"{path} is damaged (cut short?): {error}") from error


def manifest_read(path: Path) -> Manifest | None:
    """The manifest of a backup this command made, or None for any other file."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            return _manifest_load(tar)
    except (BackupError, tarfile.TarError, OSError, EOFError):
        return None


def _manifest_load(tar: tarfile.TarFile) -> Manifest:
    try:
        member = tar.getmember(MANIFEST_MEMBER)
    except KeyError:
        raise BackupError("it has no manifest.json (not a Tavern backup, or not a whole one)") from None
    stream = tar.extractfile(member)
    if stream is None:
        raise BackupError("its manifest.json is not a file")
    with stream:
        return Manifest.from_json(stream.read())


def _archive_check(path: Path, tar: tarfile.TarFile) -> OpenedArchive:
    manifest = _manifest_load(tar)
    database: tarfile.TarInfo | None = None
    trees: dict[str, list[tuple[PurePosixPath, tarfile.TarInfo]]] = {name: [] for name in manifest.trees}
    for member in tar.getmembers():
        if member.name == MANIFEST_MEMBER:
            continue
        if member.name == DATABASE_MEMBER and member.isfile():
            database = member
            continue
        top, relative = _member_place(member)
        if top not in trees:
            raise BackupError(f"it holds {member.name!r}, which its manifest does not account for")
        if member.isfile():
            trees[top].append((relative, member))
    if database is None:
        raise BackupError(f"it has no {DATABASE_MEMBER}")
    if database.size != manifest.database["bytes"]:
        raise BackupError(
            f"{DATABASE_MEMBER} is {database.size} bytes; the manifest says {manifest.database['bytes']}"
        )
    for name, summary in manifest.trees.items():
        found = TreeSummary(files=len(trees[name]), bytes=sum(member.size for _path, member in trees[name]))
        if found != summary:
            raise BackupError(
                f"{name}/ holds {found.files} files ({found.bytes} bytes); "
                f"the manifest says {summary.files} ({summary.bytes} bytes)"
            )
    return OpenedArchive(path=path, manifest=manifest, tar=tar, database=database, trees=trees)


def _member_place(member: tarfile.TarInfo) -> tuple[str, PurePosixPath]:
    """Which folder a member belongs to, and its path inside; refuses links, devices and
    paths that would climb out."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or (len(path.parts) < 2 and not member.isdir()):
        raise BackupError(f"it holds {member.name!r}, a path a restore refuses")
    if not (member.isfile() or member.isdir()):
        raise BackupError(f"it holds {member.name!r}, which is not a plain file or folder")
    return path.parts[0], PurePosixPath(*path.parts[1:]) if len(path.parts) > 1 else PurePosixPath()
