"""/v1/models and /v1/chat/completions through Django's test clients: who may call,
what a body may hold, what reaches the upstream model, and what comes back.

The official `openai` client against a real server is in test_openai_compat_client.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings as django_settings
from django.test import AsyncClient, Client
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.services import api_key_create, api_key_revoke
from accounts.tests.factories import UserFactory
from characters.cards import Lorebook as LorebookValue
from characters.cards import LorebookEntry as LorebookEntryValue
from characters.models import Character
from characters.services import lorebook_create
from characters.tests.factories import CharacterFactory, card_data
from chats import quota
from chats.models import Chat, MemoryChunk, Message, UsageRecord
from chats.openai_compat.selectors import memories_recall
from chats.services import connection_save
from chats.tests.factories import make_chat
from tavern.ai.embeddings import embed_texts
from tavern.ai.tokenizer import count_tokens
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH, OpenAIWireServer

COMPLETIONS = "/v1/chat/completions"
UNLIMITED = {"free": {"messages_per_minute": 0, "tokens_per_day": 0}}


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(autouse=True)
def _unlimited_quota(settings):  # type: ignore[no-untyped-def]
    """Requests here are counted in the shared Redis: keep other runs' counts out of these tests."""
    settings.TAVERN_TIER_LIMITS = UNLIMITED


@pytest.fixture
def clean_quota(user: User) -> Iterator[None]:
    """Quota counters live in the shared Redis under the user's id, which the next test run
    gives to another user the same day: start from nothing and leave nothing behind."""
    client = redis.Redis.from_url(django_settings.REDIS_URL)

    def clear() -> None:
        for pattern in (
            f"{django_settings.REDIS_KEY_PREFIX}:tokens:{user.pk}:*",
            f"{django_settings.REDIS_KEY_PREFIX}:limits:LIMITER/messages/{user.pk}/*",
        ):
            keys = list(client.scan_iter(pattern))
            if keys:
                client.delete(*keys)

    clear()
    yield
    clear()
    client.close()


@pytest.fixture
def raw_key(user: User) -> str:
    return api_key_create(user=user, name="scripts").raw_key


@pytest.fixture
def character(user: User) -> Character:
    return CharacterFactory(owner=user, card=card_data())


@pytest.fixture
def upstream() -> Iterator[OpenAIWireServer]:
    with OpenAIWireServer() as server:
        yield server


def _connection(
    owner: User, server: OpenAIWireServer, *, name: str = "Wire", model: str = "gpt-4o-mini", **data
):
    return connection_save(
        owner=owner,
        connection=None,
        data={"name": name, "base_url": server.base_url, "model": model, **data},
        api_key="sk-upstream",
    )


def _body(model: str, *messages: dict, **options: object) -> dict:
    return {
        "model": model,
        "messages": list(messages) or [{"role": "user", "content": "Hello there."}],
        **options,
    }


def _post(raw_key: str, body: object, *, client: Client | None = None):  # type: ignore[no-untyped-def]
    return (client or Client()).post(
        COMPLETIONS,
        data=body if isinstance(body, str | bytes) else json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw_key}"},
    )


def _upstream_bodies(server: OpenAIWireServer) -> list[dict]:
    return [request.body for request in server.requests_to(CHAT_COMPLETIONS_PATH)]


# ---------------------------------------------------------------- /v1/models


def test_models_lists_the_callers_characters_only(user, raw_key, django_assert_num_queries):
    first = CharacterFactory(owner=user, card=card_data(name="Mira"))
    second = CharacterFactory(owner=user, card=card_data(name="Old Tom"))
    CharacterFactory(owner=UserFactory(), card=card_data(name="Someone Else's"))
    gone = CharacterFactory(owner=user, card=card_data(name="Deleted"))
    Character.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())

    # the key and its user, its last use noted, the characters
    with django_assert_num_queries(3):
        response = Client().get("/v1/models", headers={"Authorization": f"Bearer {raw_key}"})

    assert response.status_code == 200
    assert response.json() == {
        "object": "list",
        "data": [
            {
                "id": c.slug,
                "object": "model",
                "created": int(c.created_at.timestamp()),
                "owned_by": user.username,
            }
            for c in (second, first)  # most recently updated first
        ],
    }


