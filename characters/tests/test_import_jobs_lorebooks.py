"""A big world file is imported by a real worker: the API (or the page) answers at once
with a job, the worker imports the book reporting progress, and the finished job links to
it. Bad content the worker finds fails the job with its message and leaves no book."""

import json

from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characters.cards import world_to_sillytavern
from characters.models import Lorebook
from characters.tests.factories import lorebook_value
from tavern.models import BackgroundJob
from tavern.testing.jobs import job_wait_finished

# Over IMPORT_SYNC_MAX_LOREBOOK_ENTRIES (500 by default), under LOREBOOK_MAX_ENTRIES.
ENTRIES = 600
PATHOLOGICAL = "/(a+)+$/"


def _world(*, bad_entry: int | None = None) -> bytes:
    world = world_to_sillytavern(lorebook_value(entries=ENTRIES))
    if bad_entry is not None:
        world["entries"][str(bad_entry - 1)]["key"] = [PATHOLOGICAL]
    return json.dumps(world).encode()


def _post(client, content: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("api:lorebook_import"),
        {"file": SimpleUploadedFile("Harbour.json", content), "name": "Harbour"},
        format="multipart",
    )


def test_a_big_world_file_is_imported_by_the_worker(celery_worker, user, user_client):
    response = _post(user_client, _world())

    job = BackgroundJob.objects.get(owner=user)
    stored = job.input_file.name
    assert response.status_code == 202
    assert response["Location"] == f"/api/v1/jobs/{job.pk}/"
    assert {key: response.json()[key] for key in ("id", "kind", "status", "progress", "result", "url")} == {
        "id": job.pk,
        "kind": "lorebook_import",
        "status": "queued",
        "progress": {"done": 0, "total": ENTRIES},
        "result": None,
        "url": f"/api/v1/jobs/{job.pk}/",
    }

    finished = job_wait_finished(job.pk)

    book = Lorebook.objects.get(owner=user)
    assert (finished.status, finished.error) == ("succeeded", "")
    assert (finished.progress_done, finished.progress_total) == (ENTRIES, ENTRIES)
    assert (book.name, book.entries.count()) == ("Harbour", ENTRIES)
    assert user_client.get(response["Location"]).json()["result"] == {
        "type": "characters.lorebook",
        "id": book.pk,
        "url": f"/api/v1/lorebooks/{book.pk}/",
        "page_url": f"/lorebooks/{book.pk}/",
    }
    assert (finished.input_file.name, storages["private"].exists(stored)) == ("", False)


def test_bad_content_found_by_the_worker_fails_the_job_and_imports_nothing(celery_worker, user, user_client):
    response = _post(user_client, _world(bad_entry=450))

    assert response.status_code == 202
    finished = job_wait_finished(response.json()["id"])

    assert finished.status == "failed"
    assert finished.error == (
        'Lorebook entry 450 "entry 449": the regex /(a+)+$/ is refused: it repeats a part that can '
        "itself repeat or be empty (as in (a+)+ or (a?)*), which can take exponential time on some texts."
    )
    assert finished.result_id is None
    assert Lorebook.objects.count() == 0
    assert user_client.get(response["Location"]).json()["status"] == "failed"


def test_the_page_sends_a_big_file_to_the_job_page(celery_worker, client, user):
    client.force_login(user)

    response = client.post(
        reverse("characters:lorebook_import"), {"file": SimpleUploadedFile("Harbour.json", _world())}
    )

    job = BackgroundJob.objects.get(owner=user)
    assert response.status_code == 302
    assert response.url == f"/jobs/{job.pk}/"
    finished = job_wait_finished(job.pk)
    book = Lorebook.objects.get(owner=user)
    page = client.get(response.url).content.decode()
    assert finished.status == "succeeded"
    assert f"Done: {ENTRIES} of {ENTRIES}." in page
    assert f'href="/lorebooks/{book.pk}/" data-job-result' in page
