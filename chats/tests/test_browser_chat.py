"""The chat page in a real browser: Playwright drives Debian's Chromium against a real
daphne (HTTP + WebSockets) serving the test database, and the offline demo answers.

pytest-django's `live_server` is WSGI only (no sockets), so daphne runs here as a
subprocess on a free port, pointed at the test database of this run. Static files
are answered by the browser route below from the staticfiles finders (test settings
serve no static files without `collectstatic`).

Test settings stream the offline demo at once (OFFLINE_TOKENS_PER_SECOND = 0), so
the test checks streaming by what the page receives and shows: token events before
`done`, and the live bubble's text growing as they arrive.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest
from django.conf import settings

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from characters.tests.factories import CharacterFactory
from chats.models import Chat, Message
from chats.tests.factories import make_chat

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_SECONDS = 60
WAIT_MS = 20_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium (`make browser-deps` installs it as root)",
    ),
]

# Each mutation of the live reply's text, recorded in the page (injected over the
# DevTools protocol, so the page's CSP does not apply to it).
RECORD_LIVE_TEXT = """
window.__liveLengths = [];
new MutationObserver(() => {
  const live = document.querySelector(".msg--live [data-live-text]");
  if (live) window.__liveLengths.push(live.textContent.length);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or ""
    if host.startswith("/"):  # a Unix socket directory (the embedded PostgreSQL)
        return f"postgres://{user}{password}@/{db['NAME']}?host={quote(host, safe='/')}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


class Daphne:
    """daphne on a fixed free port serving this run's test database; restartable, so a
    test can drop every socket and watch the page come back."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tavern.settings.test",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
        }
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "tavern.asgi:application"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace") if self.process.stdout else ""
                pytest.fail(f"daphne exited with {self.process.returncode}:\n{output}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("daphne did not answer /healthz in time")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture
def daphne(transactional_db) -> Iterator[Daphne]:  # type: ignore[no-untyped-def]
    server = Daphne()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _serve_static(route, request) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.staticfiles import finders

    found = finders.find(urlparse(request.url).path.removeprefix(settings.STATIC_URL))
    if found:
        route.fulfill(path=found)
    else:
        route.fulfill(status=404, body="not found")


@dataclass
class ChatPage:
    page: Any
    frames: list[dict[str, Any]] = field(default_factory=list)  # every socket event received
    problems: list[str] = field(default_factory=list)  # script errors, console errors


def _open_chat(browser: Any, base: str, user: Any, chat: Chat) -> ChatPage:
    """Log in through the login page, then land on the chat with its socket live."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    opened = ChatPage(page)
    page.route(f"**{settings.STATIC_URL}**", _serve_static)
    page.add_init_script(RECORD_LIVE_TEXT)
    page.on("pageerror", lambda error: opened.problems.append(f"page error: {error}"))
    page.on("console", lambda message: _console(opened, message))
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda payload: opened.frames.append(json.loads(payload))),
    )
    page.goto(f"{base}/accounts/login/?next=/chats/{chat.pk}/")
    page.fill("input[name=login]", user.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/chats/{chat.pk}/", timeout=WAIT_MS)
    page.wait_for_selector("[data-status].is-ok", timeout=WAIT_MS)
    _wait_for_frames(opened, "snapshot", 1)  # the answer to the page's `resume`
    return opened


def _wait_for_frames(opened: ChatPage, kind: str, count: int) -> None:
    deadline = time.monotonic() + WAIT_MS / 1000
    while sum(frame["type"] == kind for frame in opened.frames) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"{count} {kind!r} events did not arrive: {opened.frames}")
        opened.page.wait_for_timeout(50)  # lets Playwright deliver the events meanwhile


def _console(opened: ChatPage, message: Any) -> None:
    # A socket refused while the server restarts is expected; anything else is a problem.
    if message.type == "error" and "WebSocket" not in message.text:
        opened.problems.append(message.text)


def _wait_for_reply(page: Any, replies: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('.msg--reply[data-message-id]').length === n "
        "&& !document.querySelector('.msg--live, .msg--pending')",
        arg=replies,
        timeout=WAIT_MS,
    )


