"""Export a chat as a SillyTavern JSONL file and import it back over the REST API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chats.models import Message, Swipe
from chats.services import GenerationRecord, message_add_swipe, message_append_reply, message_append_user
from chats.tests.factories import make_chat

pytestmark = pytest.mark.django_db


def _conversation(user):
    chat = make_chat(user)
    character = chat.participants.get().character
    message_append_user(chat=chat, content="Which cliffs?")
    reply = message_append_reply(
        chat=chat, character=character, content="The red ones.", generation=GenerationRecord()
    )
    message_add_swipe(message=reply, content="The far ones.", generation=GenerationRecord())
    return chat


def _messages_and_swipes(chat_id: int) -> list[tuple]:
    return [
        (
            m.author,
            m.name,
            m.content,
            m.swipe_index,
            list(Swipe.objects.filter(message=m).order_by("index").values_list("content", flat=True)),
        )
        for m in Message.objects.filter(chat_id=chat_id).order_by("position")
    ]


def test_export_then_import_gives_the_same_messages_and_swipes(user, user_client):
    chat = _conversation(user)

    exported = user_client.get(reverse("api:chat_export", args=[chat.pk]))
    imported = user_client.post(
        reverse("api:chat_import"),
        {"file": SimpleUploadedFile("chat.jsonl", exported.content, content_type="application/jsonl")},
        format="multipart",
    )

    assert exported.status_code == 200
    assert exported["Content-Type"] == "application/jsonl; charset=utf-8"
    assert exported["Content-Disposition"] == f'attachment; filename="chat-{chat.pk}.jsonl"'
    assert imported.status_code == 201
    assert imported.json()["title"] == "Mira the Cartographer (imported)"
    assert _messages_and_swipes(imported.json()["id"]) == _messages_and_swipes(chat.pk)


def test_import_of_a_bad_file_names_the_file_and_the_line(user, user_client):
    make_chat(user)

    response = user_client.post(
        reverse("api:chat_import"),
        {
            "file": SimpleUploadedFile(
                "chat.jsonl", b'{"name": "Mira the Cartographer", "mes": "Hi"}\n{oops\n'
            )
        },
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "file": ["Line 2 is not JSON: Expecting property name enclosed in double quotes."]
    }
