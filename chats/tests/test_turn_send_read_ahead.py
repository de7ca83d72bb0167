"""A send makes one trip to the database thread (`chats.turns._send`): the message
stored with the reply's slot taken, and the reply's context read just after it, so the
generation starts without reading it again. A send abandoned mid-trip frees its slot."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from chats import realtime
from chats.generation import ContextRead
from chats.models import Chat, ChatParticipant, Message
from chats.tests.sockets import chat_on
from chats.turns import turn_send
from tavern.testing.row_locks import rows_locked_elsewhere

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_reply_context_is_read_with_the_send_and_holds_the_new_message(user, server):
    server.script_reply("The channel is clear.")
    chat = await sync_to_async(chat_on)(server, user)

    sent = await turn_send(chat_id=chat.pk, user_id=user.pk, content="Is the channel clear?", client_id="c-1")

    assert sent.created and sent.turn is not None
    context = sent.turn.read.context
    assert context.last_user_text == "Is the channel clear?"
    assert context.prompt.messages[-1]["content"].endswith("Is the channel clear?")
    outcome = await sent.turn.run()
    assert outcome.message.content == "The channel is clear."
    assert await realtime.generation_current(chat.pk) is None  # the slot is free again
    assert len(server.requests) == 1


async def test_when_nobody_is_to_speak_the_read_says_so_and_the_turn_frees_its_slot(user, server):
    chat = await sync_to_async(chat_on)(server, user)
    await ChatParticipant.objects.filter(chat=chat).aupdate(is_muted=True)  # everyone muted

    sent = await turn_send(chat_id=chat.pk, user_id=user.pk, content="Anyone there?")

    assert sent.created and sent.turn.read == ContextRead(None)
    assert await sent.turn.run() is None
    assert await realtime.generation_current(chat.pk) is None
    assert server.requests == []


async def test_a_resend_stores_nothing_and_takes_no_slot(user, server):
    server.script_reply("Clear.")
    chat = await sync_to_async(chat_on)(server, user)
    first = await turn_send(chat_id=chat.pk, user_id=user.pk, content="Clear?", client_id="same")
    await first.turn.run()

    again = await turn_send(chat_id=chat.pk, user_id=user.pk, content="Clear?", client_id="same")

    assert (again.created, again.turn, again.message.pk) == (False, None, first.message.pk)
    assert await realtime.generation_current(chat.pk) is None
    assert await Message.objects.filter(chat=chat, client_id="same").acount() == 1


async def _eventually(check, *, seconds: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.01)


async def test_a_send_abandoned_mid_trip_frees_the_slot_it_took(user, server):
    """The socket closes while its send waits in the database thread (here on the chat's
    row, held by another transaction): the message is stored all the same, and the
    reply's slot, taken before it, does not stay taken until it expires."""
    chat = await sync_to_async(chat_on)(server, user)
    # (Entering blocks the loop only until the other thread holds the lock.)
    with rows_locked_elsewhere(Chat.objects.filter(pk=chat.pk)) as release:
        send = asyncio.create_task(turn_send(chat_id=chat.pk, user_id=user.pk, content="Still there?"))
        await _eventually(lambda: realtime.generation_current(chat.pk))  # slot taken; the append waits

        send.cancel()
        with pytest.raises(asyncio.CancelledError):
            await send
        release.set()

    async def slot_free() -> bool:
        return await realtime.generation_current(chat.pk) is None

    await _eventually(slot_free)
    assert await Message.objects.filter(chat=chat, content="Still there?").aexists()
