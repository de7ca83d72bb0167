"""manage.py backup: the database and the local media files in one archive, keeping the
newest BACKUP_KEEP (README, "Backups"; the format is described in tavern/backups/)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from tavern.backups import BackupError, backup_create, backups_prune, database_from_alias
from tavern.backups.file_trees import FILE_TREES
from tavern.backups.sizes import count_text, size_text


class Command(BaseCommand):
    help = "Back up the database and the local media files into one archive, keeping the newest few."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--output-dir",
            type=Path,
            default=None,
            help="where the archive goes (default: the BACKUP_DIR setting)",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=None,
            help="keep this many backups in the folder, deleting the oldest this command made "
            "(default: the BACKUP_KEEP setting; 0 keeps all)",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="the DATABASES entry to back up")

    def handle(self, *args: object, **options: object) -> None:
        output_dir = Path(options["output_dir"] or settings.BACKUP_DIR)  # type: ignore[arg-type]
        keep = settings.BACKUP_KEEP if options["keep"] is None else options["keep"]
        if not isinstance(keep, int) or keep < 0:
            raise CommandError("--keep must be 0 (keep every backup) or more")
        try:
            database = database_from_alias(str(options["database"]))
            report = backup_create(database=database, output_dir=output_dir)
        except BackupError as error:
            raise CommandError(f"Backup failed, nothing was written: {error}") from error

        manifest = report.manifest
        self.stdout.write(f"Database {database.describe()}: {size_text(manifest.database['bytes'])} dump.")
        for tree in FILE_TREES:
            if tree.name in manifest.trees:
                summary = manifest.trees[tree.name]
                self.stdout.write(
                    f"{tree.setting}: {count_text(summary.files, 'file')}, {size_text(summary.bytes)}."
                )
            if tree.name in manifest.not_copied:
                self.stdout.write(
                    self.style.WARNING(
                        f"{tree.setting}: {manifest.not_copied[tree.name]} (turn on the bucket's versioning)."
                    )
                )
        self.stdout.write(self.style.SUCCESS(f"Backup written: {report.path} ({size_text(report.bytes)})."))
        try:
            pruned = backups_prune(output_dir=output_dir, keep=keep)
        except OSError as error:
            raise CommandError(f"The backup is written, but removing old ones failed: {error}") from error
        for path in pruned:
            self.stdout.write(f"Removed the old backup {path.name} (keeping the newest {keep}).")
