"""Sending over the REST API: the answer carries the stored message and the reply, or,
with `stream=true`, Server-Sent Events (ack, tokens, done) as the reply is written."""

import json
import time

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.test import AsyncClient
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken

from chats.models import Message
from chats.tests.factories import make_chat

# Generation reaches the database through channels' database_sync_to_async, which closes
# connections that are inside a test's transaction: these tests commit for real.
from chats.tests.sockets import chat_on
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH

pytestmark = pytest.mark.django_db(transaction=True)

REPLY = "The ferry runs at dawn."


def _contents(chat) -> list[str]:
    return list(Message.objects.filter(chat=chat).order_by("position").values_list("content", flat=True))


def _events(body: bytes) -> list[tuple[str, dict]]:
    events = []
    for block in body.decode().split("\n\n"):
        if not block.strip():
            continue
        kind, data = block.split("\n", 1)
        events.append((kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def test_the_answer_carries_the_message_and_the_reply(user, user_client, server):
    server.script_reply(REPLY)
    chat = chat_on(server, user)

    response = user_client.post(
        reverse("api:chat_messages", args=[chat.pk]),
        {"content": "When does the ferry run?", "client_id": "c-1"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["message"]["author"], body["message"]["content"]) == ("user", "When does the ferry run?")
    assert (body["reply"]["author"], body["reply"]["content"]) == ("character", REPLY)
    assert body["error"] is None
    [request] = server.requests_to(CHAT_COMPLETIONS_PATH)
    assert request.body["messages"][-1] == {"role": "user", "content": "When does the ferry run?"}
    assert _contents(chat)[1:] == ["When does the ferry run?", REPLY]


def test_the_same_client_id_again_is_not_answered_twice(user, user_client, server):
    chat = chat_on(server, user)
    url = reverse("api:chat_messages", args=[chat.pk])
    first = user_client.post(url, {"content": "Hello?", "client_id": "c-1"}, format="json")

    again = user_client.post(url, {"content": "Hello?", "client_id": "c-1"}, format="json")

    assert again.status_code == 200
    assert again.json() == {"message": first.json()["message"], "reply": None, "duplicate": True}
    assert len(server.requests_to(CHAT_COMPLETIONS_PATH)) == 1
    assert _contents(chat)[1:] == ["Hello?", "You said: Hello?"]


def test_when_no_connection_answers_the_message_is_kept_and_the_error_named(user, user_client, server):
    server.script_reply("", status=401)
    chat = chat_on(server, user)

    response = user_client.post(
        reverse("api:chat_messages", args=[chat.pk]), {"content": "Anyone?"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "provider_failed",
        "message": "No connection answered. Local: the API key was refused (401).",
    }
    assert _contents(chat)[1:] == ["Anyone?"]


def test_a_send_over_the_rate_is_refused_before_it_is_stored(user, user_client, settings):
    settings.TAVERN_TIER_LIMITS = {"free": {"messages_per_minute": 0, "tokens_per_day": 10}}
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    client.set(f"{settings.REDIS_KEY_PREFIX}:tokens:{user.pk}:{int(time.time()) // 86400}", 10, ex=60)
    client.close()
    chat = make_chat(user)

    response = user_client.post(
        reverse("api:chat_messages", args=[chat.pk]), {"content": "Hello?"}, format="json"
    )

    assert response.status_code == 429
    assert response.json()["error"] == {
        "code": "quota_exceeded",
        "message": "You have used today's 10 tokens of the free plan. It resets at midnight UTC.",
    }
    assert _contents(chat) == [
        "*Mira unrolls a damp map.* You look like someone who has seen the northern cliffs."
    ]


async def test_stream_sends_ack_tokens_and_done_as_server_sent_events(user, server):
    server.script_reply(REPLY)
    chat = await sync_to_async(chat_on)(server, user)

    response = await AsyncClient().post(
        reverse("api:chat_messages", args=[chat.pk]),
        {"content": "When does the ferry run?", "client_id": "c-1", "stream": True},
        content_type="application/json",
        headers={"Authorization": f"Bearer {AccessToken.for_user(user)}"},
    )
    body = b"".join([chunk async for chunk in response.streaming_content])

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    events = _events(body)
    kinds = [kind for kind, _ in events]
    assert kinds == ["ack", "generation_started", "token", "token", "token", "token", "token", "done", "end"]
    assert events[0][1]["message"]["content"] == "When does the ferry run?"
    assert "".join(data["text"] for kind, data in events if kind == "token") == REPLY
    done = events[-2][1]
    assert (done["message"]["content"], done["record"]["model"]) == (REPLY, "test-model")
    assert await sync_to_async(_contents)(chat) == [
        "*Mira unrolls a damp map.* You look like someone who has seen the northern cliffs.",
        "When does the ferry run?",
        REPLY,
    ]
