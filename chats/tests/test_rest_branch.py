"""Branching over the REST API: a new chat with the messages up to the chosen one."""

import pytest
from django.urls import reverse

from chats.models import Chat, Message
from chats.services import GenerationRecord, message_append_reply, message_append_user
from chats.tests.factories import make_chat

pytestmark = pytest.mark.django_db


def _conversation(user) -> Chat:
    """greeting, "Hello.", "Hi there.", "Where to?", "North."."""
    chat = make_chat(user)
    character = chat.participants.get().character
    for question, answer in (("Hello.", "Hi there."), ("Where to?", "North.")):
        message_append_user(chat=chat, content=question)
        message_append_reply(chat=chat, character=character, content=answer, generation=GenerationRecord())
    return chat


def _lines(chat_id: int) -> list[tuple[int, str, int]]:
    return list(
        Message.objects.filter(chat_id=chat_id)
        .order_by("position")
        .values_list("position", "content", "swipe_count")
    )


def test_branch_copies_the_messages_up_to_the_chosen_one(user, user_client):
    chat = _conversation(user)
    chosen = Message.objects.get(chat=chat, position=3)

    response = user_client.post(
        reverse("api:chat_branch", args=[chat.pk]), {"message_id": chosen.pk}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["branched_from"], body["message_count"]) == (
        "Mira the Cartographer (branch)",
        chat.pk,
        3,
    )
    assert _lines(body["id"]) == [
        (1, "*Mira unrolls a damp map.* You look like someone who has seen the northern cliffs.", 2),
        (2, "Hello.", 1),
        (3, "Hi there.", 1),
    ]
    assert len(_lines(chat.pk)) == 5


def test_branch_at_a_message_of_another_chat_is_refused(user, user_client):
    chat = _conversation(user)
    elsewhere = Message.objects.get(chat=make_chat(user))

    response = user_client.post(
        reverse("api:chat_branch", args=[chat.pk]), {"message_id": elsewhere.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "message_id": ["There is nothing with this id that you can use."]
    }
    assert Chat.objects.filter(branched_from=chat).exists() is False
