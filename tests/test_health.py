"""The health endpoints (issue 16): /health/live answers whenever the process does; /health/ready only when the
database answers and its schema is at this release's Alembic head, else 503 with a reason and Retry-After, never a
500. Both are open, name no one, cost (almost) nothing, never read or touch a session, and keep the security
headers. On both databases."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import create_engine, event, func, select, text

from portal.cli import alembic_config, upgrade_database
from portal.db import utcnow
from portal.health import BEHIND_HEAD, NOT_MIGRATED, UNKNOWN_REVISION, UNREACHABLE, head_revisions
from portal.logs import QuietHealthChecks
from portal.models import UserSession
from tests.conftest import free_port, make_app
from tests.factories import create_user

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


@contextmanager
def statements(app):
    """Every SQL statement the app's engine runs inside the block."""
    seen: list[str] = []
    engine = app.extensions["portal_db"][0]

    def _record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _record)


def assert_not_ready(response, reason: str) -> None:
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.json["status"] == "unavailable"
    assert response.json["reason"] == reason
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "no-store"
    assert "Traceback" not in response.get_data(as_text=True)


# ------------------------------------------------------------------------------------------------- live

def test_live_answers_without_the_database(app, client):
    with statements(app) as seen:
        response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert seen == [], "the live check runs no query"
    assert all(header in response.headers for header in SECURITY_HEADERS)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert client.head("/health/live").status_code == 200
    assert client.post("/health/live").status_code == 405


def test_live_answers_even_when_the_database_is_unreachable(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.sqlite3'}")
    assert app.test_client().get("/health/live").json == {"status": "ok"}


# ------------------------------------------------------------------------------------------------ ready

def test_ready_at_head(app, client, database_url):
    with statements(app) as seen:
        response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "database": "sqlite" if database_url.startswith("sqlite") else
                             "postgresql", "revision": ",".join(head_revisions())}
    queries = [s.strip().upper() for s in seen if s.strip().upper() not in ("BEGIN", "ROLLBACK")]
    # Does the table exist, which revision (and PostgreSQL's pool ping): reads only.
    assert len(queries) <= 3 and all(q.startswith(("SELECT", "PRAGMA")) for q in queries), queries
    assert all(header in response.headers for header in SECURITY_HEADERS)
    assert "Set-Cookie" not in response.headers


def test_ready_is_503_when_the_schema_is_one_step_behind_head(empty_database_url, caplog):
    upgrade_database(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "-1")
    app = make_app(empty_database_url)
    with caplog.at_level(logging.WARNING, logger="portal.health"):
        response = app.test_client().get("/health/ready")
    assert_not_ready(response, BEHIND_HEAD)
    assert "flask db upgrade" in response.json["reason"]
    assert any("behind" in record.getMessage() for record in caplog.records), "a failed check is logged"
    upgrade_database(empty_database_url)
    assert app.test_client().get("/health/ready").status_code == 200, "ready again once migrated"
    app.extensions["portal_db"][0].dispose()


def test_ready_is_503_on_a_database_never_migrated(empty_database_url):
    if empty_database_url.startswith("sqlite"):
        open(empty_database_url.removeprefix("sqlite:///"), "wb").close()
    app = make_app(empty_database_url)
    assert_not_ready(app.test_client().get("/health/ready"), NOT_MIGRATED)
    app.extensions["portal_db"][0].dispose()


def test_ready_is_503_when_a_newer_release_migrated_the_database(empty_database_url):
    """The schema is at a revision this release has never heard of (an older release still running after a newer
    one migrated): not ready, and it says why."""
    upgrade_database(empty_database_url)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    app = make_app(empty_database_url)
    assert_not_ready(app.test_client().get("/health/ready"), UNKNOWN_REVISION)
    app.extensions["portal_db"][0].dispose()


def test_ready_is_503_when_the_database_is_unreachable(database_url, tmp_path, caplog):
    if database_url.startswith("sqlite"):
        unreachable = f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.sqlite3'}"
    else:
        unreachable = f"postgresql+psycopg://portal:not-the-password@127.0.0.1:{free_port()}/portal"
    app = make_app(unreachable)
    with caplog.at_level(logging.WARNING, logger="portal.health"):
        response = app.test_client().get("/health/ready")
    assert_not_ready(response, UNREACHABLE)
    body = response.get_data(as_text=True)
    assert "127.0.0.1" not in body and "not-the-password" not in body and "no-such-folder" not in body
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "OperationalError" in logged and "not-the-password" not in logged
    assert app.test_client().get("/health/live").status_code == 200, "the process itself is alive"


# ------------------------------------------------------------------------------------- cheap and sessionless

def test_health_checks_never_read_or_touch_a_session(app, client, auth, db_session):
    """A signed-in browser (or a proxy passing its cookie) asking for the checks keeps its session as it was: not
    touched (so a check keeps no one signed in), not ended even when it has expired, no new session made."""
    officer = create_user("officer")
    auth.sign_in(officer)
    record = db_session.scalar(select(UserSession).where(UserSession.user_id == officer.id))
    record.last_seen_at = utcnow() - timedelta(minutes=31)  # past the idle timeout
    db_session.commit()
    before = (record.last_seen_at, record.ended_at, db_session.scalar(select(func.count()).select_from(UserSession)))
    with statements(app) as seen:
        for path in ("/health/live", "/health/ready"):
            assert client.get(path).status_code == 200
    assert not [s for s in seen if "user_session" in s], "no session query"
    db_session.expire_all()
    record = db_session.get(UserSession, record.id)
    assert (record.last_seen_at, record.ended_at,
            db_session.scalar(select(func.count()).select_from(UserSession))) == before
    # The same cookie on a page: the session has expired, and the page says so (the check above could fail).
    assert client.get("/requests/").status_code == 302
    db_session.expire_all()
    assert db_session.get(UserSession, record.id).ended_at is not None


def test_health_checks_are_not_rate_limited(app, client):
    """A proxy and a container engine ask every few seconds from one address: every answer stays 200."""
    assert {client.get("/health/live").status_code for _ in range(300)} == {200}
    assert {client.get("/health/ready").status_code for _ in range(100)} == {200}


# ------------------------------------------------------------------------------------------- access log

def _access_record(path: str, status: str) -> logging.LogRecord:
    """An access-log record as gunicorn's glogging.Logger.access makes it: the format, with the atoms as args."""
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '"%(m)s %(U)s" %(s)s', (), None)
    record.args = {"m": "GET", "U": path, "s": status}
    return record


@pytest.mark.parametrize(("path", "status", "logged"), [
    ("/health/live", "200", False),
    ("/health/ready", "200", False),
    ("/health/ready", "503", True),  # a failing check is worth a line
    ("/requests", "200", True),
    ("/healthy-looking-page", "200", True),
])
def test_the_access_log_leaves_out_successful_health_checks(path, status, logged):
    assert QuietHealthChecks().filter(_access_record(path, status)) is logged
