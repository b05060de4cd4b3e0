"""Backups and restores of the portal's database (issue 16): `flask db backup PATH` and `flask db restore PATH`.

- SQLite: the online backup API (`sqlite3.Connection.backup`), which copies a consistent snapshot while the portal
  keeps running (in WAL mode readers and the one writer carry on); the copy is checked (`PRAGMA integrity_check`)
  and made one self-contained file (rollback journal, no -wal beside it). A restore copies a checked backup over
  the database with the same API, in one step.
- PostgreSQL: `pg_dump --format=custom` with the configured URL (the password goes to pg_dump in PGPASSWORD, never
  on its command line), and `pg_restore --clean --if-exists --no-owner --no-acl --single-transaction
  --exit-on-error`: all or nothing, the restored objects owned by the configured role.

A backup never overwrites a file (choose a new name); it is written next to its final name and renamed when
complete, with mode 600: it holds children's special-category data. A restore refuses a database that has any table
unless `force`, and on PostgreSQL refuses even then a database with tables the backup does not have (a restore would
leave them beside the restored schema).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from portal.db import make_engine
from portal.health import head_revisions


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Outcome:
    """What a backup or restore did, for the command to report."""

    dialect: str
    path: Path
    revision: str
    size_bytes: int
    seconds: float

    @property
    def behind_head(self) -> bool:
        return set(self.revision.split(",")) != set(head_revisions())


# ------------------------------------------------------------------------------------------------- backup

def backup(database_url: str, path: str | Path, *, pg_bindir: str | None = None) -> Outcome:
    """Back up the database at `database_url` to the new file `path` (see the module's docstring)."""
    started = time.monotonic()
    url, target = make_url(database_url), Path(path)
    if target.exists():
        raise BackupError(f"{target} already exists: a backup never overwrites a file, choose a new name")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder")
    partial = target.with_name(target.name + ".partial")
    _create_private(partial)
    try:
        if url.get_backend_name() == "sqlite":
            revision = _sqlite_backup(_sqlite_path(url), partial)
        elif url.get_backend_name() == "postgresql":
            revision = _postgres_backup(url, partial, pg_bindir)
        else:
            raise BackupError(f"cannot back up a {url.get_backend_name()} database")
        _fsync(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(url.get_backend_name(), target, revision, target.stat().st_size, time.monotonic() - started)


def _sqlite_backup(source_path: Path, partial: Path) -> str:
    if not source_path.is_file():
        raise BackupError(f"there is no SQLite database at {source_path}")
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)  # every page in one step: a consistent snapshot, while others read and write
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        return _check_sqlite(copy, str(source_path))
    finally:
        copy.close()
        source.close()


def _postgres_backup(url: URL, partial: Path, pg_bindir: str | None) -> str:
    revision = _revision(url.render_as_string(hide_password=False))
    _run_pg_tool(pg_bindir, "pg_dump", url, ["--format=custom", "--no-password", f"--file={partial}"])
    _run_pg_tool(pg_bindir, "pg_restore", None, ["--list", str(partial)])  # the archive reads back
    return revision


# ------------------------------------------------------------------------------------------------ restore

def restore(database_url: str, path: str | Path, *, force: bool = False, pg_bindir: str | None = None) -> Outcome:
    """Restore the backup `path` into the database at `database_url` (see the module's docstring)."""
    started = time.monotonic()
    url, source = make_url(database_url), Path(path)
    if not source.is_file():
        raise BackupError(f"there is no backup at {source}")
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot restore into a {backend} database")
    existing = set(_tables(database_url))
    if existing and not force:
        raise BackupError(f"the database is not empty ({len(existing)} tables): restoring replaces everything in it. "
                          "Restore into a new, empty database, or add --force to replace this one")
    if backend == "sqlite":
        revision = _sqlite_restore(source, _sqlite_path(url))
    else:
        extra = existing - _archive_tables(pg_bindir, source)
        if extra:
            raise BackupError(f"the database has tables the backup does not ({', '.join(sorted(extra))}): a restore "
                              "would leave them beside the restored schema. Restore into a new, empty database")
        _run_pg_tool(pg_bindir, "pg_restore", url, ["--clean", "--if-exists", "--no-owner", "--no-acl",
                                                    "--single-transaction", "--exit-on-error", "--no-password",
                                                    str(source)])
        revision = _revision(database_url)
    return Outcome(backend, source, revision, source.stat().st_size, time.monotonic() - started)


def _sqlite_restore(source_path: Path, target_path: Path) -> str:
    try:
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"{source_path} cannot be opened: {error}") from None
    try:
        revision = _check_sqlite(source, str(source_path))
        target_path.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(target_path, timeout=30)
        try:
            source.backup(target)  # replaces every page of the target in one step
            target.execute("PRAGMA journal_mode=WAL")  # as the portal runs it (portal.db)
        finally:
            target.close()
    finally:
        source.close()
    return revision


