"""Group membership over the REST API: add a character, mute one, let one leave (never the last)."""

import pytest
from django.urls import reverse

from characters.tests.factories import CharacterFactory, card_data
from chats.tests.factories import make_chat

pytestmark = pytest.mark.django_db


def test_add_a_character(user, user_client):
    chat = make_chat(user)
    bram = CharacterFactory(owner=user, card=card_data(name="Bram the Smith"))

    response = user_client.post(
        reverse("api:chat_participants", args=[chat.pk]), {"character_id": bram.pk}, format="json"
    )

    assert response.status_code == 201
    assert [(p["name"], p["position"]) for p in response.json()["participants"]] == [
        ("Mira the Cartographer", 0),
        ("Bram the Smith", 1),
    ]


def test_mute_a_character(user, user_client):
    chat = make_chat(user)
    mira = chat.participants.get().character_id

    response = user_client.patch(
        reverse("api:chat_participant", args=[chat.pk, mira]), {"is_muted": True}, format="json"
    )

    assert response.status_code == 200
    assert [p["is_muted"] for p in response.json()["participants"]] == [True]


def test_a_character_leaves(user, user_client):
    chat = make_chat(user)
    bram = CharacterFactory(owner=user, card=card_data(name="Bram the Smith"))
    user_client.post(
        reverse("api:chat_participants", args=[chat.pk]), {"character_id": bram.pk}, format="json"
    )

    response = user_client.delete(reverse("api:chat_participant", args=[chat.pk, bram.pk]))

    assert response.status_code == 200
    assert [(p["name"], p["left_at"] is None) for p in response.json()["participants"]] == [
        ("Mira the Cartographer", True),
        ("Bram the Smith", False),
    ]


def test_the_last_character_cannot_leave(user, user_client):
    chat = make_chat(user)
    mira = chat.participants.get().character_id

    response = user_client.delete(reverse("api:chat_participant", args=[chat.pk, mira]))

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"character": ["The last character cannot leave the chat."]}
