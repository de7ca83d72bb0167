"""`make run`: one supervised group of everything Tavern needs on one machine.

Starts the embedded PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL point
elsewhere), migrates, loads the demo data, then runs WEB_WORKERS web servers (daphne
with a cap on request bodies, tavern/http_server.py; HTTP + WebSocket), a Celery
worker consuming every queue, and Celery beat. Ctrl-C or SIGTERM stops every process
it started, the embedded servers included. A child that dies is started again; the
group stops when one dies RESTARTS_ALLOWED times within RESTART_WINDOW_SECONDS.

The web servers share one port without a proxy: the supervisor binds the listening
socket once and each daphne serves it as an inherited file descriptor (`--fd`), so the
kernel hands each new connection to whichever process accepts first (unevenly while
they are idle: one may take most; a busy one accepts less). The socket
outlives the web processes: while one is restarted, the others go on answering and
nothing else can take the port. A chat's stream reaches sockets on every process
through Redis (tavern/realtime/bus.py).

Every process it starts writes its Prometheus numbers to files in one directory
(PROMETHEUS_MULTIPROC_DIR, `var/prometheus` unless set; emptied at start), so whichever
web process answers `/metrics` reports the sum over all of them (tavern/metrics.py).

    python -m tavern.supervisor [--port 8000] [--host 127.0.0.1] [--web-workers 1]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import multiprocess

from tavern import embedded

STOP_GRACE_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 120.0


LISTEN_BACKLOG = 1024

RESTARTS_ALLOWED = 5
RESTART_WINDOW_SECONDS = 60.0


@dataclass
class Child:
    name: str
    argv: list[str]
    pass_fds: tuple[int, ...] = ()  # inherited by every start: the web servers' shared socket
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    restarts: list[float] = field(default_factory=list)  # when it was started again

    def start(self, *, echo: bool = True) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            self.argv,
            cwd=embedded.BASE_DIR,
            stdout=subprocess.PIPE if echo else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=self.pass_fds,
        )
        if echo:
            threading.Thread(target=_pump_output, args=(self,), daemon=True).start()

    def may_restart(self, now: float) -> bool:
        self.restarts = [when for when in self.restarts if now - when < RESTART_WINDOW_SECONDS]
        return len(self.restarts) < RESTARTS_ALLOWED


def supervise(
    children: list[Child], stopping: threading.Event, *, parent: int | None = None, echo: bool = True
) -> int:
    """Keep the children running until asked to stop; the exit code for the group."""
    while not stopping.is_set():
        if parent is not None and os.getppid() != parent:
            # Whoever started us (make, a terminal) is gone: a SIGTERM to `make run`
            # must not leave the servers running.
            print("The parent process is gone; stopping.", file=sys.stderr)
            return 0
        for child in children:
            if child.process is None or child.process.poll() is None:
                continue
            code = child.process.returncode
            now = time.monotonic()
            if not child.may_restart(now):
                print(
                    f"{child.name} exited with {code} {RESTARTS_ALLOWED} times within "
                    f"{RESTART_WINDOW_SECONDS:.0f} s; stopping the group.",
                    file=sys.stderr,
                )
                return 1
            print(f"{child.name} exited with {code}; starting it again.", file=sys.stderr, flush=True)
            _metrics_process_gone(child.process.pid)
            child.restarts.append(now)
            child.start(echo=echo)
        stopping.wait(0.5)
    return 0


def _metrics_directory() -> None:
    """One directory for every child's Prometheus numbers, emptied: a run counts from zero."""
    directory = Path(
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(embedded.var_dir() / "prometheus"))
    )
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def _metrics_process_gone(pid: int) -> None:
    """A dead process's gauges leave the sums (its counters stay: they happened)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:  # unset when supervise() runs without main() (tests)
        multiprocess.mark_process_dead(pid, directory)


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True, cwd=embedded.BASE_DIR)  # noqa: S603


def web_listener(host: str, port: int) -> socket.socket:
    """The web servers' one listening socket (IPv4: daphne adopts a descriptor as AF_INET).
    OSError when the address is taken."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(LISTEN_BACKLOG)
    except OSError:
        listener.close()
        raise
    return listener


