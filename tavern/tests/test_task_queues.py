"""Celery's work goes to one queue per kind (tavern/task_queues.py), so a flood of one kind
does not starve another, and the tests' worker consumes every one of them."""

from __future__ import annotations

import pytest
from django.conf import settings

from tavern.celery import app
from tavern.task_queues import QUEUE_KINDS, celery_queue_settings


@pytest.mark.parametrize(
    ("task", "kind"),
    [
        ("chats.chat_memory_update", "chat"),
        ("characters.character_embed", "embeddings"),
        ("characters.embed_stale", "embeddings"),
        ("tavern.job_run", "jobs"),
        ("tavern.jobs_resend_queued", "jobs"),
        ("tavern.user_event_deliver", "default"),
        ("celery.ping", "default"),
    ],
    ids=lambda value: value,
)
def test_a_task_goes_to_the_queue_of_its_kind(task, kind):
    route = app.amqp.router.route({}, task)

    assert route["queue"].name == f"{settings.REDIS_KEY_PREFIX}.{kind}"


def test_production_queues_are_named_by_kind_alone():
    production = celery_queue_settings()

    assert production["CELERY_TASK_DEFAULT_QUEUE"] == "default"
    assert list(production["CELERY_TASK_QUEUES"]) == ["default", "chat", "embeddings", "jobs"]
    assert production["CELERY_TASK_ROUTES"]["chats.chat_memory_update"] == {"queue": "chat"}


def test_the_test_settings_keep_every_queue_apart_from_a_make_run_on_the_same_redis():
    assert sorted(settings.CELERY_TASK_QUEUES) == sorted(
        f"{settings.REDIS_KEY_PREFIX}.{kind}" for kind in QUEUE_KINDS
    )


def test_the_tests_worker_consumes_every_queue(celery_worker):
    consumed = {queue.name for queue in celery_worker.consumer.task_consumer.queues}

    assert consumed == set(settings.CELERY_TASK_QUEUES)
