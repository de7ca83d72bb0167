"""The running summary: when the history since the last summary outgrows three quarters of
the context, what is older than the recent half is folded into the summary (offline
without a connection, by the chat's model with one) and the next prompt carries it."""

import pytest

from characters.services import persona_save
from chats.memory import summary_offline
from chats.models import Chat, Message
from chats.services import GenerationRecord, connection_save, message_append_reply, message_append_user
from chats.tasks import SUMMARY_PROMPT, chat_summary_refresh
from chats.tests.factories import make_chat
from chats.turn_context import turn_context_load
from tavern.ai.tokenizer import count_tokens
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH, OpenAIWireServer

pytestmark = pytest.mark.django_db

# 77 tokens a line
LINE = (
    "The caravan crossed the {n}th dune at noon, " + "and the sand sang under the wheels " * 9 + "until dusk."
)


def _talk(chat: Chat, count: int) -> None:
    mira = chat.participants.get().character
    for number in range(count):
        text = LINE.format(n=number)
        if number % 2:
            message_append_reply(chat=chat, character=mira, content=text, generation=GenerationRecord())
        else:
            message_append_user(chat=chat, content=text)


def _expected_cut(chat: Chat, keep_recent_tokens: int) -> int:
    used = 0
    for position, tokens in (
        Message.objects.filter(chat=chat).order_by("-position").values_list("position", "token_count")
    ):
        used += tokens
        if used > keep_recent_tokens:
            return position
    raise AssertionError("the history fits")


def test_a_short_history_is_not_summarised(user):
    chat = make_chat(user)
    _talk(chat, 4)

    assert chat_summary_refresh(chat.pk) is False
    chat.refresh_from_db()
    assert (chat.summary, chat.summary_until) == ("", 0)


def test_the_offline_summariser_folds_in_what_is_older_than_the_recent_half(user):
    persona_save(owner=user, persona=None, data={"name": "Ash"})
    chat = make_chat(user)  # no connection: the offline demo, 8,192 tokens
    _talk(chat, 90)
    cut = _expected_cut(chat, 8192 // 2)
    older = Message.objects.filter(chat=chat, position__lte=cut).order_by("position")

    refreshed = chat_summary_refresh(chat.pk)

    chat.refresh_from_db()
    assert refreshed is True
    assert chat.summary_until == cut
    assert chat.summary == summary_offline("", "\n".join(f"{m.name}: {m.content}" for m in older))
    assert set(chat.summary.splitlines()) <= {f"{m.name}: {m.content}"[:200] for m in older}
    assert 0 < count_tokens(chat.summary) <= 400
    assert chat_summary_refresh(chat.pk) is False  # what is left is under the trigger


def test_the_next_prompt_carries_the_summary(user):
    chat = make_chat(user)
    _talk(chat, 90)
    chat_summary_refresh(chat.pk)
    chat.refresh_from_db()

    ctx = turn_context_load(chat_id=chat.pk, user_id=user.pk, mode="send")

    assert f"[Summary of the story so far: {chat.summary}]" in ctx.prompt.messages[0]["content"]
    assert [s.name for s in ctx.prompt.report.sections if s.included].count("summary") == 1


def test_with_a_connection_the_chats_model_writes_the_summary(user):
    with OpenAIWireServer() as server:
        server.script_reply("The caravan crossed many dunes.")
        connection = connection_save(
            owner=user,
            connection=None,
            data={"name": "Local", "base_url": server.base_url, "model": "m", "context_size": 2048},
            api_key="sk-test",
        )
        chat = make_chat(user, connection=connection)
        _talk(chat, 24)
        cut = _expected_cut(chat, 2048 // 2)

        refreshed = chat_summary_refresh(chat.pk)

        [request] = server.requests_to(CHAT_COMPLETIONS_PATH)
    chat.refresh_from_db()
    assert refreshed is True
    assert (chat.summary, chat.summary_until) == ("The caravan crossed many dunes.", cut)
    older = Message.objects.filter(chat=chat, position__lte=cut).order_by("position")
    assert request.body["messages"] == [
        {
            "role": "user",
            "content": SUMMARY_PROMPT.format(
                previous="(none)", source="\n".join(f"{m.name}: {m.content}" for m in older)
            ),
        }
    ]
