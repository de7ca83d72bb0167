"""manage.py restore ARCHIVE: a backup made by `manage.py backup` back into the database
and the local media folders (README, "Backups")."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from tavern.backups import BackupError, backup_restore, database_from_alias, database_from_url
from tavern.backups.sizes import count_text, size_text


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup`: the database, then the media files."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("archive", type=Path, help="a tavern-backup-*.tar file")
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="the DATABASES entry to restore into"
        )
        parser.add_argument(
            "--database-url",
            default=None,
            help="restore into this database instead: postgres://user@host:5432/name "
            "(a password in it or in PGPASSWORD); it must exist",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a database or media folder that holds anything (the refusal says what)",
        )
        parser.add_argument(
            "--database-only",
            action="store_true",
            help="leave MEDIA_ROOT and PRIVATE_FILES_ROOT as they are",
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            url = options["database_url"]
            database = database_from_url(str(url)) if url else database_from_alias(str(options["database"]))
            report = backup_restore(
                archive=Path(options["archive"]),  # type: ignore[arg-type]
                database=database,
                force=bool(options["force"]),
                with_files=not options["database_only"],
            )
        except BackupError as error:
            raise CommandError(f"Restore failed: {error}") from error

        self.stdout.write(
            f"Database {report.database}: the backup of {report.manifest.created_at} restored, "
            f"{report.tables} tables."
        )
        if report.tables_dropped:
            self.stdout.write(
                f"Dropped {count_text(len(report.tables_dropped), 'table')} the backup does not have: "
                f"{', '.join(report.tables_dropped)}."
            )
        for setting, summary in report.files.items():
            self.stdout.write(
                f"{setting}: {count_text(summary.files, 'file')} restored ({size_text(summary.bytes)})."
            )
        for note in report.notes:
            self.stdout.write(self.style.WARNING(note))
        if report.migrations_pending:
            self.stdout.write(
                self.style.WARNING(
                    f"This code has {count_text(report.migrations_pending, 'migration')} the backup's database lacks: "
                    "run `manage.py migrate`."
                )
            )
        self.stdout.write(self.style.SUCCESS("Restore complete."))
