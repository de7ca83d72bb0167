"""`make run`'s WEB_WORKERS web servers share one port: the supervisor binds it once and
each daphne serves the inherited socket (`--fd`). Real server processes here: one of them
killed, the other answers on the same port, and the supervisor starts the dead one again."""

from __future__ import annotations

import os
import signal
import threading
import urllib.request
from collections.abc import Iterator

import pytest
from django.conf import settings

from tavern import supervisor
from tavern.supervisor import Child, supervise, web_children, web_listener
from tavern.testing.waits import EVENT_WAIT_SECONDS
from tavern.testing.web_server import database_url

pytestmark = pytest.mark.django_db


def test_each_web_worker_is_a_child_of_its_own_serving_the_one_socket():
    with web_listener("127.0.0.1", 0) as listener:
        fd = listener.fileno()

        children = web_children(listener, 3)

    assert [child.name for child in children] == ["web-1", "web-2", "web-3"]
    assert {tuple(child.argv[1:]) for child in children} == {
        ("-m", "tavern.http_server", "--fd", str(fd), "tavern.asgi:application")
    }
    assert {child.pass_fds for child in children} == {(fd,)}


def test_one_web_worker_keeps_its_old_name():
    with web_listener("127.0.0.1", 0) as listener:
        assert [child.name for child in web_children(listener, 1)] == ["web"]


def test_a_taken_port_is_refused_at_once():
    with web_listener("127.0.0.1", 0) as taken, pytest.raises(OSError):
        web_listener("127.0.0.1", taken.getsockname()[1])


@pytest.fixture
def two_web_workers(monkeypatch) -> Iterator[tuple[int, list[Child]]]:  # type: ignore[no-untyped-def]
    # The children inherit this environment: the test settings, this run's database and Redis.
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tavern.settings.test")
    monkeypatch.setenv("DATABASE_URL", database_url())
    monkeypatch.setenv("REDIS_URL", settings.REDIS_URL)
    listener = web_listener("127.0.0.1", 0)
    children = web_children(listener, 2)
    try:
        yield listener.getsockname()[1], children
    finally:
        supervisor._stop_children(children)
        listener.close()


def _healthz(port: int) -> int:
    """Waits as long as a starting server may take: the connection waits in the socket's
    backlog until a web worker accepts it."""
    url = f"http://127.0.0.1:{port}/healthz"
    with urllib.request.urlopen(url, timeout=EVENT_WAIT_SECONDS) as response:
        return int(response.status)


def _kill(child: Child) -> None:
    assert child.process is not None
    os.killpg(child.process.pid, signal.SIGKILL)
    child.process.wait(timeout=EVENT_WAIT_SECONDS)


def test_web_workers_share_the_port_and_a_dead_one_is_started_again(two_web_workers):
    port, (first, second) = two_web_workers
    first.start(echo=False)
    assert _healthz(port) == 200  # only the first is running: it answered
    second.start(echo=False)

    # when the first dies, the second answers on the same port
    _kill(first)
    assert _healthz(port) == 200

    # and the supervisor starts the first again, which answers once the second is gone
    stopping = threading.Event()
    outcome: list[int] = []
    thread = threading.Thread(target=lambda: outcome.append(supervise([first, second], stopping, echo=False)))
    thread.start()
    try:
        while not first.restarts:  # waits on the restart itself, however long the machine takes
            thread.join(0.05)
            assert thread.is_alive(), "the supervisor gave up"
    finally:
        stopping.set()
        thread.join()
    _kill(second)  # with the supervisor stopped, so that it is not started again
    answered = _healthz(port)

    assert outcome == [0]
    assert (len(first.restarts), len(second.restarts)) == (1, 0)
    assert answered == 200  # by the first, started again
