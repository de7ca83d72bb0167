"""Messages appended at once from many threads (web workers, sockets, the REST API) get
unique, gap-free positions, and the chat's counters agree with them."""

import threading

import pytest
from django.db import connection

from chats.models import Chat, Message
from chats.services import GenerationRecord, message_append_reply, message_append_user
from chats.tests.factories import make_chat
from tavern.testing.waits import EVENT_WAIT_SECONDS

THREADS = 6
EACH = 5


def _append_from_threads(chat: Chat, character) -> list[BaseException]:
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            start.wait(timeout=EVENT_WAIT_SECONDS)
            for number in range(EACH):
                if worker % 2:
                    message_append_user(chat=Chat.objects.get(pk=chat.pk), content=f"user {worker}.{number}")
                else:
                    message_append_reply(
                        chat=Chat.objects.get(pk=chat.pk),
                        character=character,
                        content=f"reply {worker}.{number}",
                        generation=GenerationRecord(),
                    )
        except BaseException as error:  # reported to the test below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(worker,)) for worker in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_get_unique_increasing_positions(user):
    chat = make_chat(user)
    character = chat.participants.get().character

    failures = _append_from_threads(chat, character)

    assert failures == []
    total = 1 + THREADS * EACH
    assert list(
        Message.objects.filter(chat=chat).order_by("position").values_list("position", flat=True)
    ) == list(range(1, total + 1))
    chat.refresh_from_db()
    assert (chat.last_position, chat.message_count) == (total, total)


@pytest.mark.django_db(transaction=True)
def test_each_thread_sees_its_own_messages_in_the_order_it_wrote_them(user):
    chat = make_chat(user)
    character = chat.participants.get().character

    _append_from_threads(chat, character)

    contents = list(Message.objects.filter(chat=chat).order_by("position").values_list("content", flat=True))
    for worker in range(THREADS):
        kind = "user" if worker % 2 else "reply"
        mine = [text for text in contents if text.startswith(f"{kind} {worker}.")]
        assert mine == [f"{kind} {worker}.{number}" for number in range(EACH)]


@pytest.mark.django_db
def test_a_deleted_message_leaves_its_position_unused(user):
    chat = make_chat(user)
    first, _ = message_append_user(chat=chat, content="one")
    Message.objects.filter(pk=first.pk).delete()

    second, _ = message_append_user(chat=chat, content="two")

    assert second.position == 3
