"""A card whose lorebook is big is imported by a real worker: the API answers at once with
a job, and the finished job links to the new character, its book complete."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characters.cards import export_png
from characters.models import Character
from characters.tests.factories import card_data, lorebook_value
from tavern.models import BackgroundJob
from tavern.testing.jobs import job_wait_finished

# Over IMPORT_SYNC_MAX_LOREBOOK_ENTRIES (500 by default).
ENTRIES = 600


def test_a_card_with_a_big_book_is_imported_by_the_worker(celery_worker, user, user_client):
    card = export_png(card_data(character_book=lorebook_value(entries=ENTRIES, name="Mira's notes")))

    response = user_client.post(
        reverse("api:character_import"), {"file": SimpleUploadedFile("mira.png", card)}, format="multipart"
    )

    job = BackgroundJob.objects.get(owner=user)
    assert response.status_code == 202
    assert (response.json()["kind"], response.json()["progress"]) == (
        "character_import",
        {"done": 0, "total": ENTRIES},
    )
    finished = job_wait_finished(job.pk)
    character = Character.objects.get(owner=user)
    assert (finished.status, finished.progress_done, finished.progress_total) == (
        "succeeded",
        ENTRIES,
        ENTRIES,
    )
    assert (character.name, character.book.name, character.book.entries.count()) == (
        "Mira the Cartographer",
        "Mira's notes",
        ENTRIES,
    )
    assert bool(character.avatar) is True
    assert (
        user_client.get(response["Location"]).json()["result"]["url"] == f"/api/v1/characters/{character.pk}/"
    )


def test_a_card_with_a_small_book_is_imported_at_once(user_client, db):
    card = export_png(card_data(character_book=lorebook_value(entries=3)))

    response = user_client.post(
        reverse("api:character_import"), {"file": SimpleUploadedFile("mira.png", card)}, format="multipart"
    )

    assert response.status_code == 201
    assert response.json()["book"]["entry_count"] == 3
    assert BackgroundJob.objects.count() == 0