def test_models_list_costs_the_same_queries_for_more_characters(user, raw_key, django_assert_num_queries):
    for index in range(5):
        CharacterFactory(owner=user, card=card_data(name=f"Character {index}"))
    Client().get("/v1/models", headers={"Authorization": f"Bearer {raw_key}"})  # notes the key's last use

    with django_assert_num_queries(2):
        response = Client().get("/v1/models", headers={"Authorization": f"Bearer {raw_key}"})

    assert len(response.json()["data"]) == 5


def test_model_detail_is_one_of_the_callers_characters(user, raw_key, character):
    mine = Client().get(f"/v1/models/{character.slug}", headers={"Authorization": f"Bearer {raw_key}"})
    other = CharacterFactory(owner=UserFactory(), card=card_data(name="Hidden"))
    theirs = Client().get(f"/v1/models/{other.slug}", headers={"Authorization": f"Bearer {raw_key}"})

    assert mine.status_code == 200
    assert mine.json()["id"] == character.slug
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "model_not_found"


# ---------------------------------------------------------------- who may call


@pytest.mark.parametrize(
    ("header", "code"),
    [
        pytest.param(None, "missing_api_key", id="no-header"),
        pytest.param("Bearer ", "missing_api_key", id="bearer-without-key"),
        pytest.param("Basic dXNlcjpwYXNz", "missing_api_key", id="basic-auth"),
        pytest.param("Bearer tvn_not-a-real-key-at-all", "invalid_api_key", id="unknown-key"),
        pytest.param("Bearer sk-an-openai-key-by-mistake", "invalid_api_key", id="not-a-tavern-key"),
    ],
)
def test_a_request_without_a_valid_key_is_refused(db, header, code):
    headers = {"Authorization": header} if header is not None else {}

    for response in (
        Client().get("/v1/models", headers=headers),
        Client().post(COMPLETIONS, data=_body("mira"), content_type="application/json", headers=headers),
    ):
        assert response.status_code == 401
        error = response.json()["error"]
        assert (error["type"], error["code"], error["param"]) == ("authentication_error", code, None)


