"""Messages over the REST API: pages by position (`before` for older, `after` to catch
up), edit, hide, delete and choosing a swipe."""

import pytest
from django.urls import reverse

from chats.models import Message, Swipe
from chats.services import message_append_user
from chats.tests.factories import make_chat

pytestmark = pytest.mark.django_db


def _chat_with_lines(user, count: int):
    """The greeting at position 1, then `count` user lines at positions 2.."""
    chat = make_chat(user)
    for number in range(count):
        message_append_user(chat=chat, content=f"line {number + 2}")
    return chat


def _positions(response) -> list[int]:
    return [m["position"] for m in response.json()["results"]]


def test_the_first_page_is_the_newest_messages_in_order(user, user_client):
    chat = _chat_with_lines(user, 10)

    response = user_client.get(reverse("api:chat_messages", args=[chat.pk]), {"limit": 4})

    assert response.status_code == 200
    assert _positions(response) == [8, 9, 10, 11]
    assert response.json()["previous_before"] == 8


@pytest.mark.parametrize(
    ("before", "positions", "previous_before"),
    [(8, [4, 5, 6, 7], 4), (4, [1, 2, 3], None)],
    ids=["a middle page", "the oldest page"],
)
def test_before_pages_back(user, user_client, before, positions, previous_before):
    chat = _chat_with_lines(user, 10)

    response = user_client.get(reverse("api:chat_messages", args=[chat.pk]), {"before": before, "limit": 4})

    assert _positions(response) == positions
    assert response.json()["previous_before"] == previous_before


def test_after_catches_up_on_newer_messages(user, user_client):
    chat = _chat_with_lines(user, 10)

    response = user_client.get(reverse("api:chat_messages", args=[chat.pk]), {"after": 9})

    assert _positions(response) == [10, 11]


def test_a_cursor_that_is_not_a_number_names_the_field(user, user_client):
    chat = make_chat(user)

    response = user_client.get(reverse("api:chat_messages", args=[chat.pk]), {"before": "yesterday"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["before"]


@pytest.mark.parametrize("count", [2, 20], ids=["3 messages", "21 messages"])
def test_the_message_list_runs_a_constant_number_of_queries(
    user, user_client, django_assert_num_queries, count
):
    chat = _chat_with_lines(user, count)

    # the user (JWT), the chat, its participants, the messages
    with django_assert_num_queries(4):
        response = user_client.get(reverse("api:chat_messages", args=[chat.pk]))

    assert len(response.json()["results"]) == count + 1


def test_an_empty_message_names_the_field(user, user_client):
    chat = make_chat(user)

    response = user_client.post(
        reverse("api:chat_messages", args=[chat.pk]), {"content": "   "}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["content"]
    assert Message.objects.filter(chat=chat).count() == 1


def test_edit_changes_the_message_and_its_swipe(user, user_client):
    chat = make_chat(user)
    greeting = Message.objects.get(chat=chat)

    response = user_client.patch(
        reverse("api:chat_message", args=[chat.pk, greeting.pk]), {"content": "*Mira nods.*"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["content"], response.json()["edited_at"] is not None) == ("*Mira nods.*", True)
    assert Swipe.objects.get(message=greeting, index=0).content == "*Mira nods.*"


@pytest.mark.parametrize("hidden", [True, False], ids=["hide", "show again"])
def test_hide_keeps_the_message_out_of_prompts(user, user_client, hidden):
    chat = make_chat(user)
    greeting = Message.objects.get(chat=chat)

    response = user_client.patch(
        reverse("api:chat_message", args=[chat.pk, greeting.pk]), {"is_hidden": hidden}, format="json"
    )

    assert response.json()["is_hidden"] is hidden
    greeting.refresh_from_db()
    assert greeting.is_hidden is hidden


def test_delete_removes_the_message(user, user_client):
    chat = _chat_with_lines(user, 2)
    last = Message.objects.get(chat=chat, position=3)

    response = user_client.delete(reverse("api:chat_message", args=[chat.pk, last.pk]))

    assert response.status_code == 204
    assert list(Message.objects.filter(chat=chat).values_list("position", flat=True)) == [1, 2]
    chat.refresh_from_db()
    assert (chat.message_count, chat.last_message_preview) == (2, "line 2")


@pytest.mark.parametrize(
    ("index", "content"),
    [
        (1, "*Mira waves you over.* Sit, the rain won't stop for hours."),
        (0, "*Mira unrolls a damp map.* You look like someone who has seen the northern cliffs."),
    ],
    ids=["the alternate greeting", "back to the first"],
)
def test_swipe_shows_the_chosen_swipe(user, user_client, index, content):
    chat = make_chat(user)
    greeting = Message.objects.get(chat=chat)

    response = user_client.post(
        reverse("api:chat_message_swipe", args=[chat.pk, greeting.pk]), {"index": index}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["swipe_index"], response.json()["content"]) == (index, content)


def test_swipe_past_the_last_names_the_field(user, user_client):
    chat = make_chat(user)
    greeting = Message.objects.get(chat=chat)

    response = user_client.post(
        reverse("api:chat_message_swipe", args=[chat.pk, greeting.pk]), {"index": 2}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"index": ["There is no swipe 3 of this message."]}
