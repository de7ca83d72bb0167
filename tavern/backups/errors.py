from __future__ import annotations


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do.
    The management commands print it and exit non-zero."""
