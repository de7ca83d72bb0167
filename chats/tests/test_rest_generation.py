"""Regenerate and continue over the REST API: a new swipe of a reply, or more of it."""

import pytest
from django.urls import reverse

from chats.models import Message, Swipe
from chats.services import connection_save
from chats.tests.factories import make_chat
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH, OpenAIWireServer

# Generation reaches the database through channels' database_sync_to_async, which closes
# connections that are inside a test's transaction: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def _answered_chat(server: OpenAIWireServer, user, user_client):
    """A chat on the wire server whose last message is the reply "First answer."."""
    connection = connection_save(
        owner=user,
        connection=None,
        data={"name": "Local", "base_url": server.base_url, "model": "test-model"},
        api_key="sk-test",
    )
    chat = make_chat(user, connection=connection)
    server.script_reply("First answer.")
    response = user_client.post(
        reverse("api:chat_messages", args=[chat.pk]), {"content": "Any news?"}, format="json"
    )
    return chat, Message.objects.get(pk=response.json()["reply"]["id"])


def test_regenerate_adds_a_swipe_and_shows_it(user, user_client, server):
    chat, reply = _answered_chat(server, user, user_client)
    server.script_reply("Second answer.")

    response = user_client.post(
        reverse("api:chat_message_regenerate", args=[chat.pk, reply.pk]), format="json"
    )

    assert response.status_code == 200
    shown = response.json()["reply"]
    assert (shown["id"], shown["content"], shown["swipe_index"], shown["swipe_count"]) == (
        reply.pk,
        "Second answer.",
        1,
        2,
    )
    assert list(Swipe.objects.filter(message=reply).order_by("index").values_list("content", flat=True)) == [
        "First answer.",
        "Second answer.",
    ]
    assert server.requests_to(CHAT_COMPLETIONS_PATH)[1].body["messages"][-1] == {
        "role": "user",
        "content": "Any news?",
    }


def test_continue_appends_to_the_reply(user, user_client, server):
    chat, reply = _answered_chat(server, user, user_client)
    server.script_reply(" The ferry is late.")

    response = user_client.post(reverse("api:chat_message_continue", args=[chat.pk, reply.pk]), format="json")

    assert response.status_code == 200
    assert response.json()["reply"]["content"] == "First answer. The ferry is late."
    reply.refresh_from_db()
    assert (reply.content, reply.swipe_count) == ("First answer. The ferry is late.", 1)
    assert server.requests_to(CHAT_COMPLETIONS_PATH)[1].body["messages"][-1] == {
        "role": "assistant",
        "content": "First answer.",
    }


def test_regenerating_the_users_message_is_refused(user, user_client, server):
    chat, _ = _answered_chat(server, user, user_client)
    users = Message.objects.get(chat=chat, author="user")

    response = user_client.post(
        reverse("api:chat_message_regenerate", args=[chat.pk, users.pk]), format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "nothing_to_regenerate",
        "message": "There is no reply to regenerate or continue.",
    }
    assert len(server.requests_to(CHAT_COMPLETIONS_PATH)) == 1
