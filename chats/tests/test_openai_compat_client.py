"""The official `openai` client, unchanged, against Tavern served by daphne in a subprocess
(the real ASGI server, streaming included), with the character's connection pointing at a
local OpenAI-protocol server.

Slow-ish: daphne starts once for the module (~3 s); each test is a transactional test
whose rows the server process reads."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import openai
import pytest
import redis
from asgiref.sync import async_to_sync
from django.conf import settings

from accounts.models import User
from accounts.services import api_key_create
from accounts.tests.factories import UserFactory
from characters.cards import Lorebook as LorebookValue
from characters.cards import LorebookEntry as LorebookEntryValue
from characters.models import Character
from characters.tests.factories import CharacterFactory, card_data
from chats.models import UsageRecord
from chats.quota import quota_consume
from chats.services import connection_save
from chats.tests.factories import make_chat
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH, OpenAIWireServer
from tavern.testing.waits import EVENT_WAIT_SECONDS

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parents[2]
SERVER_START_SECONDS = 60


# ---------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database_url() -> str:
    """The test database (as pytest-django named it) as a DATABASE_URL for the server process."""
    from django.db import connection

    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host, port, name = db["HOST"] or "", db["PORT"] or "5432", quote(db["NAME"], safe="")
    if host.startswith("/"):  # a Unix socket folder (the embedded server) goes in the query
        return f"postgres://{credentials}@:{port}/{name}?host={quote(host, safe='/')}"
    return f"postgres://{credentials}@{host}:{port}/{name}"


@pytest.fixture(scope="module")
def tavern_url(django_db_setup, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = _free_port()
    log_path = tmp_path_factory.mktemp("daphne") / "daphne.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tavern.settings.test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        # Only the quota test counts: it uses another tier, whose limits are fixed.
        "LIMIT_FREE_PER_MINUTE": "0",
        "LIMIT_FREE_TOKENS_PER_DAY": "0",
    }
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "tavern.asgi:application"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_listening(server, port, log_path)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _wait_until_listening(server: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"daphne exited with {server.returncode}:\n{log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"daphne did not listen within {SERVER_START_SECONDS} s:\n{log_path.read_text()}")


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def upstream() -> Iterator[OpenAIWireServer]:
    with OpenAIWireServer() as server:
        yield server


@pytest.fixture
def clean_quota(user: User) -> Iterator[None]:
    """Quota counters live in the shared Redis under the user's id, which the next test run
    gives to another user the same day: start from nothing and leave nothing behind."""
    client = redis.Redis.from_url(settings.REDIS_URL)

    def clear() -> None:
        for pattern in (
            f"{settings.REDIS_KEY_PREFIX}:tokens:{user.pk}:*",
            f"{settings.REDIS_KEY_PREFIX}:limits:LIMITER/messages/{user.pk}/*",
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
    return api_key_create(user=user, name="openai client").raw_key


@pytest.fixture
def client(tavern_url: str, raw_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=tavern_url, api_key=raw_key)


def _character_with_lore(owner: User) -> Character:
    book = LorebookValue(
        name="Harbour",
        entries=[
            LorebookEntryValue(
                uid=1, keys=["lighthouse"], content="The lighthouse on Gull Point has been dark for a year."
            )
        ],
    )
    return CharacterFactory(owner=owner, card=card_data(character_book=book))


def _connect(owner: User, character: Character, server: OpenAIWireServer) -> None:
    connection = connection_save(
        owner=owner,
        connection=None,
        data={"name": "Wire", "base_url": server.base_url, "model": "gpt-4o-mini"},
        api_key="sk-upstream",
    )
    make_chat(owner, character, connection=connection)


# ---------------------------------------------------------------- tests


def test_the_openai_client_lists_the_characters_and_gets_replies_in_character(user, client, upstream):
    character = _character_with_lore(user)
    CharacterFactory(owner=UserFactory(), card=card_data(name="Not Mine"))
    _connect(user, character, upstream)
    upstream.script_reply("Welcome aboard, traveller.")
    upstream.script_reply("Fair winds and calm seas.")
    messages = [
        {"role": "system", "content": "Keep it short."},
        {"role": "user", "content": "Good evening!"},
    ]

    models = client.models.list()
    completion = client.chat.completions.create(model=character.slug, messages=messages)
    stream = client.chat.completions.create(
        model=character.slug, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)

    assert [(m.id, m.object, m.owned_by) for m in models.data] == [(character.slug, "model", user.username)]
    assert completion.model == character.slug
    assert completion.choices[0].message.content == "Welcome aboard, traveller."
    assert completion.choices[0].finish_reason == "stop"
    assert (
        completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Fair winds and calm seas."
    )
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == UsageRecord.objects.order_by("id").last().tokens_out
    sent = [request.body for request in upstream.requests_to(CHAT_COMPLETIONS_PATH)]
    assert len(sent) == 2
    for body in sent:
        assert character.description in body["messages"][0]["content"]
        assert body["messages"][-2:] == messages
    assert UsageRecord.objects.filter(user=user, kind="openai_api").count() == 2


def test_an_activated_lorebook_entry_reaches_the_model(user, client, upstream):
    character = _character_with_lore(user)
    _connect(user, character, upstream)

    client.chat.completions.create(
        model=character.slug, messages=[{"role": "user", "content": "Why is the lighthouse dark?"}]
    )

    [request] = upstream.requests_to(CHAT_COMPLETIONS_PATH)
    prompt = "\n".join(message["content"] for message in request.body["messages"])
    assert "The lighthouse on Gull Point has been dark for a year." in prompt


def test_the_offline_demo_answers_when_the_character_has_no_connection(user, client):
    character = CharacterFactory(owner=user, card=card_data())

    stream = client.chat.completions.create(
        model=character.slug,
        messages=[{"role": "user", "content": "Tell me about the northern cliffs."}],
        stream=True,
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    assert "northern cliffs" in text
    assert UsageRecord.objects.get(user=user).connection_label == "Offline demo"


def test_a_reply_that_breaks_off_raises_in_the_client_after_the_text_so_far(user, client, upstream):
    character = CharacterFactory(owner=user, card=card_data())
    _connect(user, character, upstream)
    upstream.script_reply("one two three four five", fail_after_chunks=2)
    received = []

    with pytest.raises(openai.APIError, match="broke off"):
        for chunk in client.chat.completions.create(
            model=character.slug, messages=[{"role": "user", "content": "Count."}], stream=True
        ):
            received.append(chunk.choices[0].delta.content or "")

    assert "".join(received) == "one two "


def test_a_client_that_hangs_up_stops_the_upstream_reply_and_is_billed_for_what_it_got(
    user, client, upstream
):
    character = CharacterFactory(owner=user, card=card_data())
    _connect(user, character, upstream)
    upstream.script_reply("word " * 200, chunk_delay=0.02)

    stream = client.chat.completions.create(
        model=character.slug, messages=[{"role": "user", "content": "Talk."}], stream=True
    )
    received = [chunk for _, chunk in zip(range(4), stream, strict=False)]
    stream.close()

    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while (upstream.cancelled_streams, UsageRecord.objects.filter(user=user).count()) != (1, 1):
        assert time.monotonic() < deadline, "the upstream stream was not closed, or no usage was recorded"
        time.sleep(0.05)
    assert len(received) == 4
    assert 0 < UsageRecord.objects.get(user=user).tokens_out < 200


@pytest.mark.parametrize(
    ("case", "error"),
    [
        pytest.param("bad-key", openai.AuthenticationError, id="bad-key"),
        pytest.param("unknown-model", openai.NotFoundError, id="unknown-model"),
        pytest.param("another-users-character", openai.NotFoundError, id="another-users-character"),
        pytest.param("malformed-messages", openai.BadRequestError, id="malformed-messages"),
    ],
)
def test_the_openai_client_raises_its_own_errors(user, tavern_url, raw_key, case, error):
    mine = CharacterFactory(owner=user, card=card_data())
    theirs = CharacterFactory(owner=UserFactory(), card=card_data(name="Their Own"))
    client = openai.OpenAI(
        base_url=tavern_url, api_key="tvn_revoked-or-never-was" if case == "bad-key" else raw_key
    )
    model = {"unknown-model": "no-such-character", "another-users-character": theirs.slug}.get(
        case, mine.slug
    )
    messages = (
        [{"role": "narrator", "content": "It was a dark night."}]
        if case == "malformed-messages"
        else [{"role": "user", "content": "Hello"}]
    )

    with pytest.raises(error) as raised:
        client.chat.completions.create(model=model, messages=messages)

    expected = {
        "bad-key": ("invalid_api_key", None),
        "unknown-model": ("model_not_found", "model"),
        "another-users-character": ("model_not_found", "model"),
        "malformed-messages": (None, "messages[0].role"),
    }[case]
    assert (raised.value.code, raised.value.param) == expected


@pytest.mark.usefixtures("clean_quota")
def test_an_exhausted_daily_quota_is_a_rate_limit_the_client_does_not_retry(user, client):
    user.subscription_tier = "plus"
    user.save(update_fields=["subscription_tier"])
    character = CharacterFactory(owner=user, card=card_data())
    daily = settings.TAVERN_TIER_LIMITS["plus"]["tokens_per_day"]
    async_to_sync(quota_consume)(user_id=user.pk, tokens=daily)

    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model=character.slug, messages=[{"role": "user", "content": "Hello"}])

    assert raised.value.code == "quota_exceeded"
    assert raised.value.response.headers["x-should-retry"] == "false"
    assert UsageRecord.objects.filter(user=user).count() == 0
