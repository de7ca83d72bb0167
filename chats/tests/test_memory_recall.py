"""Recall: once a passage has left the prompt window, a later turn that touches on it
gets it back among the character's memories."""

import pytest

from characters.services import persona_save
from chats.memory import memory_embed_new
from chats.models import Chat, MemoryChunk
from chats.reply_inputs import MEMORY_RECALL_LIMIT
from chats.services import GenerationRecord, connection_save, message_append_reply, message_append_user
from chats.tests.factories import make_chat
from chats.turn_context import RecallNeeded, turn_context_load

pytestmark = pytest.mark.django_db

BEES = "My sister Elowen keeps bees on the salt marsh behind the lighthouse."
TOPICS = [
    "the ferry timetable",
    "the price of rope",
    "the storm last spring",
    "the harbour master's cat",
    "the old coins in the well",
    "the card game upstairs",
    "the fishing nets by the quay",
    "the tavern's fish stew",
    "the church bell",
    "the smuggler's tunnel",
    "the new mill",
    "the sheriff's horse",
    "the broken bridge",
    "the winter fair",
    "the blacksmith's debts",
    "the ghost in the attic",
]


def _exchange(chat, mira, *lines: str) -> None:
    for number, line in enumerate(lines):
        if number % 2:
            message_append_reply(chat=chat, character=mira, content=line, generation=GenerationRecord())
        else:
            message_append_user(chat=chat, content=line)


def _long_chat(user) -> Chat:
    """A 1,024-token context; the bees come up early, then sixteen other topics follow."""
    persona_save(owner=user, persona=None, data={"name": "Ash"})
    connection = connection_save(
        owner=user,
        connection=None,
        data={
            "name": "Small",
            "base_url": "http://127.0.0.1:9/v1",
            "model": "m",
            "context_size": 1024,
            "max_reply_tokens": 64,
        },
    )
    chat = make_chat(user, connection=connection)
    mira = chat.participants.get().character
    for number, topic in enumerate(TOPICS):
        if number == 3:
            _exchange(
                chat,
                mira,
                BEES,
                "Bees on a salt marsh? Elowen must be stubborn.",
                "She sells the honey at the market.",
                "Sea lavender honey, I have tasted it.",
            )
        _exchange(
            chat,
            mira,
            f"Tell me about {topic}; nobody here gives me a straight answer about {topic}.",
            f"Ah, {topic}. A long story, and most of it involves the rain, the tide and a missing boot.",
            f"And what does the harbour say about {topic} these days?",
            f"They say {topic} is not what it used to be.",
        )
    return chat


def test_an_old_passage_outside_the_window_is_recalled(user):
    chat = _long_chat(user)
    memory_embed_new(chat_id=chat.pk)
    bee_chunk = MemoryChunk.objects.get(chat=chat, text__contains=BEES)
    message_append_user(chat=chat, content="Do you remember what my sister keeps on the marsh?")

    ctx = turn_context_load(chat_id=chat.pk, user_id=user.pk, mode="send")

    report = ctx.prompt.report
    system = ctx.prompt.messages[0]["content"]
    assert report.history_first_position > bee_chunk.position_end  # out of the history...
    assert report.memories_included == MEMORY_RECALL_LIMIT
    memories = system.split("[Things Mira the Cartographer remembers from earlier:\n", 1)[1].split(
        "]\n\n", 1
    )[0]
    assert f"Ash: {BEES}" in memories  # ...and back as a memory
    assert all(BEES not in message["content"] for message in ctx.prompt.messages[1:])


def test_no_memory_is_recalled_while_the_whole_chat_fits(user):
    chat = make_chat(user)
    _exchange(chat, chat.participants.get().character, BEES, "Stubborn bees.", "And the honey?", "Sweet.")
    memory_embed_new(chat_id=chat.pk)
    message_append_user(chat=chat, content="So, the bees?")

    ctx = turn_context_load(chat_id=chat.pk, user_id=user.pk, mode="send")

    assert MemoryChunk.objects.filter(chat=chat).count() == 1
    assert (ctx.prompt.report.memories_included, ctx.prompt.report.history_left_out) == (0, 0)


def test_a_read_made_ahead_of_the_acknowledgement_leaves_recall_to_the_generation(user):
    """A send reads the reply's context before acknowledging the message
    (`chats.turns._read_ahead`); recalling would make that wait for an embedding."""
    chat = _long_chat(user)
    memory_embed_new(chat_id=chat.pk)
    message_append_user(chat=chat, content="Do you remember what my sister keeps on the marsh?")

    with pytest.raises(RecallNeeded):
        turn_context_load(chat_id=chat.pk, user_id=user.pk, mode="send", recall=False)
    assert turn_context_load(chat_id=chat.pk, user_id=user.pk, mode="send").prompt.report.memories_included


def test_a_read_made_ahead_goes_on_when_there_is_nothing_to_recall(user):
    chat = _long_chat(user)  # nothing embedded yet
    message_append_user(chat=chat, content="Do you remember what my sister keeps on the marsh?")

    ctx = turn_context_load(chat_id=chat.pk, user_id=user.pk, mode="send", recall=False)

    assert ctx.prompt.report.history_left_out and ctx.prompt.report.memories_included == 0
