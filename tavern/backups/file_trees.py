"""The folders of files a backup carries: MEDIA_ROOT (avatars, generated media) and
PRIVATE_FILES_ROOT (background jobs' uploads), each only while its storage is the local
filesystem. On S3 the bucket keeps them; a backup says so instead of copying them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.files.storage import FileSystemStorage, storages

# A restore unpacks into a folder of this name inside the root, then swaps it in.
RESTORE_STAGING_PREFIX = ".tavern-restore-"


@dataclass(frozen=True)
class FileTree:
    name: str  # its folder in the archive
    label: str
    setting: str
    storage_alias: str

    def root(self) -> Path | None:
        """The local folder, or None when the storage is elsewhere (S3)."""
        storage = storages[self.storage_alias]
        if isinstance(storage, FileSystemStorage):
            return Path(storage.location)
        return None

    def elsewhere(self) -> str:
        storage = storages[self.storage_alias]
        bucket = getattr(storage, "bucket_name", None)
        where = f'the bucket "{bucket}"' if bucket else type(storage).__name__
        return f"{self.label} live in {where} and are not copied"


FILE_TREES = (
    FileTree(name="media", label="media files", setting="MEDIA_ROOT", storage_alias="default"),
    FileTree(name="private", label="private files", setting="PRIVATE_FILES_ROOT", storage_alias="private"),
)


def tree_files(root: Path) -> Iterator[Path]:
    """Every regular file under `root`, in a stable order, without following links and
    without a restore's staging folder."""
    if not root.is_dir():
        return
    for folder, folders, names in os.walk(root):
        here = Path(folder)
        folders[:] = sorted(
            name for name in folders if not (here == root and name.startswith(RESTORE_STAGING_PREFIX))
        )
        for name in sorted(names):
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path


def tree_holding(path: Path) -> FileTree | None:
    """The local file folder `path` lies in, if any: backups kept there would be served as
    media, copied into the next backup, and deleted by a restore."""
    resolved = path.resolve()
    for tree in FILE_TREES:
        root = tree.root()
        if root is not None and resolved.is_relative_to(root.resolve()):
            return tree
    return None
