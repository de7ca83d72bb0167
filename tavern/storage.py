"""Where files nobody downloads wait (a background job's upload, until the job ends).

Locally: `PRIVATE_FILES_ROOT`, outside MEDIA_ROOT, so nothing that serves media (DEBUG's
URLs, a web server) ever serves them; read at each use, so a test can point it at a
folder of its own. On S3: a `private/` prefix of the same private bucket (settings)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    def __init__(self) -> None:
        super().__init__(base_url=None)

    @property
    def base_location(self) -> str:
        return str(settings.PRIVATE_FILES_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("private files have no URL")
