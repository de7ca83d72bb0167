"""Loading a dump into a database, all of it or none of it.

pg_restore (--clean --if-exists --no-owner --no-privileges) writes the SQL, and psql runs
it in one transaction after a prologue that drops the tables the backup does not have
(those of migrations newer than the backup, which `migrate` would otherwise trip over).
Python relays pg_restore's output to psql, so a pg_restore that fails half-way has psql
killed before it reaches the end of its input: the server rolls the transaction back and
the database is as it was. Extensions are created first, as the restoring role can; their
own entries are left out of the dump's list, so a restore never drops one."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
from django.contrib.auth import get_user_model
from psycopg import sql

from .errors import BackupError
from .postgres import Database, tool_complaint, tool_path, tool_run
from .sizes import count_text

# A line of `pg_restore --list`: "215; 1259 16386 TABLE public accounts_user postgres".
_TOC_ENTRY = re.compile(r"^\d+; \d+ \d+ (?P<what>.*)$")
_TABLES = """
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
    ORDER BY 1, 2
"""


@dataclass(frozen=True)
class DatabaseContents:
    tables: list[tuple[str, str]]  # (schema, name), extensions' own left out
    tables_with_rows: int
    users: int

    @property
    def empty(self) -> bool:
        return not self.tables

    def describe(self) -> str:
        return f"{len(self.tables)} tables ({self.tables_with_rows} holding rows), {count_text(self.users, 'user')}"


def database_contents(database: Database) -> DatabaseContents:
    users_table = get_user_model()._meta.db_table
    with database.connect() as connection:
        tables = [(str(schema), str(name)) for schema, name in connection.execute(_TABLES)]
        with_rows = users = 0
        for schema, name in tables:
            table = sql.Identifier(schema, name)
            # EXISTS, not count(*): a cheap look even at a table of millions of messages.
            query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(table)
            with_rows += bool(_scalar(connection, query))
            if name == users_table:
                users = int(_scalar(connection, sql.SQL("SELECT count(*) FROM {}").format(table)))
    return DatabaseContents(tables=tables, tables_with_rows=with_rows, users=users)


def database_load(
    *, database: Database, dump: Path, extensions: list[dict[str, str]], contents: DatabaseContents
) -> list[str]:
    """Replace `database`'s contents with `dump`'s. Returns the tables dropped because the
    backup does not have them."""
    _extensions_create(database, extensions)
    entries, dump_tables = _toc_without_extensions(
        tool_run("pg_restore", ["--list", str(dump)], database=database)
    )
    schemas = {schema for schema, _name in dump_tables}
    extra = [
        (schema, name)
        for schema, name in contents.tables
        if schema in schemas and (schema, name) not in dump_tables
    ]
    with tempfile.TemporaryDirectory(prefix="tavern-restore-") as folder:
        entries_path, prologue_path = Path(folder) / "restore.list", Path(folder) / "prologue.sql"
        entries_path.write_text(entries)
        prologue_path.write_text(
            "".join(
                f"DROP TABLE IF EXISTS {_quoted(schema)}.{_quoted(name)} CASCADE;\n" for schema, name in extra
            )
        )
        _restore_in_one_transaction(database, dump=dump, entries=entries_path, prologue=prologue_path)
    return [f"{schema}.{name}" for schema, name in extra]


def _extensions_create(database: Database, extensions: list[dict[str, str]]) -> None:
    with database.connect() as connection:
        for extension in extensions:
            statement = sql.SQL("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}").format(
                sql.Identifier(extension["name"]), sql.Identifier(extension["schema"])
            )
            try:
                connection.execute(statement)
            except psycopg.Error as error:
                raise BackupError(
                    f'the database {database.describe()} lacks the extension "{extension["name"]}" and this '
                    f"role cannot create it ({str(error).strip()}). Have an administrator run "
                    f"CREATE EXTENSION {extension['name']}; in that database, then restore again."
                ) from error


def _toc_without_extensions(toc: str) -> tuple[str, set[tuple[str, str]]]:
    """The dump's list with its extension entries commented out, and the tables it holds."""
    lines, tables = [], set()
    for line in toc.splitlines():
        entry = _TOC_ENTRY.match(line)
        what = entry.group("what") if entry else ""
        if what.startswith(("EXTENSION ", "COMMENT - EXTENSION ")):
            line = f";{line}"
        elif what.startswith("TABLE ") and not what.startswith("TABLE DATA "):
            # Django's table names hold no spaces, so the words are schema, name, owner.
            _kind, schema, name, *_owner = what.split(" ")
            tables.add((schema, name))
        lines.append(line)
    return "\n".join(lines) + "\n", tables


def _restore_in_one_transaction(database: Database, *, dump: Path, entries: Path, prologue: Path) -> None:
    environment = database.environment()
    pg_restore = [
        *(tool_path("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges"),
        *(f"--use-list={entries}", "--file=-", str(dump)),
    ]
    psql = [
        *(tool_path("psql"), "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1"),
        *("--single-transaction", f"--file={prologue}", "--file=-"),
    ]
    with tempfile.TemporaryFile() as producer_errors, tempfile.TemporaryFile() as consumer_errors:
        producer = subprocess.Popen(  # noqa: S603 - PostgreSQL's programs, no shell
            pg_restore, stdout=subprocess.PIPE, stderr=producer_errors, env=environment
        )
        consumer = subprocess.Popen(  # noqa: S603
            psql, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=consumer_errors, env=environment
        )
        try:
            relayed = _relay(producer.stdout, consumer.stdin)  # type: ignore[arg-type]
            if not relayed:  # psql stopped reading: it met an error and rolled back
                producer.kill()
            if producer.wait() != 0 and relayed:
                consumer.kill()  # before its input ends, so it never commits
                consumer.wait()
                raise BackupError(f"pg_restore failed; nothing was changed: {_complaint(producer_errors)}")
            _close(consumer.stdin)
            if consumer.wait() != 0:
                raise BackupError(f"the restore failed; nothing was changed: {_complaint(consumer_errors)}")
        except BaseException:
            for process in (producer, consumer):
                if process.poll() is None:
                    process.kill()
                    process.wait()
            raise
        finally:
            producer.stdout.close()  # type: ignore[union-attr]


def _relay(source: IO[bytes], sink: IO[bytes]) -> bool:
    """Copy until `source` ends (True) or `sink` is closed by its reader (False)."""
    try:
        shutil.copyfileobj(source, sink, 1024 * 1024)
    except BrokenPipeError:
        return False
    return True


def _close(stream: IO[bytes] | None) -> None:
    try:
        if stream is not None:
            stream.close()
    except BrokenPipeError:
        pass  # psql is gone already; its exit status says why


def _complaint(stream: IO[bytes]) -> str:
    stream.seek(0)
    return tool_complaint(stream.read().decode(errors="replace"))


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _scalar(connection: psycopg.Connection[Any], query: sql.Composable) -> Any:
    row = connection.execute(query).fetchone()
    return row[0] if row else None
