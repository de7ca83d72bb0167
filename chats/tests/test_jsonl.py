"""SillyTavern chat files (JSONL): a solo chat exports with its header, a group chat
without one; importing an export gives back the same messages and swipes; a bad file is
refused with the line at fault."""

import json

import pytest

from characters.tests.factories import CharacterFactory, card_data
from chats.models import Message, Swipe
from chats.services import (
    GenerationRecord,
    message_add_swipe,
    message_append_reply,
    message_append_user,
    message_set_hidden,
    message_swipe_select,
)
from chats.sillytavern_jsonl import ChatImportError, chat_export_jsonl, chat_import_jsonl
from chats.tests.factories import make_chat

pytestmark = pytest.mark.django_db

GREETING = "*Mira unrolls a damp map.* You look like someone who has seen the northern cliffs."
ALTERNATE = "*Mira waves you over.* Sit, the rain won't stop for hours."


def _lines(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines()]


def _conversation(user):
    """The greeting (showing its second swipe), a question, a reply with two swipes, and a
    hidden question."""
    from characters.services import persona_save

    persona_save(owner=user, persona=None, data={"name": "Ash"})
    chat = make_chat(user)
    greeting = Message.objects.get(chat=chat)
    message_swipe_select(message=greeting, index=1)
    message_append_user(chat=chat, content="Which cliffs?")
    reply = message_append_reply(
        chat=chat, character=greeting.character, content="The red ones.", generation=GenerationRecord()
    )
    message_add_swipe(message=reply, content="The far ones.", generation=GenerationRecord())
    hidden = message_append_user(chat=chat, content="(a note to myself)")[0]
    message_set_hidden(message=hidden, hidden=True)
    return chat


def _shape(chat) -> list[tuple]:
    return [
        (m.author, m.name, m.content, m.swipe_index, m.swipe_count, m.is_hidden, m.character_id is not None)
        for m in Message.objects.filter(chat=chat).order_by("position")
    ]


def _swipe_texts(chat) -> list[list[str]]:
    return [
        list(Swipe.objects.filter(message=m).order_by("index").values_list("content", flat=True))
        for m in Message.objects.filter(chat=chat).order_by("position")
    ]


def test_a_solo_chat_exports_a_header_then_one_line_per_message(user):
    chat = _conversation(user)

    header, *messages = _lines(chat_export_jsonl(chat=chat))

    assert {key: header[key] for key in ("user_name", "character_name")} == {
        "user_name": "Ash",
        "character_name": "Mira the Cartographer",
    }
    assert header["create_date"] == chat.created_at.strftime("%Y-%m-%d@%Hh%Mm%Ss")
    assert header["chat_metadata"]["note_depth"] == 4
    assert [(m["name"], m["is_user"], m["is_system"], m["mes"]) for m in messages] == [
        ("Mira the Cartographer", False, False, ALTERNATE),
        ("Ash", True, False, "Which cliffs?"),
        ("Mira the Cartographer", False, False, "The far ones."),
        ("Ash", True, True, "(a note to myself)"),
    ]
    assert [(m.get("swipes"), m.get("swipe_id")) for m in messages] == [
        ([GREETING, ALTERNATE], 1),
        (None, None),
        (["The red ones.", "The far ones."], 1),
        (None, None),
    ]


def test_importing_an_export_gives_the_same_messages_and_swipes(user):
    chat = _conversation(user)

    imported = chat_import_jsonl(owner=user, data=chat_export_jsonl(chat=chat))

    assert _shape(imported) == _shape(chat)
    assert _swipe_texts(imported) == _swipe_texts(chat)
    assert list(imported.participants.values_list("character__name", flat=True)) == ["Mira the Cartographer"]
    assert (imported.message_count, imported.last_position) == (4, 4)


def test_a_hidden_reply_comes_back_hidden_and_still_the_characters(user):
    chat = make_chat(user)
    greeting = Message.objects.get(chat=chat)
    message_set_hidden(message=greeting, hidden=True)

    imported = chat_import_jsonl(owner=user, data=chat_export_jsonl(chat=chat))

    [message] = Message.objects.filter(chat=imported)
    assert (message.author, message.name, message.is_hidden, message.character_id) == (
        "character",
        "Mira the Cartographer",
        True,
        greeting.character_id,
    )


def test_a_group_chat_exports_without_a_header_and_imports_with_every_speaker(user):
    mira = CharacterFactory(owner=user)
    bram = CharacterFactory(owner=user, card=card_data(name="Bram the Smith"))
    chat = make_chat(user, mira, bram)
    message_append_user(chat=chat, content="Bram, is it sharp?")
    message_append_reply(chat=chat, character=bram, content="Sharp enough.", generation=GenerationRecord())

    exported = chat_export_jsonl(chat=chat)
    imported = chat_import_jsonl(owner=user, data=exported)

    assert [line["mes"] for line in _lines(exported)] == [GREETING, "Bram, is it sharp?", "Sharp enough."]
    assert list(imported.participants.values_list("character__name", flat=True)) == [
        "Mira the Cartographer",
        "Bram the Smith",
    ]
    assert [(m.name, m.character_id) for m in Message.objects.filter(chat=imported).order_by("position")] == [
        ("Mira the Cartographer", mira.pk),
        (Message.objects.get(chat=chat, position=2).name, None),
        ("Bram the Smith", bram.pk),
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            b'{"user_name": "Ash"}\n{"name": "Mira", "mes": "Hi"}\n{not json}\n',
            "Line 3 is not JSON: Expecting property name enclosed in double quotes.",
        ),
        (b'{"name": "Mira", "mes": "Hi"}\n\n["a", "list"]\n', "Line 3 is not a JSON object."),
        (
            b'{"user_name": "Ash"}\n{"name": "Mira", "mes": "Hi"}\n{"name": "Mira", "mes": 7}\n',
            "Line 3: 'mes' must be text.",
        ),
        (b"\n\n", "The chat file is empty."),
        (b"\xff\xfe{}", "The chat file is not UTF-8 text (invalid start byte at byte 0)."),
        (
            b'{"name": "Nobody", "mes": "Hi"}\n',
            "No character of yours is called 'Nobody'; import the character first.",
        ),
        (
            b'{"user_name": "Ash", "chat_metadata": null}\n{"name": "Nobody", "mes": "Hi"}\n',
            "No character of yours is called 'Nobody'; import the character first.",
        ),
    ],
    ids=[
        "a line that is not JSON",
        "a line that is not an object (blank lines still count)",
        "a message text that is not text",
        "only blank lines",
        "not UTF-8",
        "an unknown character",
        "a header whose metadata is null",
    ],
)
def test_a_bad_file_is_refused_naming_the_problem(user, data, problem):
    CharacterFactory(owner=user, card=card_data(name="Mira"))

    with pytest.raises(ChatImportError) as refused:
        chat_import_jsonl(owner=user, data=data)

    assert str(refused.value) == problem
    assert Message.objects.count() == 0
