"""After a turn, a real Celery worker embeds the chat's new messages into memory: one
chunk per four messages, the open end waiting for more."""

import time

import pytest
from django.urls import reverse

from characters.models import EMBEDDING_DIMENSIONS
from chats.memory import memory_embed_new
from chats.models import MemoryChunk
from chats.services import GenerationRecord, message_append_reply, message_append_user
from chats.tests.factories import make_chat
from tavern.testing.waits import EVENT_WAIT_SECONDS

WAIT_SECONDS = EVENT_WAIT_SECONDS


def _exchanges(chat, count: int) -> None:
    character = chat.participants.get().character
    for number in range(count):
        message_append_user(chat=chat, content=f"Question {number}: where does the road north lead?")
        message_append_reply(
            chat=chat,
            character=character,
            content=f"Answer {number}: past the salt marsh to the lighthouse.",
            generation=GenerationRecord(),
        )


def _chunks_when(chat, count: int) -> list[MemoryChunk]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        chunks = list(MemoryChunk.objects.filter(chat=chat).order_by("position_start"))
        if len(chunks) >= count:
            return chunks
        time.sleep(0.2)
    raise AssertionError(f"chat {chat.pk} had no {count} memory chunks within {WAIT_SECONDS} s")


def test_a_turn_has_the_worker_embed_complete_chunks(user, user_client, celery_worker):
    chat = make_chat(user)
    _exchanges(chat, 3)  # with the greeting: 7 messages

    response = user_client.post(
        reverse("api:chat_messages", args=[chat.pk]), {"content": "And then?"}, format="json"
    )

    assert response.status_code == 201  # 9 messages: two chunks of four, the ninth waits
    chunks = _chunks_when(chat, 2)
    assert [(c.position_start, c.position_end) for c in chunks] == [(1, 4), (5, 8)]
    assert [len(c.embedding) for c in chunks] == [EMBEDDING_DIMENSIONS, EMBEDDING_DIMENSIONS]
    assert chunks[0].text.splitlines()[1:] == [
        f"{chat.owner.display_name}: Question 0: where does the road north lead?",
        "Mira the Cartographer: Answer 0: past the salt marsh to the lighthouse.",
        f"{chat.owner.display_name}: Question 1: where does the road north lead?",
    ]
    assert chunks[0].character_id == chat.participants.get().character_id


@pytest.mark.django_db
def test_embedding_again_adds_only_new_complete_chunks(user):
    chat = make_chat(user)
    _exchanges(chat, 2)  # 5 messages
    first = memory_embed_new(chat_id=chat.pk)
    _exchanges(chat, 2)  # 9 messages

    second = memory_embed_new(chat_id=chat.pk)
    third = memory_embed_new(chat_id=chat.pk)

    assert (first, second, third) == (1, 1, 0)
    assert list(
        MemoryChunk.objects.filter(chat=chat)
        .order_by("position_start")
        .values_list("position_start", "position_end")
    ) == [
        (1, 4),
        (5, 8),
    ]


@pytest.mark.django_db
def test_hidden_messages_are_not_remembered(user):
    chat = make_chat(user)
    _exchanges(chat, 2)
    from chats.models import Message

    Message.objects.filter(chat=chat, position=2).update(is_hidden=True)

    memory_embed_new(chat_id=chat.pk)

    [chunk] = MemoryChunk.objects.filter(chat=chat)
    assert (chunk.position_start, chunk.position_end) == (1, 5)
    assert "Question 0" not in chunk.text
