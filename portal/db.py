"""Database engine, sessions and the declarative base.

SQLite is the embedded default (WAL, foreign keys on, busy timeout); PostgreSQL is production. The schema is
created only by Alembic migrations (migrations/). Whoever starts a unit of work commits it (STYLE.md habit 2):
views and CLI commands call `db.session.commit()`, services only add and flush.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from flask import Flask, g
from sqlalchemy import JSON, DateTime, MetaData, String, create_engine, event
from sqlalchemy.engine import Engine
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


def make_engine(url: str) -> Engine:
    """Create the engine with the per-database settings the portal relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - runs on connect
            # Foreign keys are off by default in SQLite; WAL lets readers and one writer work together.
            dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below manage transactions
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - runs per transaction
            # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers queue on the busy timeout
            # instead of failing at once when a read lock cannot be upgraded (SQLite's SQLITE_BUSY_SNAPSHOT).
            # Transactions are short; production runs on PostgreSQL, where this does not apply.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """Per-application engine and per-app-context session (like Flask-SQLAlchemy, without the magic)."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["portal_db"] = (engine, sessionmaker(bind=engine, expire_on_commit=False))

        @app.teardown_appcontext
        def _close_session(_exc):
            session = g.pop("_portal_session", None)
            if session is not None:
                session.close()

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
