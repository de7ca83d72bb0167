"""Edit, hide and delete from one socket reach every other socket open on the chat."""

import pytest
from channels.db import database_sync_to_async

from chats.models import Message, Swipe
from chats.tests.factories import make_chat
from chats.tests.sockets import connect
from tavern.testing.sockets import TestSocket

pytestmark = pytest.mark.django_db(transaction=True)


async def _two_sockets_on_a_greeted_chat(
    user,
) -> tuple[TestSocket, TestSocket, Message]:
    chat = await database_sync_to_async(make_chat)(user)
    greeting = await database_sync_to_async(lambda: Message.objects.get(chat=chat))()
    return await connect(chat.pk, user), await connect(chat.pk, user), greeting


async def test_an_edit_reaches_the_other_socket(user):
    editor, watcher, greeting = await _two_sockets_on_a_greeted_chat(user)

    await editor.send_json_to({"type": "edit", "message_id": greeting.pk, "content": "*Mira folds the map.*"})
    event = await watcher.receive_json_from()
    await editor.disconnect()
    await watcher.disconnect()

    assert event["type"] == "message_updated"
    assert (event["message"]["id"], event["message"]["content"]) == (greeting.pk, "*Mira folds the map.*")
    assert event["message"]["edited_at"] is not None
    swipe = await database_sync_to_async(lambda: Swipe.objects.get(message=greeting, index=0))()
    assert swipe.content == "*Mira folds the map.*"


@pytest.mark.parametrize("hidden", [True, False], ids=["hide", "show again"])
async def test_hiding_reaches_the_other_socket(user, hidden):
    editor, watcher, greeting = await _two_sockets_on_a_greeted_chat(user)

    await editor.send_json_to({"type": "hide", "message_id": greeting.pk, "hidden": hidden})
    event = await watcher.receive_json_from()
    await editor.disconnect()
    await watcher.disconnect()

    assert (event["type"], event["message"]["id"], event["message"]["is_hidden"]) == (
        "message_updated",
        greeting.pk,
        hidden,
    )
    stored = await database_sync_to_async(lambda: Message.objects.get(pk=greeting.pk))()
    assert stored.is_hidden is hidden


async def test_a_delete_reaches_the_other_socket(user):
    editor, watcher, greeting = await _two_sockets_on_a_greeted_chat(user)

    await editor.send_json_to({"type": "delete", "message_id": greeting.pk})
    event = await watcher.receive_json_from()
    await editor.disconnect()
    await watcher.disconnect()

    assert event == {"type": "message_deleted", "message_id": greeting.pk}
    assert await database_sync_to_async(Message.objects.filter(pk=greeting.pk).exists)() is False


async def test_a_message_of_another_chat_is_not_found(user):
    editor, watcher, _ = await _two_sockets_on_a_greeted_chat(user)
    other_chat = await database_sync_to_async(make_chat)(user)
    elsewhere = await database_sync_to_async(lambda: Message.objects.get(chat=other_chat))()

    await editor.send_json_to({"type": "delete", "message_id": elsewhere.pk})
    error = await editor.receive_json_from()
    await editor.disconnect()
    await watcher.disconnect()

    assert (error["type"], error["code"]) == ("error", "not_found")
    assert await database_sync_to_async(Message.objects.filter(pk=elsewhere.pk).exists)() is True