# ------------------------------------------------------------------------------------------------ helpers

def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _check_sqlite(connection: sqlite3.Connection, name: str) -> str:
    """The Alembic revision of a SQLite copy, once it is known to be a whole, readable portal database."""
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"{name} failed SQLite's integrity check: {result}")
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{name} is not a portal database ({error})") from None
    if not rows:
        raise BackupError(f"{name} is not a migrated portal database (no Alembic revision)")
    return ",".join(sorted(row[0] for row in rows))


def _tables(database_url: str) -> list[str]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not _sqlite_path(url).exists():
        return []  # connecting would create the file
    engine = make_engine(database_url)
    try:
        return inspect(engine).get_table_names()
    except Exception as error:  # noqa: BLE001 - say which database, never a traceback
        raise BackupError(f"cannot reach the database to restore into ({type(error).__name__})") from None
    finally:
        engine.dispose()


def _revision(database_url: str) -> str:
    from portal.health import schema_status

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return ",".join(schema_status(connection).current) or "none"
    except Exception as error:  # noqa: BLE001
        raise BackupError(f"cannot reach the database ({type(error).__name__})") from None
    finally:
        engine.dispose()


_ARCHIVE_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ")


def _archive_tables(pg_bindir: str | None, archive: Path) -> set[str]:
    """The tables a pg_dump custom-format archive holds (its table of contents)."""
    listing = _run_pg_tool(pg_bindir, "pg_restore", None, ["--list", str(archive)])
    return {match.group(2) for line in listing.splitlines() if (match := _ARCHIVE_TABLE.match(line))}


def _run_pg_tool(pg_bindir: str | None, tool: str, url: URL | None, args: list[str]) -> str:
    """Run pg_dump or pg_restore against `url` (its password in PGPASSWORD); its output, or a BackupError."""
    executable = shutil.which(tool, path=pg_bindir) if pg_bindir else shutil.which(tool)
    if executable is None:
        where = f"in {pg_bindir} (PORTAL_PG_BINDIR)" if pg_bindir else "on the PATH"
        raise BackupError(f"{tool} was not found {where}. Install the PostgreSQL client tools of the server's major "
                          "version or newer (Debian: apt-get install postgresql-client), or set PORTAL_PG_BINDIR to "
                          "the folder that holds them")
    env = dict(os.environ)
    command = [executable, *args]
    if url is not None:
        if url.password:
            env["PGPASSWORD"] = str(url.password)
        conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
        command.insert(1, f"--dbname={conninfo}")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = " ".join(result.stderr.strip().splitlines()[-3:]) or f"exit status {result.returncode}"
        raise BackupError(f"{tool} failed: {detail}")
    return result.stdout


def _create_private(path: Path) -> None:
    """Make the empty file a backup is written into, readable by its owner only (it holds children's data)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise BackupError(f"{path} exists: another backup to this name is running, or one was interrupted "
                          "(remove it)") from None


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
