"""A background job's upload waits in the private storage, never under MEDIA_ROOT, which
DEBUG's URLs (or a web server) may serve to anyone."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import storages

from tavern.jobs.services import job_create

pytestmark = pytest.mark.django_db


def test_a_jobs_upload_is_kept_out_of_the_served_media(user):
    job = job_create(
        owner=user, kind="lorebook_import", data=b'{"entries": {}}', input_name="world.json", total=0
    )

    stored = Path(job.input_file.path)

    assert job.input_file.storage is storages["private"]
    assert stored.read_bytes() == b'{"entries": {}}'
    assert Path(settings.PRIVATE_FILES_ROOT) in stored.parents  # this test's own folder
    assert Path(settings.MEDIA_ROOT) not in stored.parents
    with pytest.raises(ValueError, match="no URL"):
        job.input_file.url  # noqa: B018
