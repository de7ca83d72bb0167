"""A big chat file is imported by a real worker: the API (or the page) answers at once
with a job, the worker stores every message reporting progress, and the finished job
links to the chat."""

import json

from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characters.tests.factories import CharacterFactory, card_data
from chats.models import Chat, Message, Swipe
from tavern.models import BackgroundJob
from tavern.testing.jobs import job_wait_finished

MIRA = "Mira the Cartographer"
# Over IMPORT_SYNC_MAX_CHAT_MESSAGES (2,000 by default), under CHAT_IMPORT_MAX_MESSAGES.
MESSAGES = 2_400


def _chat_file() -> bytes:
    lines = [{"user_name": "You", "character_name": MIRA, "create_date": "2024-05-01@10h00m00s"}]
    for number in range(MESSAGES):
        if number % 2:
            lines.append(
                {
                    "name": MIRA,
                    "is_user": False,
                    "mes": f"Reply {number}.",
                    "swipes": [f"Reply {number}.", "Or."],
                }
            )
        else:
            lines.append({"name": "You", "is_user": True, "mes": f"Question {number}?"})
    return ("\n".join(json.dumps(line) for line in lines) + "\n").encode()


def test_a_big_chat_file_is_imported_by_the_worker(celery_worker, user, user_client):
    CharacterFactory(owner=user, card=card_data(name=MIRA))

    response = user_client.post(
        reverse("api:chat_import"),
        {"file": SimpleUploadedFile("long.jsonl", _chat_file())},
        format="multipart",
    )

    job = BackgroundJob.objects.get(owner=user)
    stored = job.input_file.name
    assert response.status_code == 202
    assert (response.json()["kind"], response.json()["status"], response.json()["progress"]) == (
        "chat_import",
        "queued",
        {"done": 0, "total": MESSAGES},
    )

    finished = job_wait_finished(job.pk)

    chat = Chat.objects.get(owner=user)
    assert (finished.status, finished.error) == ("succeeded", "")
    assert (finished.progress_done, finished.progress_total) == (MESSAGES, MESSAGES)
    assert (chat.message_count, Message.objects.filter(chat=chat).count()) == (MESSAGES, MESSAGES)
    assert Swipe.objects.filter(message__chat=chat).count() == MESSAGES // 2 * 3
    assert user_client.get(response["Location"]).json()["result"] == {
        "type": "chats.chat",
        "id": chat.pk,
        "url": f"/api/v1/chats/{chat.pk}/",
        "page_url": f"/chats/{chat.pk}/",
    }
    assert (finished.input_file.name, storages["private"].exists(stored)) == ("", False)


def test_the_page_sends_a_big_file_to_the_job_page(celery_worker, client, user):
    CharacterFactory(owner=user, card=card_data(name=MIRA))
    client.force_login(user)

    response = client.post(reverse("chats:import"), {"file": SimpleUploadedFile("long.jsonl", _chat_file())})

    job = BackgroundJob.objects.get(owner=user)
    assert response.status_code == 302
    assert response.url == f"/jobs/{job.pk}/"
    finished = job_wait_finished(job.pk)
    chat = Chat.objects.get(owner=user)
    page = client.get(response.url).content.decode()
    assert (finished.status, chat.message_count) == ("succeeded", MESSAGES)
    assert f'href="/chats/{chat.pk}/" data-job-result' in page


def test_another_user_cannot_read_the_job(celery_worker, user, user_client, other_user, api_client):
    CharacterFactory(owner=user, card=card_data(name=MIRA))
    response = user_client.post(
        reverse("api:chat_import"),
        {"file": SimpleUploadedFile("long.jsonl", _chat_file())},
        format="multipart",
    )
    job_wait_finished(response.json()["id"])
    api_client.force_authenticate(other_user)

    theirs = api_client.get(response["Location"])

    assert theirs.status_code == 404