def test_a_revoked_key_is_refused(user, raw_key):
    api_key_revoke(key=user.api_keys.get())

    response = Client().get("/v1/models", headers={"Authorization": f"Bearer {raw_key}"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_a_jwt_or_a_session_is_not_a_key(user, character):
    jwt = Client().get("/v1/models", headers={"Authorization": f"Bearer {AccessToken.for_user(user)}"})
    browser = Client()
    browser.force_login(user)
    session = browser.post(COMPLETIONS, data=_body(character.slug), content_type="application/json")

    assert jwt.status_code == 401
    assert session.status_code == 401


def test_no_csrf_token_is_needed_with_a_key(raw_key, character):
    response = _post(raw_key, _body(character.slug), client=Client(enforce_csrf_checks=True))

    assert response.status_code == 200


def test_completions_answer_post_only(raw_key):
    response = Client().get(COMPLETIONS, headers={"Authorization": f"Bearer {raw_key}"})

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


# ---------------------------------------------------------------- the body


TEXT = {"role": "user", "content": "Hello"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        pytest.param("{not json", None, id="not-json"),
        pytest.param("[1, 2]", None, id="json-array"),
        pytest.param({"messages": [TEXT]}, "model", id="model-missing"),
        pytest.param({"model": 7, "messages": [TEXT]}, "model", id="model-not-a-string"),
        pytest.param({"model": "  ", "messages": [TEXT]}, "model", id="model-blank"),
        pytest.param({"model": "m"}, "messages", id="messages-missing"),
        pytest.param({"model": "m", "messages": {"role": "user"}}, "messages", id="messages-not-a-list"),
        pytest.param({"model": "m", "messages": []}, "messages", id="messages-empty"),
        pytest.param({"model": "m", "messages": ["Hello"]}, "messages[0]", id="message-not-an-object"),
        pytest.param(
            {"model": "m", "messages": [TEXT, {"role": "tool", "content": "x"}]},
            "messages[1].role",
            id="role-tool",
        ),
        pytest.param({"model": "m", "messages": [{"content": "x"}]}, "messages[0].role", id="role-missing"),
        pytest.param(
            {"model": "m", "messages": [{"role": "user"}]}, "messages[0].content", id="content-missing"
        ),
        pytest.param(
            {"model": "m", "messages": [{"role": "user", "content": 5}]},
            "messages[0].content",
            id="content-number",
        ),
        pytest.param(
            {
                "model": "m",
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
            },
            "messages[0].content[0]",
            id="content-image-part",
        ),
        pytest.param(
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
            "messages[0].content[0].text",
            id="content-text-part-not-a-string",
        ),
        pytest.param(
            {"model": "m", "messages": [{"role": "user", "content": "x", "name": 5}]},
            "messages[0].name",
            id="name-not-a-string",
        ),
        pytest.param(_body("m", temperature="hot"), "temperature", id="temperature-string"),
        pytest.param(_body("m", temperature=2.5), "temperature", id="temperature-above-2"),
        pytest.param(_body("m", top_p=True), "top_p", id="top-p-boolean"),
        pytest.param(_body("m", top_p=1.5), "top_p", id="top-p-above-1"),
        pytest.param(_body("m", max_tokens=0), "max_tokens", id="max-tokens-zero"),
        pytest.param(_body("m", max_tokens=1.5), "max_tokens", id="max-tokens-fraction"),
        pytest.param(
            _body("m", max_completion_tokens="9"), "max_completion_tokens", id="max-completion-string"
        ),
        pytest.param(_body("m", stop=5), "stop", id="stop-number"),
        pytest.param(_body("m", stop=["a", 1]), "stop", id="stop-list-with-number"),
        pytest.param(_body("m", stop=["a", "b", "c", "d", "e"]), "stop", id="stop-five-sequences"),
        pytest.param(_body("m", presence_penalty=-3), "presence_penalty", id="presence-penalty-below-2"),
        pytest.param(_body("m", frequency_penalty="x"), "frequency_penalty", id="frequency-penalty-string"),
        pytest.param(_body("m", seed="42"), "seed", id="seed-string"),
        pytest.param(_body("m", stream="yes"), "stream", id="stream-string"),
        pytest.param(
            _body("m", stream_options={"include_usage": True}), "stream_options", id="options-no-stream"
        ),
        pytest.param(
            _body("m", stream=True, stream_options={"include_usage": "yes"}),
            "stream_options.include_usage",
            id="include-usage-string",
        ),
        pytest.param(_body("m", n=2), "n", id="two-choices"),
    ],
)
def test_a_malformed_body_is_refused_naming_the_param(raw_key, body, param):
    response = _post(raw_key, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", param)
    assert error["message"]


@pytest.mark.parametrize(
    "model",
    [
        pytest.param("nobody-by-this-name", id="unknown-slug"),
        pytest.param("other-users-slug", id="another-users-character"),
        pytest.param("other-users-id", id="another-users-character-id"),
    ],
)
def test_a_model_that_is_not_one_of_the_callers_characters_is_not_found(raw_key, model):
    other = CharacterFactory(owner=UserFactory(), card=card_data(name="Their Character"))
    model = {"other-users-slug": other.slug, "other-users-id": str(other.pk)}.get(model, model)

    response = _post(raw_key, _body(model))

    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == (
        "invalid_request_error",
        "model",
        "model_not_found",
    )


def test_a_message_longer_than_the_context_is_refused(user, raw_key, character, upstream):
    _connection(user, upstream, context_size=300, max_reply_tokens=100)

    response = _post(raw_key, _body(character.slug, {"role": "user", "content": "lighthouse " * 400}))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"
    assert _upstream_bodies(upstream) == []


# ---------------------------------------------------------------- the reply


def test_the_card_and_the_client_messages_reach_the_characters_connection(user, raw_key, character, upstream):
    chat = make_chat(user, character, connection=_connection(user, upstream))
    stored = Message.objects.filter(chat=chat).count()
    upstream.script_reply("Fair winds to you.")

    response = _post(
        raw_key,
        _body(
            character.slug,
            {"role": "system", "content": "Answer in one sentence."},
            {"role": "user", "content": "Who are you?"},
            {"role": "assistant", "content": "A mapmaker."},
            {"role": "user", "content": [{"type": "text", "text": "Where"}, {"type": "text", "text": "to?"}]},
            temperature=0.5,
            top_p=0.9,
            max_tokens=40,
            stop=["\nUser:"],
            seed=7,
            presence_penalty=0.1,
            frequency_penalty=0.2,
        ),
    )

    assert response.status_code == 200
    payload = response.json()
    assert payload["id"].startswith("chatcmpl-")
    assert payload["object"] == "chat.completion"
    assert payload["model"] == character.slug
    assert payload["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Fair winds to you.", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    usage = payload["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    [sent] = _upstream_bodies(upstream)
    assert sent["model"] == "gpt-4o-mini"
    card_prompt, *conversation = sent["messages"]
    assert card_prompt["role"] == "system"
    assert character.description in card_prompt["content"]
    assert "curious, patient, dry humour" in card_prompt["content"]
    assert conversation == [
        {"role": "system", "content": "Answer in one sentence."},
        {"role": "user", "content": "Who are you?"},
        {"role": "assistant", "content": "A mapmaker."},
        {"role": "user", "content": "Where\nto?"},
    ]
    assert {name: sent[name] for name in ("temperature", "top_p", "max_tokens", "stop", "seed")} == {
        "temperature": 0.5,
        "top_p": 0.9,
        "max_tokens": 40,
        "stop": ["\nUser:"],
        "seed": 7,
    }
    assert (sent["presence_penalty"], sent["frequency_penalty"]) == (0.1, 0.2)
    record = UsageRecord.objects.get(user=user)
    assert (record.kind, record.chat_id, record.connection_label, record.model) == (
        "openai_api",
        None,
        "Wire",
        "gpt-4o-mini",
    )
    assert (record.tokens_in, record.tokens_out) == (usage["prompt_tokens"], usage["completion_tokens"])
    assert Message.objects.filter(chat=chat).count() == stored  # a stateless call: nothing is stored


def test_the_most_recently_active_chat_chooses_the_connection(user, raw_key, character, upstream):
    older = make_chat(user, character, connection=_connection(user, upstream, name="A", model="older-chat"))
    newer = make_chat(user, character, connection=_connection(user, upstream, name="B", model="newer-chat"))
    _connection(user, upstream, name="0 first own", model="own-connection")
    make_chat(
        user, CharacterFactory(owner=user), connection=_connection(user, upstream, name="C", model="other")
    )
    now = timezone.now()
    Chat.objects.filter(pk=older.pk).update(last_message_at=now - timedelta(days=2))
    Chat.objects.filter(pk=newer.pk).update(last_message_at=now - timedelta(days=1))

    _post(raw_key, _body(character.slug))

    assert [body["model"] for body in _upstream_bodies(upstream)] == ["newer-chat"]


def test_the_first_own_connection_answers_when_no_chat_has_one(user, raw_key, character, upstream):
    make_chat(user, character)  # a chat with no connection: the offline demo there
    _connection(user, upstream, name="Zed", model="second")
    _connection(user, upstream, name="Alpha", model="first")

    _post(raw_key, _body(character.slug))

    assert [body["model"] for body in _upstream_bodies(upstream)] == ["first"]


def test_the_offline_demo_answers_without_a_connection(user, raw_key, character):
    response = _post(
        raw_key, _body(character.slug, {"role": "user", "content": "Tell me about the northern cliffs."})
    )

    assert response.status_code == 200
    payload = response.json()
    reply = payload["choices"][0]["message"]["content"]
    assert "Tell me" not in reply
    assert "northern cliffs" in reply  # the offline demo echoes the key phrase, in character
    record = UsageRecord.objects.get(user=user)
    assert (record.connection_label, record.model, record.cost_micro_usd) == (
        "Offline demo",
        "offline-demo",
        0,
    )
    assert record.tokens_out == payload["usage"]["completion_tokens"]


def test_a_failing_provider_is_a_502_that_clients_do_not_retry(user, raw_key, character, upstream):
    _connection(user, upstream)
    upstream.script_reply("", status=401)

    response = _post(raw_key, _body(character.slug))

    assert response.status_code == 502
    assert response["x-should-retry"] == "false"
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("api_error", "provider_failed")
    assert "Wire: the API key was refused (401)" in error["message"]
    assert UsageRecord.objects.filter(user=user).count() == 0


@pytest.mark.usefixtures("clean_quota")
def test_the_daily_token_quota_is_a_429(settings, user, raw_key, character, upstream):
    settings.TAVERN_TIER_LIMITS = {"free": {"messages_per_minute": 0, "tokens_per_day": 50}}
    _connection(user, upstream)
    async_to_sync(quota.quota_consume)(user_id=user.pk, tokens=50)

    response = _post(raw_key, _body(character.slug))

    assert response.status_code == 429
    assert response["x-should-retry"] == "false"
    assert int(response["Retry-After"]) > 0
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("tokens", "quota_exceeded")
    assert _upstream_bodies(upstream) == []


@pytest.mark.usefixtures("clean_quota")
def test_a_reply_spends_the_daily_token_quota(settings, user, raw_key, character):
    settings.TAVERN_TIER_LIMITS = {"free": {"messages_per_minute": 0, "tokens_per_day": 1}}

    first = _post(raw_key, _body(character.slug))
    second = _post(raw_key, _body(character.slug))

    assert (first.status_code, second.status_code) == (200, 429)


# ---------------------------------------------------------------- lorebooks and memories


def _book(owner: User, *, keys: list[str], content: str, is_global: bool = False):  # type: ignore[no-untyped-def]
    value = LorebookValue(name="Lore", entries=[LorebookEntryValue(uid=1, keys=keys, content=content)])
    return lorebook_create(owner=owner, value=value, is_global=is_global)


def test_the_characters_book_and_the_callers_global_books_are_applied(user, raw_key, upstream):
    character = CharacterFactory(
        owner=user,
        card=card_data(
            character_book=LorebookValue(
                name="Harbour",
                entries=[LorebookEntryValue(uid=1, keys=["lighthouse"], content="The lighthouse is dark.")],
            )
        ),
    )
    _book(user, keys=["lighthouse"], content="Global: keepers never sleep.", is_global=True)
    _book(user, keys=["lighthouse"], content="Not global: left out.")
    _book(UserFactory(), keys=["lighthouse"], content="Someone else's global book.", is_global=True)
    _connection(user, upstream)

    _post(raw_key, _body(character.slug, {"role": "user", "content": "What happened to the lighthouse?"}))

    [sent] = _upstream_bodies(upstream)
    prompt = "\n".join(message["content"] for message in sent["messages"])
    assert "The lighthouse is dark." in prompt
    assert "Global: keepers never sleep." in prompt
    assert "Not global: left out." not in prompt
    assert "Someone else's global book." not in prompt


def _memory(owner: User, character: Character, text: str, *, chat: Chat | None = None) -> MemoryChunk:
    chat = chat or make_chat(owner, character)
    [vector] = embed_texts([text])
    start = MemoryChunk.objects.filter(chat=chat).count() * 10 + 1
    return MemoryChunk.objects.create(
        owner=owner,
        chat=chat,
        character=character,
        position_start=start,
        position_end=start + 3,
        text=text,
        embedding=vector,
    )


def test_memories_with_the_character_from_any_chat_reach_the_prompt(user, raw_key, character, upstream):
    _memory(user, character, "Mira lost her brass compass on the northern cliffs.")
    _memory(user, character, "Mira owes the harbour master three silver coins.")
    someone = UserFactory()
    _memory(someone, CharacterFactory(owner=someone), "Another user's secret about a compass.")
    _memory(
        user, CharacterFactory(owner=user, card=card_data(name="Old Tom")), "Old Tom's compass is broken."
    )
    _connection(user, upstream)

    _post(
        raw_key,
        _body(character.slug, {"role": "user", "content": "Do you remember where your compass went?"}),
    )

    [sent] = _upstream_bodies(upstream)
    system = sent["messages"][0]["content"]
    assert "Mira lost her brass compass on the northern cliffs." in system
    assert "Mira owes the harbour master three silver coins." in system
    assert "Another user's secret" not in system
    assert "Old Tom's compass" not in system


def test_memories_are_recalled_nearest_in_meaning_first(user, character):
    group = make_chat(user, CharacterFactory(owner=user, card=card_data(name="Old Tom")), character)
    _memory(user, character, "We argued about the price of bread at the market.")
    _memory(user, character, "Mira lost her brass compass on the northern cliffs.", chat=group)
    _memory(user, character, "The rain kept falling on the harbour all night.")

    recalled = memories_recall(
        user=user, character=character, query="Where did you lose the compass?", limit=2
    )

    assert recalled[0] == "Mira lost her brass compass on the northern cliffs."
    assert len(recalled) == 2


# ---------------------------------------------------------------- streaming (ASGI, a real event loop)


async def _stream_events(raw_key: str, body: dict) -> tuple[object, list]:
    response = await AsyncClient().post(
        COMPLETIONS,
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw_key}"},
    )
    raw = b"".join([part async for part in response.streaming_content]).decode()
    lines = [line for line in raw.split("\n\n") if line]
    assert all(line.startswith("data: ") for line in lines)
    return response, [line.removeprefix("data: ") for line in lines]


@pytest.mark.django_db(transaction=True)
async def test_a_stream_sends_the_role_the_text_the_finish_and_the_usage():
    user = await sync_to_async(UserFactory)()
    raw_key = (await sync_to_async(api_key_create)(user=user, name="s")).raw_key
    character = await sync_to_async(CharacterFactory)(owner=user, card=card_data())
    with OpenAIWireServer() as upstream:
        await sync_to_async(_connection)(user, upstream)
        upstream.script_reply("Fair winds and calm seas.")

        response, events = await _stream_events(
            raw_key, _body(character.slug, stream=True, stream_options={"include_usage": True})
        )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert {chunk["id"] for chunk in chunks} == {chunks[0]["id"]}
    assert {(chunk["object"], chunk["model"]) for chunk in chunks} == {
        ("chat.completion.chunk", character.slug)
    }
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks[1:-2])
    assert text == "Fair winds and calm seas."
    assert [chunk["choices"][0]["finish_reason"] for chunk in chunks[:-1]] == [None] * (len(chunks) - 2) + [
        "stop"
    ]
    assert all(chunk["usage"] is None for chunk in chunks[:-1])
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    record = await UsageRecord.objects.aget(user=user)
    assert usage_chunk["usage"] == {
        "prompt_tokens": record.tokens_in,
        "completion_tokens": record.tokens_out,
        "total_tokens": record.tokens_in + record.tokens_out,
    }


@pytest.mark.django_db(transaction=True)
async def test_a_stream_that_breaks_off_ends_with_an_error_event():
    user = await sync_to_async(UserFactory)()
    raw_key = (await sync_to_async(api_key_create)(user=user, name="s")).raw_key
    character = await sync_to_async(CharacterFactory)(owner=user, card=card_data())
    with OpenAIWireServer() as upstream:
        await sync_to_async(_connection)(user, upstream)
        upstream.script_reply("one two three four five", fail_after_chunks=2)

        response, events = await _stream_events(raw_key, _body(character.slug, stream=True))

    assert response.status_code == 200
    chunks = [json.loads(event) for event in events]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1]) == "one two "
    assert chunks[-1]["error"]["code"] == "provider_failed"
    assert "broke off" in chunks[-1]["error"]["message"]
    record = await UsageRecord.objects.aget(user=user)
    assert (record.model, record.tokens_out) == (
        "gpt-4o-mini",
        count_tokens("one two "),
    )  # received, so counted
