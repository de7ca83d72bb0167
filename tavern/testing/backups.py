"""Databases and archives for the backup tests (tavern/tests/test_backup_*.py)."""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from psycopg import sql

from tavern.backups import Database, database_from_alias


@contextmanager
def database_fresh() -> Iterator[Database]:
    """A new, empty database on the test server (no extensions), dropped afterwards."""
    server = database_from_alias("default")
    name = f"tavern_restore_{uuid.uuid4().hex[:12]}"
    maintenance = Database({**server.params, "dbname": "postgres"})
    with maintenance.connect() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield Database({**server.params, "dbname": name})
    finally:
        with maintenance.connect() as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def database_url(database: Database) -> str:
    """postgres://user:password@host:port/name, a socket folder as the host percent-encoded."""
    params = database.params
    password = f":{quote(params['password'], safe='')}" if params.get("password") else ""
    host = quote(params.get("host", "localhost"), safe="")
    return f"postgres://{quote(params.get('user', ''), safe='')}{password}@{host}:{params.get('port', '5432')}/{params['dbname']}"


def archive_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {
            member.name: tar.extractfile(member).read()  # type: ignore[union-attr]
            for member in tar.getmembers()
            if member.isfile()
        }


def archive_write(path: Path, members: dict[str, bytes], *, symlinks: dict[str, str] | None = None) -> Path:
    """A tar holding `members` (name -> bytes) in that order, and `symlinks` (name -> target)."""
    with tarfile.open(path, mode="w:") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return path


def manifest_edit(members: dict[str, bytes], **changes: object) -> dict[str, bytes]:
    manifest = json.loads(members["manifest.json"])
    manifest.update(changes)
    return {**members, "manifest.json": json.dumps(manifest).encode()}
