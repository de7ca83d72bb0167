"""`manage.py backup` and `manage.py restore` (README, "Backups").

A backup is one tar file, ``tavern-backup-<UTC time>.tar``, holding:

    database.dump   pg_dump's custom format (compressed) of the whole database
    media/...       the files under MEDIA_ROOT, when media is on the local filesystem
    private/...     the files under PRIVATE_FILES_ROOT (background jobs' uploads), likewise
    manifest.json   written last: when, from what, sizes and checksum, migration state

Files on S3 are not copied: the bucket is their backup (turn on its versioning), and the
manifest and the command's output say so. The archive is written under a temporary name
and renamed once complete, so a file with the final name is always a whole backup.
"""

from .create import BackupReport as BackupReport
from .create import backup_create as backup_create
from .create import backups_prune as backups_prune
from .errors import BackupError as BackupError
from .postgres import Database as Database
from .postgres import database_from_alias as database_from_alias
from .postgres import database_from_url as database_from_url
from .restore import RestoreReport as RestoreReport
from .restore import backup_restore as backup_restore