def _launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def test_a_turn_streams_swipes_and_survives_a_reload(daphne):
    # given a user with a chat (greeting only) and no connection: the offline demo answers
    sync_api = pytest.importorskip("playwright.sync_api")
    user = UserFactory()
    chat = make_chat(user, CharacterFactory(owner=user))

    with sync_api.sync_playwright() as playwright:
        browser = _launch(playwright)
        opened = _open_chat(browser, daphne.base, user, chat)
        page, frames = opened.page, opened.frames

        # when they send a message
        page.fill("[data-composer-text]", "Where are we, Mira?")
        page.keyboard.press("Enter")
        _wait_for_reply(page, 2)

        # then the reply streamed in (tokens before done, the bubble growing) and is labelled
        kinds = [frame["type"] for frame in frames]
        done = next(frame for frame in frames if frame["type"] == "done")
        tokens = [frame["text"] for frame in frames if frame["type"] == "token"]
        assert kinds.index("generation_started") < kinds.index("token") < kinds.index("done")
        assert "".join(tokens) == done["message"]["content"]
        assert done["record"]["connection"] == "Offline demo"
        lengths = page.evaluate("window.__liveLengths")
        assert len(set(lengths)) >= 2
        assert lengths == sorted(lengths)
        reply = page.locator(f"#message-{done['message']['id']}")
        raw = reply.locator("template[data-raw]").evaluate("t => t.content.textContent")
        assert raw == done["message"]["content"]
        assert reply.locator(".badge--demo").inner_text().lower() == "offline demo"
        assert reply.locator("[data-swipe-label]").inner_text() == "1/1"
        ack = next(frame for frame in frames if frame["type"] == "ack")
        sent = page.locator(f"#message-{ack['message']['id']} .msg__content")
        assert sent.inner_text() == "Where are we, Mira?"

        # when they swipe right past the last reply, a second one is written
        reply.locator("[data-action=swipe-right]").click()
        page.wait_for_function(
            "id => { const el = document.querySelector(`#message-${id} [data-swipe-label]`);"
            " return el && el.textContent === '2/2' && !document.querySelector('.msg--live'); }",
            arg=done["message"]["id"],
            timeout=WAIT_MS,
        )
        modes = [frame["mode"] for frame in frames if frame["type"] == "generation_started"]
        assert modes == ["send", "regenerate"]

        # and after a reload the history is there, rendered by the server
        page.reload()
        page.wait_for_selector("[data-status].is-ok", timeout=WAIT_MS)
        assert len(page.locator(".msg .msg__name").all_inner_texts()) == 3
        assert sent.inner_text() == "Where are we, Mira?"
        assert reply.locator("[data-swipe-label]").inner_text() == "2/2"
        assert opened.problems == []
        browser.close()

    stored = list(Message.objects.filter(chat=chat).order_by("position"))
    assert [m.author for m in stored] == ["character", "user", "character"]
    assert (stored[2].swipe_index, stored[2].swipe_count) == (1, 2)


def test_a_message_written_while_the_server_is_down_is_sent_on_reconnect(daphne):
    # given an open chat page
    sync_api = pytest.importorskip("playwright.sync_api")
    user = UserFactory()
    chat = make_chat(user, CharacterFactory(owner=user))

    with sync_api.sync_playwright() as playwright:
        browser = _launch(playwright)
        opened = _open_chat(browser, daphne.base, user, chat)
        page = opened.page

        # when the server goes away, the page says so and keeps what is typed
        daphne.stop()
        page.wait_for_selector("[data-status].is-bad", timeout=WAIT_MS)
        page.fill("[data-composer-text]", "Are you still there?")
        page.keyboard.press("Enter")
        assert page.locator(".msg--pending .msg__content").inner_text() == "Are you still there?"

        # then, once it is back, the page reconnects, sends it and shows the reply
        daphne.start()
        page.wait_for_selector("[data-status].is-ok", timeout=WAIT_MS)
        _wait_for_reply(page, 2)
        _wait_for_frames(opened, "snapshot", 2)  # the reconnected socket resumed too
        assert page.locator(".msg--user .msg__content").all_inner_texts() == ["Are you still there?"]
        assert opened.problems == []
        browser.close()

    assert list(Message.objects.filter(chat=chat).values_list("author", flat=True).order_by("position")) == [
        "character",
        "user",
        "character",
    ]