def web_children(listener: socket.socket, count: int) -> list[Child]:
    """`count` web servers serving the one socket; each is restarted on its own."""
    fd = listener.fileno()
    argv = [sys.executable, "-m", "tavern.http_server", "--fd", str(fd), "tavern.asgi:application"]
    if count == 1:
        return [Child("web", argv, pass_fds=(fd,))]
    return [Child(f"web-{number}", argv, pass_fds=(fd,)) for number in range(1, count + 1)]


def _children(listener: socket.socket, web_workers: int) -> list[Child]:
    var = embedded.var_dir()
    celery = [sys.executable, "-m", "celery", "-A", "tavern"]
    return [
        *web_children(listener, web_workers),
        # Every queue (CELERY_TASK_QUEUES) by default; production runs one per queue (README).
        Child("worker", [*celery, "worker", "--loglevel=INFO", "--concurrency=2", "--hostname=worker@%h"]),
        Child(
            "beat",
            [
                *celery,
                "beat",
                "--loglevel=INFO",
                f"--pidfile={var / 'celerybeat.pid'}",
                "--scheduler=django_celery_beat.schedulers:DatabaseScheduler",
            ],
        ),
    ]


def _web_processes(count: int) -> str:
    return "1 web process" if count == 1 else f"{count} web processes sharing the port"


def _pump_output(child: Child) -> None:
    """Prefix each line with the child's name, like foreman."""
    assert child.process is not None and child.process.stdout is not None
    for raw in child.process.stdout:
        sys.stdout.write(f"{child.name:>6} | {raw.decode(errors='replace')}")
        sys.stdout.flush()


def _wait_ready(url: str, children: list[Child]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if any(c.process is not None and c.process.poll() is not None for c in children):
            return False
        try:
            with urllib.request.urlopen(f"{url}readyz", timeout=3) as response:  # noqa: S310 - our own loopback URL
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def _stop_children(children: list[Child]) -> None:
    """SIGTERM to each child's own process, not its group: a Celery worker then finishes
    the jobs its pool processes are running (a warm shutdown) instead of having them
    killed under it. Whatever is left of a group once its child is gone, or when the
    child outlives the grace period, is killed."""
    running = [c for c in children if c.process is not None and c.process.poll() is None]
    for child in running:
        assert child.process is not None
        child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in running:
        assert child.process is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signal.SIGKILL)
        child.process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--web-workers",
        type=int,
        default=int(os.environ.get("WEB_WORKERS") or "1"),
        help="web server processes sharing the port (default: WEB_WORKERS, else 1)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tavern.settings.local")
    os.environ.setdefault("DEBUG", "1")
    if args.web_workers < 1:
        print("WEB_WORKERS must be 1 or more.", file=sys.stderr)
        return 1
    if ":" in args.host:
        print("make run listens on an IPv4 address (HOST, e.g. 127.0.0.1 or 0.0.0.0).", file=sys.stderr)
        return 1

    try:
        listener = web_listener(args.host, args.port)
    except OSError as error:
        print(
            f"Port {args.port} on {args.host} cannot be used ({error.strerror}). "
            "Stop what uses it, or run: PORT=8001 make run",
            file=sys.stderr,
        )
        return 1

    _metrics_directory()
    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, request_stop)

    started: list[str] = []
    children = _children(listener, args.web_workers)
    try:
        started = embedded.start_needed()
        print(f"Embedded services: {', '.join(started) or 'already running or external'}")
        _manage("migrate", "--noinput")
        _manage("seed_demo")
        for child in children:
            child.start()

        url = f"http://{args.host}:{args.port}/"
        if _wait_ready(url, children):
            print(
                "\n"
                f"  Tavern is running at {url} ({_web_processes(args.web_workers)})\n"
                "  Demo login:  demo / tavern-demo\n"
                "  Admin login: admin / tavern-admin   (back office at /admin/)\n"
                "  Press Ctrl-C to stop everything.\n",
                flush=True,
            )
        elif not stopping.is_set():
            print("Tavern did not become ready; see the log above. Stopping.", file=sys.stderr)
            return 1

        return supervise(children, stopping, parent=os.getppid())
    except subprocess.CalledProcessError as error:
        print(f"Set-up step failed: {' '.join(map(str, error.cmd))}", file=sys.stderr)
        return 1
    finally:
        print("Stopping Tavern…", flush=True)
        _stop_children(children)
        listener.close()
        embedded.stop(started)
        print("Stopped.", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
