"""Services publish what changed in a chat once it is committed, whoever calls them
(socket, REST, pages, the admin): every socket open on the chat hears of it, and a
change that is rolled back is never announced."""

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.urls import reverse

from characters.tests.factories import CharacterFactory
from chats.models import Message
from chats.services import message_edit, message_set_hidden
from chats.tests.factories import make_chat
from chats.tests.sockets import connect

pytestmark = pytest.mark.django_db(transaction=True)


def _greeting(chat) -> Message:
    return Message.objects.filter(chat=chat).order_by("position").first()


async def test_a_participant_added_over_rest_reaches_the_chats_sockets(user, user_client):
    chat = await sync_to_async(make_chat)(user)
    other = await sync_to_async(CharacterFactory)(owner=user)
    socket = await connect(chat.pk, user)

    response = await sync_to_async(user_client.post)(
        reverse("api:chat_participants", args=[chat.pk]), {"character_id": other.pk}, format="json"
    )
    event = await socket.receive_json_from()
    await socket.disconnect()

    assert response.status_code == 201
    assert event == {"type": "chat_updated", "chat_id": chat.pk, "changed": ["participants"]}


async def test_a_chat_renamed_over_rest_reaches_the_chats_sockets(user, user_client):
    chat = await sync_to_async(make_chat)(user)
    socket = await connect(chat.pk, user)

    response = await sync_to_async(user_client.patch)(
        reverse("api:chat", args=[chat.pk]), {"title": "The northern cliffs"}, format="json"
    )
    event = await socket.receive_json_from()
    await socket.disconnect()

    assert response.status_code == 200
    assert event == {"type": "chat_updated", "chat_id": chat.pk, "changed": ["title"]}


async def test_service_changes_reach_the_sockets_once_committed_and_never_when_rolled_back(user):
    chat = await sync_to_async(make_chat)(user)
    socket = await connect(chat.pk, user)

    def rolled_back_then_committed() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            message_edit(message=_greeting(chat), content="Never said.")
            raise RuntimeError("rolled back")
        message_set_hidden(message=_greeting(chat), hidden=True)
        message_edit(message=_greeting(chat), content="Said, and kept.")

    await sync_to_async(rolled_back_then_committed)()
    hidden = await socket.receive_json_from()
    edited = await socket.receive_json_from()
    await socket.disconnect()

    assert (hidden["type"], hidden["message"]["is_hidden"]) == ("message_updated", True)
    assert hidden["message"]["content"] != "Never said."
    assert (edited["type"], edited["message"]["content"]) == ("message_updated", "Said, and kept.")
