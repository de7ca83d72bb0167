"""A chat's memory update waits in the queue once, however many turns come before a
worker takes it (a busy chat, or workers that fell behind); once a worker has started
it, the next turn queues the next one."""

import pytest
import redis
from django.conf import settings

from chats.tasks import chat_memory_update, chat_memory_update_soon
from chats.tests.factories import make_chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat_queue():
    client = redis.Redis.from_url(settings.REDIS_URL)
    queue = settings.CELERY_TASK_ROUTES["chats.chat_memory_update"]["queue"]
    client.delete(queue)
    yield lambda: client.llen(queue)
    client.delete(queue)
    client.close()


def test_turns_before_a_worker_takes_the_update_queue_it_once(user, chat_queue):
    chat, other = make_chat(user), make_chat(user)

    for _ in range(3):
        chat_memory_update_soon(chat.pk)
    chat_memory_update_soon(other.pk)

    assert chat_queue() == 2  # one per chat


def test_a_turn_after_the_update_started_queues_the_next(user, chat_queue):
    chat = make_chat(user)
    chat_memory_update_soon(chat.pk)

    chat_memory_update(chat.pk)  # what the worker runs
    chat_memory_update_soon(chat.pk)

    assert chat_queue() == 2
