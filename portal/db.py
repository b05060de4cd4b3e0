"""Database engine, sessions and the declarative base.

SQLite is the embedded default (WAL, foreign keys on, busy timeout); PostgreSQL is production. The schema is
created only by Alembic migrations (migrations/). Whoever starts a unit of work commits it (STYLE.md habit 2):
views and CLI commands write only inside `portal.unit_of_work.unit_of_work()`, services only add and flush.

Transactions on SQLite: a request that only reads begins a deferred transaction (`BEGIN`), so in WAL mode it
never waits for a writer. Only a unit of work begins `BEGIN IMMEDIATE`: it takes the write lock up front, so
concurrent writers queue on the busy timeout instead of failing when a read lock cannot be upgraded
(SQLITE_BUSY_SNAPSHOT); past the timeout the request is answered 503 with Retry-After (`DatabaseBusy`).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from flask import Flask, g
from sqlalchemy import JSON, DateTime, MetaData, String, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    """Opaque random id for records that appear in URLs (DESIGN.md §5: ids reveal nothing)."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use portal.db.utcnow()")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict: JSON(), list: JSON()}


class IdMixin:
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# True while a unit of work runs in this thread: the next SQLite transaction takes the write lock at BEGIN.
_writing: ContextVar[bool] = ContextVar("portal_writing", default=False)
# When the current web request must stop issuing statements (time.monotonic()); None outside requests.
_deadline: ContextVar[float | None] = ContextVar("portal_deadline", default=None)
# PostgreSQL SQLSTATEs of a transaction that can simply be tried again: deadlock, serialization failure.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
# PostgreSQL SQLSTATEs that mean the server ended the connection: the connection exceptions (class 08) seen on a
# statement, and operator intervention: admin_shutdown, crash_shutdown, cannot_connect_now (starting or stopping).
DISCONNECT_SQLSTATES = {"08000", "08003", "08006", "08001", "08004", "57P01", "57P02", "57P03"}


class DatabaseBusy(Exception):
    """The database could not be reached or locked in time; nothing was saved. Answered 503 with Retry-After."""


class RequestDeadline(DatabaseBusy):
    """The web request ran past its deadline (REQUEST_DEADLINE_SECONDS) and was stopped before its next statement;
    nothing it began is saved. Answered 503 with Retry-After, like any other busy database."""


class RetryTransaction(Exception):
    """The transaction lost a deadlock or a serialization check; it was rolled back and may be run again."""


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a PostgreSQL error (None on SQLite or for other errors)."""
    orig = getattr(error, "orig", error)
    return getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and sqlstate(error) in RETRYABLE_SQLSTATES


def is_busy(error: BaseException) -> bool:
    """SQLite's lock wait ran out, or PostgreSQL's connection went away: try again shortly."""
    if not isinstance(error, DBAPIError):
        return False
    orig = error.orig
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig).lower()
        return "database is locked" in text or "database is busy" in text
    if error.connection_invalidated:
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(orig, psycopg.OperationalError) and sqlstate(error) not in RETRYABLE_SQLSTATES


def _check_deadline(*_args) -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise RequestDeadline("the request ran past its deadline")


def make_engine(url: str, *, busy_timeout_ms: int = 15000, connect_timeout_s: int = 10,
                statement_timeout_ms: int = 0) -> Engine:
    """Create the engine with the per-database settings the portal relies on.

    `hide_parameters=True`: a statement's parameters (a child's name, a postcode) never appear in an error's
    message or in SQLAlchemy's own log; no `echo` (issue 15 §7). On PostgreSQL a connection attempt gives up after
    `connect_timeout_s` (libpq waits for ever by default), so an unreachable database is a prompt 503 and a failed
    readiness check rather than a hung worker; a `connect_timeout` in the URL wins. On PostgreSQL every session
    has `statement_timeout_ms` as its statement_timeout (0: none; `options` in the URL win), so the server cancels
    a statement that runs too long (SQLSTATE 57014, answered 503). Before every statement of a web request the
    request's deadline is checked (`RequestDeadline`)."""
    engine = _make_engine(url, busy_timeout_ms=busy_timeout_ms, connect_timeout_s=connect_timeout_s,
                          statement_timeout_ms=statement_timeout_ms)
    event.listen(engine, "before_cursor_execute", _check_deadline)
    return engine


