"""Shared test set-up: the real embedded PostgreSQL and Redis (started here when
`pytest` runs on its own), API clients, and a real Celery worker when asked for."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator

import pytest

from tavern import embedded

_started = embedded.start_needed()


def pytest_unconfigure(config: pytest.Config) -> None:
    embedded.stop(_started)


def _terminate_other_connections() -> None:
    from django.db import connection

    # Only this test process's connections (tagged by application_name): another
    # process may be testing against the same server.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = %s",
            [connection.settings_dict["OPTIONS"]["application_name"]],
        )


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections_at_teardown(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Threads of async tests (channels' executor, workers) may keep a connection to the
    test database; end them so it can be dropped."""
    yield
    with django_db_blocker.unblock():
        _terminate_other_connections()


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Throttle counters, quotas and cached values must not leak between tests (nor runs). Only
    the test keys go: the Redis may be shared with `make run` or another test run."""
    import redis
    from django.conf import settings

    def clear() -> None:
        client = redis.Redis.from_url(settings.REDIS_URL)
        try:
            for prefix in (settings.CACHES["default"]["KEY_PREFIX"], settings.REDIS_KEY_PREFIX):
                keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()

    clear()  # also what a run that was killed left behind
    yield
    clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if inspect.iscoroutinefunction(getattr(item, "function", None)):
            item.fixturenames.append("_sockets_closed_at_teardown")  # type: ignore[attr-defined]


@pytest.fixture
async def _sockets_closed_at_teardown() -> AsyncIterator[None]:
    """Async tests: every socket the test opened is closed in the test's own event loop,
    as a browser leaving would, before that loop ends (see tavern/testing/sockets.py)."""
    from tavern.realtime.bus import bus_close
    from tavern.testing.sockets import sockets_close_all

    yield
    await sockets_close_all()
    await bus_close()  # its Redis connection and reader belong to this loop


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Uploaded and generated files go to a per-test folder, never var/media or var/private."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"


@pytest.fixture
def user(db):  # type: ignore[no-untyped-def]
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def other_user(db):  # type: ignore[no-untyped-def]
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def api_client():  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user_client(user):  # type: ignore[no-untyped-def]
    """An API client authenticated as `user` with a real JWT."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def celery_worker(transactional_db):  # type: ignore[no-untyped-def]
    """A real Celery worker consuming the real Redis broker, in a thread of this process:
    every queue of the test settings (chat, embeddings, jobs, default; tavern/task_queues.py)."""
    import celery.contrib.testing.tasks  # noqa: F401 - registers celery.ping for the start-up check
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from tavern.celery import app
    from tavern.testing.waits import EVENT_WAIT_SECONDS

    # Generous: a loaded machine may take seconds to answer the start-up ping or to end a job.
    with start_worker(
        app,
        pool="solo",
        queues=list(settings.CELERY_TASK_QUEUES),
        perform_ping_check=True,
        ping_task_timeout=EVENT_WAIT_SECONDS,
        shutdown_timeout=EVENT_WAIT_SECONDS,
    ) as worker:
        yield worker
    # The worker thread is gone but its database connection is not; end it so the
    # test database can be flushed.
    _terminate_other_connections()
