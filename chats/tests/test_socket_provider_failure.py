"""When the provider fails: the user's message is never lost; a reply that broke off is
kept as a partial one with the reason; a provider that fails before answering hands the
turn to the chat's fallback connection; when none answers, the socket is told why."""

import pytest
from channels.db import database_sync_to_async

from chats.models import Message, Swipe
from chats.services import connection_save
from chats.tests.factories import make_chat
from chats.tests.sockets import chat_on, connect
from tavern.testing.openai_wire_server import CHAT_COMPLETIONS_PATH, OpenAIWireServer

pytestmark = pytest.mark.django_db(transaction=True)

REPLY = "The tide took the lower pier last winter, and the ferryman with it."


@pytest.fixture
def primary():
    with OpenAIWireServer() as server:
        yield server


@pytest.fixture
def backup():
    with OpenAIWireServer() as server:
        yield server


def _connection(user, server: OpenAIWireServer, name: str):
    return connection_save(
        owner=user,
        connection=None,
        data={"name": name, "base_url": server.base_url, "model": f"{name.lower()}-model"},
        api_key="sk-test",
    )


def _chat_with_backup(user, primary: OpenAIWireServer, backup: OpenAIWireServer):
    chat = make_chat(user, connection=_connection(user, primary, "Primary"))
    chat.fallback_connections.add(_connection(user, backup, "Backup"))
    return chat


def _provider_down(server: OpenAIWireServer) -> None:
    """503 to the request and to the client's one retry."""
    server.script_reply("", status=503)
    server.script_reply("", status=503)


async def _turn(chat_id: int, user, *, ends_with: str) -> list[dict]:
    socket = await connect(chat_id, user)
    await socket.send_json_to({"type": "send", "content": "What happened to the pier?", "client_id": "c-1"})
    seen = []
    while not seen or seen[-1]["type"] != ends_with:
        seen.append(await socket.receive_json_from())
    await socket.disconnect()
    return seen


def _stored(chat) -> list[tuple[str, str, bool]]:
    return [
        (m.author, m.content, m.is_partial) for m in Message.objects.filter(chat=chat).order_by("position")
    ]


async def test_a_reply_that_breaks_off_is_kept_partial_with_the_reason(user, primary, backup):
    primary.script_reply(REPLY, fail_after_chunks=3)
    chat = await database_sync_to_async(_chat_with_backup)(user, primary, backup)

    seen = await _turn(chat.pk, user, ends_with="done")

    done = seen[-1]
    assert done["message"]["content"] == "The tide took "
    assert done["record"]["partial"] is True
    assert done["record"]["finish_reason"] == "error"
    assert (
        done["record"]["error"] == "Primary: the reply broke off after 14 characters (the connection dropped)"
    )
    _, *rest = await database_sync_to_async(_stored)(chat)
    assert rest == [("user", "What happened to the pier?", False), ("character", "The tide took ", True)]
    swipe = await database_sync_to_async(lambda: Swipe.objects.get(message_id=done["message"]["id"]))()
    assert (swipe.is_partial, swipe.error) == (True, done["record"]["error"])
    assert backup.requests_to(CHAT_COMPLETIONS_PATH) == []


async def test_a_provider_down_before_the_first_token_hands_over_to_the_fallback(user, primary, backup):
    _provider_down(primary)
    backup.script_reply(REPLY)
    chat = await database_sync_to_async(_chat_with_backup)(user, primary, backup)

    seen = await _turn(chat.pk, user, ends_with="done")

    done = seen[-1]
    assert done["message"]["content"] == REPLY
    assert (done["record"]["connection"], done["record"]["model"]) == ("Backup", "backup-model")
    assert [event["type"] for event in seen if event["type"] == "error"] == []
    assert len(primary.requests_to(CHAT_COMPLETIONS_PATH)) == 2
    assert len(backup.requests_to(CHAT_COMPLETIONS_PATH)) == 1


async def test_when_no_connection_answers_the_socket_gets_an_error_and_the_message_is_kept(
    user, primary, backup
):
    _provider_down(primary)
    _provider_down(backup)
    chat = await database_sync_to_async(_chat_with_backup)(user, primary, backup)

    seen = await _turn(chat.pk, user, ends_with="error")

    error = seen[-1]
    assert error["code"] == "provider_failed"
    assert error["message"] == (
        "No connection answered. Primary: the provider is unavailable (503), try again later. "
        "Backup: the provider is unavailable (503), try again later."
    )
    _, *rest = await database_sync_to_async(_stored)(chat)
    assert rest == [("user", "What happened to the pier?", False)]


async def test_a_reply_cut_short_without_a_finish_reason_is_kept_partial(user, primary):
    primary.script_reply(REPLY, end_after_chunks=3)
    chat = await database_sync_to_async(chat_on)(primary, user)
    socket = await connect(chat.pk, user)

    await socket.send_json_to({"type": "send", "content": "What happened to the pier?", "client_id": "c-1"})
    done = await socket.next_of("done")

    assert (done["message"]["content"], done["message"]["is_partial"]) == ("The tide took ", True)
    assert done["record"]["finish_reason"] == "error"
    assert "the stream ended before the model said it was finished" in done["record"]["error"]
    stored = await database_sync_to_async(lambda: Message.objects.get(pk=done["message"]["id"]))()
    assert (stored.content, stored.is_partial) == ("The tide took ", True)
