"""A real generation over a real socket moves the chat metrics (tavern/metrics.py): compared
before and after, never timed."""

import pytest
from channels.db import database_sync_to_async
from prometheus_client import REGISTRY

from chats.tests.factories import make_chat
from chats.tests.sockets import chat_on, connect

pytestmark = pytest.mark.django_db(transaction=True)

REPLY = "The northern cliffs are mapped in red ink."


def _values(provider: str, error_kind: str) -> dict[str, float]:
    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    return {
        "active": value("tavern_chat_streams_active"),
        "generations": value("tavern_chat_generations_total", provider=provider),
        "tokens": value("tavern_chat_tokens_streamed_total", provider=provider),
        "first_tokens": value("tavern_chat_first_token_seconds_count", provider=provider),
        "batches": value("tavern_chat_token_publish_delay_seconds_count"),
        "errors": value("tavern_chat_generation_errors_total", kind=error_kind, provider=provider),
    }


def _moved(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in before}


async def _turn(chat_id: int, user) -> list[dict]:
    socket = await connect(chat_id, user)
    await socket.send_json_to({"type": "send", "content": "Which cliffs?", "client_id": "c-1"})
    seen: list[dict] = []
    while not seen or seen[-1]["type"] not in ("done", "error"):
        seen.append(await socket.receive_json_from())
    await socket.disconnect()
    return seen


async def test_an_offline_reply_counts_its_stream_and_tokens(user):
    chat = await database_sync_to_async(make_chat)(user)
    before = _values("offline", "internal")

    seen = await _turn(chat.pk, user)

    tokens = [event for event in seen if event["type"] == "token"]
    assert seen[-1]["type"] == "done"
    # Tests publish every token as it comes (TOKEN_BATCH_SECONDS=0): a batch per token.
    assert _moved(before, _values("offline", "internal")) == {
        "active": 0.0,
        "generations": 1.0,
        "tokens": len(tokens),
        "first_tokens": 1.0,
        "batches": len(tokens),
        "errors": 0.0,
    }


async def test_a_wire_reply_counts_under_connection(user, server):
    server.script_reply(REPLY)
    chat = await database_sync_to_async(chat_on)(server, user)
    before = _values("connection", "internal")

    seen = await _turn(chat.pk, user)

    assert seen[-1]["type"] == "done"
    assert _moved(before, _values("connection", "internal")) == {
        "active": 0.0,
        "generations": 1.0,
        "tokens": 8.0,
        "first_tokens": 1.0,
        "batches": 8.0,
        "errors": 0.0,
    }


async def test_a_provider_that_never_answers_counts_an_error_of_its_kind(user, server):
    server.script_reply("", status=503)
    server.script_reply("", status=503)  # the client's one retry
    chat = await database_sync_to_async(chat_on)(server, user)
    before = _values("connection", "server_error")

    seen = await _turn(chat.pk, user)

    assert (seen[-1]["type"], seen[-1]["code"]) == ("error", "provider_failed")
    assert _moved(before, _values("connection", "server_error")) == {
        "active": 0.0,
        "generations": 1.0,
        "tokens": 0.0,
        "first_tokens": 0.0,
        "batches": 0.0,
        "errors": 1.0,
    }