def _make_engine(url: str, *, busy_timeout_ms: int, connect_timeout_s: int, statement_timeout_ms: int) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True,
                               connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - runs on connect
            # Foreign keys are off by default in SQLite; WAL lets readers and one writer work together.
            dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below manage transactions
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - runs per transaction
            # Readers begin deferred and never wait for a writer (WAL). A unit of work begins IMMEDIATE: it takes
            # the write lock up front, so concurrent writers queue on the busy timeout instead of failing at once
            # when a read lock cannot be upgraded (SQLite's SQLITE_BUSY_SNAPSHOT).
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _writing.get() else "BEGIN")

        return engine
    query = make_url(url).query
    connect_args = {} if "connect_timeout" in query else {"connect_timeout": connect_timeout_s}
    if statement_timeout_ms > 0 and "options" not in query:
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    engine = create_engine(url, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=10,
                           connect_args=connect_args)

    @event.listens_for(engine, "handle_error")
    def _server_went_away(context):  # pragma: no cover - runs when PostgreSQL goes away under a statement
        # A restart or failover ends each connection with an error result (57P01 admin_shutdown and its kin)
        # before the socket closes, and the driver does not yet see the connection as broken. Call it a
        # disconnect: SQLAlchemy then drops the connection and every one pooled before it (they are all dead),
        # and pre-ping replaces them on the next checkout, so the pool recovers by itself.
        if sqlstate(context.original_exception) in DISCONNECT_SQLSTATES:
            context.is_disconnect = True

    return engine


class Database:
    """Per-application engine and per-app-context session (like Flask-SQLAlchemy, without the magic)."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], busy_timeout_ms=app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000),
                             connect_timeout_s=app.config.get("DB_CONNECT_TIMEOUT_SECONDS", 10),
                             statement_timeout_ms=app.config.get("DB_STATEMENT_TIMEOUT_MS", 0))
        app.extensions["portal_db"] = (engine, sessionmaker(bind=engine, expire_on_commit=False))

        @app.before_request
        def _start_deadline():
            seconds = app.config.get("REQUEST_DEADLINE_SECONDS") or 0
            g._portal_deadline = _deadline.set(time.monotonic() + seconds if seconds > 0 else None)

        @app.teardown_request
        def _end_deadline(_exc):
            token = g.pop("_portal_deadline", None)
            if token is not None:
                _deadline.set(None)  # the teardown's own statements (closing the session) are not cut off

        @app.teardown_appcontext
        def _close_session(_exc):
            session = g.pop("_portal_session", None)
            if session is not None:
                try:
                    session.close()
                except DBAPIError:  # the connection died under the request (already answered): drop it
                    session.invalidate()

    def begin_write(self) -> None:
        """Start the unit of work's write transaction: end the read transaction the request may have open (its
        objects stay loaded), and make the next transaction take SQLite's write lock at BEGIN."""
        session = self.session
        if session.in_transaction():
            session.commit()
        _writing.set(True)

    def rollback_quietly(self) -> None:
        """Roll the request's session back. On a connection that has just died that can fail too, and whatever
        answers next (an error page, a retry) must not: the dead connection is dropped instead."""
        try:
            self.session.rollback()
        except DBAPIError:
            self.session.invalidate()

    def lift_deadline(self) -> None:
        """Let the rest of this request (its error page) run statements after its deadline has passed."""
        _deadline.set(None)

    def end_write(self) -> None:
        _writing.set(False)

    @property
    def writing(self) -> bool:
        return _writing.get()

    @property
    def engine(self) -> Engine:
        from flask import current_app

        return current_app.extensions["portal_db"][0]

    @property
    def session(self) -> Session:
        from flask import current_app

        if "_portal_session" not in g:
            g._portal_session = current_app.extensions["portal_db"][1]()
        return g._portal_session


db = Database()


def advisory_lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock's name (PostgreSQL advisory locks are keyed by a bigint)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """Hold the database-wide lock `name` for the block if no one else does: yields True when this process holds
    it, False at once when another process (on any host) does; the caller then does nothing (DESIGN.md §3: job
    locks live in the database, the daily allocation runs once across hosts).

    PostgreSQL: `pg_try_advisory_lock`, session-level, on a connection of its own that holds no transaction open
    while the block runs; released when the block ends, and by the server if the process dies (a crashed job never
    leaves it held). SQLite: always True. A SQLite portal is one host, and the lock is not needed there."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = advisory_lock_key(name)
    with engine.connect() as connection:
        held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
