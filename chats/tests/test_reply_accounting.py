"""A chat turn and a `/v1` completion book their replies the same way: one usage row
of their own kind, the daily tokens spent by that row's count, and the cost of the
connection that answered, the fallback included (a wire-level fake provider)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.services import api_key_create
from characters.tests.factories import CharacterFactory, card_data
from chats.models import Message, Swipe, UsageRecord
from chats.services import connection_save
from chats.tests.factories import make_chat
from chats.tests.quota_counts import tokens_spent_today
from tavern.ai.pricing import usage_cost_micro_usd
from tavern.testing.openai_wire_server import OpenAIWireServer

pytestmark = pytest.mark.django_db(transaction=True)  # a turn writes from channels' own threads

UNLIMITED = {"free": {"messages_per_minute": 0, "tokens_per_day": 0}}
# An address that pricing takes for a hosted provider's (not this machine, not a private
# network: priced) and that the outbound guard refuses at connect time (multicast), so the
# first connection fails before a byte is sent, as a hosted provider that is down would.
PRICED_BUT_DOWN = "http://224.0.0.1/v1"
MODEL = "gpt-4o-mini"


@pytest.fixture(autouse=True)
def _unlimited_quota(settings):  # type: ignore[no-untyped-def]
    settings.TAVERN_TIER_LIMITS = UNLIMITED


@pytest.fixture
def upstream():
    with OpenAIWireServer() as server:
        yield server


def _connection(user, base_url: str, *, name: str):
    return connection_save(
        owner=user,
        connection=None,
        data={"name": name, "base_url": base_url, "model": MODEL},
        api_key="sk-test",
    )


def _chat_turn(user, user_client, chat) -> str:
    response = user_client.post(
        reverse("api:chat_messages", args=[chat.pk]), {"content": "Will the fog lift by noon?"}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["reply"]["content"]


def _completion(user, user_client, chat) -> str:
    [character] = chat.participants.values_list("character__slug", flat=True)
    raw_key = api_key_create(user=user, name="scripts").raw_key
    response = Client().post(
        "/v1/chat/completions",
        data=json.dumps(
            {"model": character, "messages": [{"role": "user", "content": "Will the fog lift?"}]}
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw_key}"},
    )
    assert response.status_code == 200, response.content
    return response.json()["choices"][0]["message"]["content"]


ENTRY_POINTS = [
    pytest.param(_chat_turn, "chat", id="a chat turn"),
    pytest.param(_completion, "openai_api", id="a /v1 completion"),
]


@pytest.mark.parametrize(("ask", "kind"), ENTRY_POINTS)
def test_a_reply_is_booked_once_and_its_tokens_spent_by_the_same_count(
    user, user_client, upstream, ask, kind
):
    chat = make_chat(
        user,
        CharacterFactory(owner=user, card=card_data()),
        connection=_connection(user, upstream.base_url, name="Wire"),
    )
    upstream.script_reply("The fog lifts at noon.")

    reply = ask(user, user_client, chat)

    assert reply == "The fog lifts at noon."
    [row] = UsageRecord.objects.filter(user=user)
    assert (row.kind, row.connection_label, row.model, row.cost_micro_usd) == (kind, "Wire", MODEL, 0)
    assert row.tokens_out > 0
    assert tokens_spent_today(user.pk) == row.tokens_in + row.tokens_out


@pytest.mark.parametrize(("ask", "kind"), ENTRY_POINTS)
def test_the_connection_that_answered_prices_the_reply_not_the_first_one(
    settings, user, user_client, upstream, ask, kind
):
    # Two connections of the same name (an own and a shared one may share it): the first,
    # priced, is down; the fallback, on this machine, answers and costs nothing.
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1", "224.0.0.1"]  # saved while allowed...
    chat = make_chat(
        user,
        CharacterFactory(owner=user, card=card_data()),
        connection=_connection(user, PRICED_BUT_DOWN, name="House"),
    )
    chat.fallback_connections.add(_connection(user, upstream.base_url, name="House"))
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # ...refused when used
    assert usage_cost_micro_usd(MODEL, 1000, 1000, base_url=PRICED_BUT_DOWN) > 0  # the first would cost
    upstream.script_reply("The fog lifts at noon.")

    reply = ask(user, user_client, chat)

    assert reply == "The fog lifts at noon."
    [row] = UsageRecord.objects.filter(user=user)
    assert (row.kind, row.connection_label, row.model, row.cost_micro_usd) == (kind, "House", MODEL, 0)
    assert row.tokens_in > 0


def test_a_chat_turns_swipe_and_usage_row_carry_the_same_record(user, user_client, upstream):
    chat = make_chat(user, connection=_connection(user, upstream.base_url, name="Wire"))
    upstream.script_reply("The fog lifts at noon.")

    _chat_turn(user, user_client, chat)

    reply = Message.objects.filter(chat=chat, author="character").latest("position")
    swipe = Swipe.objects.get(message=reply, index=reply.swipe_index)
    row = UsageRecord.objects.get(user=user, chat=chat)
    assert (swipe.connection_label, swipe.model, swipe.tokens_in, swipe.tokens_out) == (
        row.connection_label,
        row.model,
        row.tokens_in,
        row.tokens_out,
    )
    assert (swipe.finish_reason, swipe.is_partial, swipe.error) == ("stop", False, "")
