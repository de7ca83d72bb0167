"""Putting a backup's files back: unpacked beside the live ones first (in a staging
folder inside the root, so the final moves are renames on one filesystem, even when the
root is a mount point), swapped in only once the database is restored."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .archive import OpenedArchive
from .errors import BackupError
from .file_trees import RESTORE_STAGING_PREFIX, FileTree, tree_files


def files_count(root: Path) -> int:
    return sum(1 for _path in tree_files(root))


def files_stage(opened: OpenedArchive, tree: FileTree, root: Path) -> Path:
    """Unpack the archive's files of `tree` into a new staging folder inside `root`."""
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=RESTORE_STAGING_PREFIX, dir=root))
    try:
        for relative, member in opened.trees[tree.name]:
            target = staging.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            source = opened.tar.extractfile(member)
            if source is None:
                raise BackupError(f"{member.name} in the archive is not a file")
            with source, target.open("xb") as sink:
                shutil.copyfileobj(source, sink, 1024 * 1024)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def files_swap(root: Path, staging: Path) -> None:
    """Make `root` hold exactly what `staging` holds."""
    for entry in root.iterdir():
        if entry == staging:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for entry in staging.iterdir():
        entry.rename(root / entry.name)
    staging.rmdir()


def files_unstage(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
