"""A chat's lorebooks reach the prompt: the character's own book, a book attached to
the chat and the user's global book, with sticky state kept between turns."""

import random

import pytest

from characters.cards import Lorebook as LorebookValue
from characters.cards import LorebookEntry, Position
from characters.services import lorebook_create
from characters.tests.factories import CharacterFactory, card_data
from chats.services import message_append_user
from chats.tests.factories import make_chat
from chats.turn_context import turn_context_load

pytestmark = pytest.mark.django_db


def _book(owner, name, *entries, is_global=False):
    return lorebook_create(
        owner=owner, value=LorebookValue(name=name, entries=list(entries)), is_global=is_global
    )


def _system_prompt(chat, user):
    ctx = turn_context_load(chat_id=chat.pk, user_id=user.pk, mode="send", rng=random.Random(1))
    return ctx, ctx.prompt.messages[0]["content"]


def test_entries_of_every_book_of_the_chat_activate_on_their_keys(user):
    own_book = LorebookValue(
        name="Mira's book",
        entries=[
            LorebookEntry(uid=1, keys=["lighthouse"], content="The lighthouse has been dark for ten years.")
        ],
    )
    character = CharacterFactory(owner=user, card=card_data(character_book=own_book))
    attached = _book(
        user, "Harbour", LorebookEntry(uid=1, keys=["harbour"], content="The harbour freezes in winter.")
    )
    _book(
        user,
        "World",
        LorebookEntry(uid=1, constant=True, content="Magic is rare and feared."),
        is_global=True,
    )
    _book(user, "Unrelated", LorebookEntry(uid=1, keys=["lighthouse"], content="Never shown."))
    chat = make_chat(user, character)
    chat.lorebooks.add(attached)
    message_append_user(chat=chat, content="Tell me about the lighthouse and the harbour.")

    ctx, system = _system_prompt(chat, user)

    assert "The lighthouse has been dark for ten years." in system
    assert "The harbour freezes in winter." in system
    assert "Magic is rare and feared." in system
    assert "Never shown." not in system
    assert len(ctx.prompt.report.lore_included) == 3


def test_at_depth_entries_land_in_the_history_with_their_role(user):
    book = _book(
        user,
        "Depth",
        LorebookEntry(
            uid=1, keys=["storm"], content="[A storm is coming.]", position=Position.AT_DEPTH, depth=0
        ),
    )
    chat = make_chat(user)
    chat.lorebooks.add(book)
    message_append_user(chat=chat, content="Is that a storm?")

    ctx = turn_context_load(chat_id=chat.pk, user_id=user.pk, mode="send", rng=random.Random(1))

    assert ctx.prompt.messages[-1] == {"role": "system", "content": "[A storm is coming.]"}


def test_sticky_entries_stay_active_on_the_next_turn(user):
    book = _book(
        user,
        "Sticky",
        LorebookEntry(uid=1, keys=["dragon"], content="The dragon sleeps under the hill.", sticky=3),
    )
    chat = make_chat(user)
    chat.lorebooks.add(book)
    message_append_user(chat=chat, content="A dragon!")
    first = turn_context_load(chat_id=chat.pk, user_id=user.pk, mode="send", rng=random.Random(1))
    chat.lorebook_state = first.lorebook_state
    chat.save(update_fields=["lorebook_state"])
    message_append_user(chat=chat, content="Let us talk about bread instead.")

    second = turn_context_load(chat_id=chat.pk, user_id=user.pk, mode="send", rng=random.Random(1))

    assert "The dragon sleeps under the hill." in second.prompt.messages[0]["content"]
