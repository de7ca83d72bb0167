"""A turn in a long chat reads the newest messages up to the context, in a page or two,
and counts its turn by position: the count keeps growing past the window's size, so
sticky and cooldown lore entries still expire in a chat of thousands of messages."""

import pytest

from chats.models import Author, Message
from chats.tests.factories import make_chat
from chats.turn_context import turn_context_load

pytestmark = pytest.mark.django_db


def _fill(chat, character, count: int, *, tokens: int) -> int:
    """`count` messages after the greeting; returns the last position."""
    start = chat.last_position + 1
    Message.objects.bulk_create(
        Message(
            chat=chat,
            position=position,
            author=Author.USER if position % 2 else Author.CHARACTER,
            character=None if position % 2 else character,
            name="Ash" if position % 2 else character.name,
            content=f"Line {position} of the long evening at the harbour.",
            token_count=tokens,
        )
        for position in range(start, start + count)
    )
    chat.last_position = start + count - 1
    chat.message_count += count
    chat.save(update_fields=["last_position", "message_count"])
    return chat.last_position


def _load(chat):
    return turn_context_load(chat_id=chat.pk, user_id=chat.owner_id, mode="send")


def test_the_turn_number_grows_past_the_window(user, django_assert_max_num_queries) -> None:
    chat = make_chat(user)
    character = chat.participants.get().character
    last = _fill(chat, character, 1200, tokens=40)  # 48,000 tokens: far more than an 8,192 context holds
    with django_assert_max_num_queries(12):
        first = _load(chat)
    Message.objects.create(
        chat=chat, position=last + 1, author=Author.CHARACTER, character=character, name="Mira", content="On."
    )
    Message.objects.create(chat=chat, position=last + 2, author=Author.USER, name="Ash", content="And on.")
    second = _load(chat)

    assert (first.turn, second.turn) == (last, last + 2)
    history = [m for m in first.prompt.messages if "of the long evening" in m["content"]]
    assert 0 < len(history) < 1200
    assert f"Line {last} of" in history[-1]["content"]


def test_a_short_chat_is_read_whole(user) -> None:
    chat = make_chat(user)
    last = _fill(chat, chat.participants.get().character, 9, tokens=40)

    context = _load(chat)

    assert context.turn == last
    assert sum("of the long evening" in m["content"] for m in context.prompt.messages) == 9
