"""`/metrics`: who may read it (the matrix has a row per case; here the proxy case), what it
exports, and the Celery queue depths read from the real broker when scraped."""

import logging
import uuid

import pytest
import redis
from django.conf import settings
from django.test import Client, override_settings

from tavern.celery import app as celery_app
from tavern.metrics import celery_queue_names

pytestmark = pytest.mark.django_db

TOKEN = "test-metrics-token"


def _scrape(client: Client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain; version=")
    return response.content.decode()


def _sample_lines(text: str, name: str) -> list[str]:
    return sorted(
        line for line in text.splitlines() if line.startswith(name + "{") or line.startswith(name + " ")
    )


@override_settings(METRICS_TOKEN=TOKEN)
def test_the_exposition_has_our_metrics_and_django_prometheus_ones(client):
    text = _scrape(client)

    for name in (
        "tavern_chat_streams_active",
        "tavern_chat_generations_total",
        "tavern_chat_tokens_streamed_total",
        "tavern_chat_first_token_seconds",
        "tavern_chat_token_publish_delay_seconds",
        "tavern_chat_generation_errors_total",
        "tavern_celery_queue_depth",
        "django_http_requests_latency_including_middlewares_seconds",
    ):
        assert f"# TYPE {name} " in text, name


@override_settings(METRICS_ALLOWED_IPS=["10.0.0.0/8"], TRUSTED_PROXIES=["127.0.0.1"])
def test_an_allowed_client_behind_a_trusted_proxy_is_let_in(client):
    response = client.get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3")

    assert response.status_code == 200


@override_settings(METRICS_ALLOWED_IPS=["10.0.0.0/8"], TRUSTED_PROXIES=["127.0.0.1"])
def test_a_refused_client_behind_a_trusted_proxy_is_refused(client):
    response = client.get("/metrics", HTTP_X_FORWARDED_FOR="192.0.2.7")

    assert response.status_code == 403


@override_settings(METRICS_TOKEN=TOKEN)
def test_a_token_in_another_scheme_is_refused(client):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}")

    assert response.status_code == 403


@pytest.fixture
def unwatched_queues():
    """The settings' queues under a name no worker of this run consumes; emptied after."""
    prefix = f"metrics-test-{uuid.uuid4().hex[:8]}"
    queues = {
        f"{prefix}.{name.rsplit('.', 1)[-1]}": options
        for name, options in settings.CELERY_TASK_QUEUES.items()
    }
    with override_settings(CELERY_TASK_QUEUES=queues, METRICS_TOKEN=TOKEN):
        yield celery_queue_names()
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.delete(*queues, *(f"_kombu.binding.{name}" for name in queues))
    finally:
        client.close()


def test_a_queued_task_shows_in_its_queues_depth(client, unwatched_queues):
    before = _sample_lines(_scrape(client), "tavern_celery_queue_depth")

    celery_app.send_task("tavern.job_run", args=[0], queue=unwatched_queues["jobs"])
    after = _sample_lines(_scrape(client), "tavern_celery_queue_depth")

    assert before == [
        'tavern_celery_queue_depth{queue="chat"} 0.0',
        'tavern_celery_queue_depth{queue="default"} 0.0',
        'tavern_celery_queue_depth{queue="embeddings"} 0.0',
        'tavern_celery_queue_depth{queue="jobs"} 0.0',
    ]
    assert after == [
        'tavern_celery_queue_depth{queue="chat"} 0.0',
        'tavern_celery_queue_depth{queue="default"} 0.0',
        'tavern_celery_queue_depth{queue="embeddings"} 0.0',
        'tavern_celery_queue_depth{queue="jobs"} 1.0',
    ]


@override_settings(METRICS_TOKEN=TOKEN, CELERY_BROKER_URL="redis://127.0.0.1:9/0")
def test_without_the_broker_the_scrape_answers_without_queue_depths(client, caplog):
    with caplog.at_level(logging.WARNING, logger="tavern.metrics"):
        text = _scrape(client)

    assert _sample_lines(text, "tavern_celery_queue_depth") == []
    assert "tavern_chat_streams_active" in text
    assert [record.getMessage().split(" (")[0] for record in caplog.records] == [
        "metrics: the Celery queue depths could not be read"
    ]
