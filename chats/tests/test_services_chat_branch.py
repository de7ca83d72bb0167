"""`chat_branch`: a new chat with the same set-up and the messages up to the chosen one,
swipes and their records included; the original is left as it was."""

import pytest

from characters.tests.factories import CharacterFactory, card_data, make_lorebook
from chats.models import ChatParticipant, Message, Swipe
from chats.services import (
    GenerationRecord,
    chat_branch,
    connection_save,
    message_add_swipe,
    message_append_reply,
    message_append_user,
    message_set_hidden,
)
from chats.tests.factories import make_chat

pytestmark = pytest.mark.django_db


def _group_conversation(user):
    mira = CharacterFactory(owner=user)
    bram = CharacterFactory(owner=user, card=card_data(name="Bram the Smith"))
    chat = make_chat(user, mira, bram)
    ChatParticipant.objects.filter(chat=chat, character=bram).update(is_muted=True)
    chat.author_note = "Keep it short."
    chat.speaker_strategy = "round_robin"
    chat.save(update_fields=["author_note", "speaker_strategy"])
    chat.lorebooks.add(make_lorebook(user))
    chat.fallback_connections.add(
        connection_save(
            owner=user,
            connection=None,
            data={"name": "Backup", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
        )
    )
    message_append_user(chat=chat, content="Hello.")
    reply = message_append_reply(
        chat=chat,
        character=mira,
        content="Hi.",
        generation=GenerationRecord(model="m1", finish_reason="stop"),
    )
    message_add_swipe(
        message=reply, content="Hello there.", generation=GenerationRecord(model="m2", finish_reason="length")
    )
    hidden, _ = message_append_user(chat=chat, content="(aside)")
    message_set_hidden(message=hidden, hidden=True)
    message_append_user(chat=chat, content="After the branch point.")
    return chat


def _messages(chat) -> list[tuple]:
    return [
        (m.position, m.author, m.character_id, m.content, m.swipe_index, m.swipe_count, m.is_hidden)
        for m in Message.objects.filter(chat=chat).order_by("position")
    ]


def _swipes(chat) -> list[tuple]:
    return [
        (s.message.position, s.index, s.content, s.model, s.finish_reason)
        for s in Swipe.objects.filter(message__chat=chat)
        .select_related("message")
        .order_by("message__position", "index")
    ]


def test_the_branch_has_the_messages_and_swipes_up_to_the_chosen_one(user):
    chat = _group_conversation(user)
    up_to = Message.objects.get(chat=chat, position=4)

    branch = chat_branch(chat=chat, up_to=up_to)

    assert _messages(branch) == _messages(chat)[:4]
    assert _swipes(branch) == [s for s in _swipes(chat) if s[0] <= 4]
    assert (branch.last_position, branch.message_count, branch.last_message_preview) == (4, 4, "(aside)")
    assert branch.branched_from_id == chat.pk


def test_the_branch_keeps_the_set_up(user):
    chat = _group_conversation(user)

    branch = chat_branch(chat=chat, up_to=Message.objects.get(chat=chat, position=2))

    assert [(p.character_id, p.position, p.is_muted) for p in branch.participants.all()] == [
        (p.character_id, p.position, p.is_muted) for p in chat.participants.all()
    ]
    assert (branch.title, branch.author_note, branch.speaker_strategy) == (
        "Mira the Cartographer & Bram the Smith (branch)",
        "Keep it short.",
        "round_robin",
    )
    assert list(branch.lorebooks.all()) == list(chat.lorebooks.all())
    assert list(branch.fallback_connections.all()) == list(chat.fallback_connections.all())


def test_the_original_is_unchanged_and_the_branch_goes_on_from_its_end(user):
    chat = _group_conversation(user)
    before = _messages(chat)
    branch = chat_branch(chat=chat, up_to=Message.objects.get(chat=chat, position=3))

    message, _ = message_append_user(chat=branch, content="A new path.")

    assert message.position == 4
    assert _messages(chat) == before
    assert Message.objects.filter(chat=chat).count() == 5
