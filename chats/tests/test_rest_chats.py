"""Chats over the REST API: create (the greeting and its alternatives as swipes), list in a
constant number of queries, read, change, archive and delete."""

import pytest
from django.urls import reverse

from characters.tests.factories import CharacterFactory, card_data
from chats.models import Chat, Message
from chats.tests.factories import make_chat

pytestmark = pytest.mark.django_db

GREETING = "*Mira unrolls a damp map.* You look like someone who has seen the northern cliffs."
ALTERNATE = "*Mira waves you over.* Sit, the rain won't stop for hours."


def test_create_greets_with_the_alternate_greetings_as_swipes(user, user_client):
    character = CharacterFactory(owner=user)

    response = user_client.post(reverse("api:chats"), {"character_ids": [character.pk]}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Mira the Cartographer"
    assert [p["character_id"] for p in body["participants"]] == [character.pk]
    greeting = Message.objects.get(chat_id=body["id"])
    assert (greeting.author, greeting.content, greeting.swipe_index, greeting.swipe_count) == (
        "character",
        GREETING,
        0,
        2,
    )
    assert list(greeting.swipes.order_by("index").values_list("content", flat=True)) == [GREETING, ALTERNATE]
    assert body["message_count"] == 1


def test_create_a_group_chat_names_it_after_everyone(user, user_client):
    mira = CharacterFactory(owner=user)
    bram = CharacterFactory(owner=user, card=card_data(name="Bram the Smith"))

    response = user_client.post(reverse("api:chats"), {"character_ids": [mira.pk, bram.pk]}, format="json")

    assert response.status_code == 201
    assert response.json()["title"] == "Mira the Cartographer & Bram the Smith"
    assert [p["name"] for p in response.json()["participants"]] == ["Mira the Cartographer", "Bram the Smith"]


def test_create_with_another_users_private_character_is_refused(user_client, other_user):
    character = CharacterFactory(owner=other_user)

    response = user_client.post(reverse("api:chats"), {"character_ids": [character.pk]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "character_ids.0": ["There is nothing with this id that you can use."]
    }
    assert Chat.objects.count() == 0


def test_create_without_characters_names_the_field(user_client):
    response = user_client.post(reverse("api:chats"), {"character_ids": []}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["character_ids"]


@pytest.mark.parametrize("count", [2, 20], ids=["2 chats", "20 chats"])
def test_list_runs_a_constant_number_of_queries(user, user_client, django_assert_num_queries, count):
    characters = [CharacterFactory(owner=user), CharacterFactory(owner=user, card=card_data(name="Bram"))]
    for _ in range(count):
        make_chat(user, *characters)
    make_chat(CharacterFactory().owner)  # someone else's

    # the user (JWT), the page count, the chats, their participants with characters
    with django_assert_num_queries(4):
        response = user_client.get(reverse("api:chats"), {"page_size": 50})

    assert response.status_code == 200
    assert response.json()["count"] == count
    assert len(response.json()["results"]) == count
    assert [p["name"] for p in response.json()["results"][0]["participants"]] == [
        "Mira the Cartographer",
        "Bram",
    ]


def test_list_leaves_out_archived_chats_unless_asked(user, user_client):
    kept = make_chat(user)
    archived = make_chat(user)
    user_client.post(reverse("api:chat_archive", args=[archived.pk]))

    current = user_client.get(reverse("api:chats")).json()["results"]
    old = user_client.get(reverse("api:chats"), {"archived": "1"}).json()["results"]

    assert [c["id"] for c in current] == [kept.pk]
    assert [c["id"] for c in old] == [archived.pk]


def test_detail_shows_the_chat(user, user_client):
    chat = make_chat(user)

    response = user_client.get(reverse("api:chat", args=[chat.pk]))

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["title"]) == (chat.pk, "Mira the Cartographer")


def test_update_changes_the_settings(user, user_client):
    chat = make_chat(user)

    response = user_client.patch(
        reverse("api:chat", args=[chat.pk]),
        {"title": "Harbour nights", "author_note": "Keep it short.", "author_note_depth": 2},
        format="json",
    )

    assert response.status_code == 200
    chat.refresh_from_db()
    assert (chat.title, chat.author_note, chat.author_note_depth) == ("Harbour nights", "Keep it short.", 2)


def test_update_with_another_users_connection_is_refused(user, user_client, other_user):
    from chats.services import connection_save

    chat = make_chat(user)
    theirs = connection_save(
        owner=other_user,
        connection=None,
        data={"name": "Theirs", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
    )

    response = user_client.patch(
        reverse("api:chat", args=[chat.pk]), {"connection_id": theirs.pk}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["connection_id"]
    chat.refresh_from_db()
    assert chat.connection_id is None


def test_archive_and_unarchive(user, user_client):
    chat = make_chat(user)

    archived = user_client.post(reverse("api:chat_archive", args=[chat.pk]))
    restored = user_client.delete(reverse("api:chat_archive", args=[chat.pk]))

    assert (archived.status_code, restored.status_code) == (200, 200)
    assert archived.json()["archived_at"] is not None
    assert restored.json()["archived_at"] is None


def test_delete_removes_the_chat_and_its_messages(user, user_client):
    chat = make_chat(user)

    response = user_client.delete(reverse("api:chat", args=[chat.pk]))

    assert response.status_code == 204
    assert (Chat.objects.filter(pk=chat.pk).exists(), Message.objects.filter(chat_id=chat.pk).exists()) == (
        False,
        False,
    )
