"""`flask db backup` and `flask db restore` (issue 16), on both databases: the restore drill (a small world backed up,
restored into a fresh database, serving the same pages, with the audit trail still append-only), the refusals (a
database that is not empty, a backup that would overwrite a file, a file that is not a backup, pg_dump missing) and
a SQLite backup taken while another connection keeps writing."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from portal.cli import upgrade_database
from portal.db import db, utcnow
from portal.health import head_revisions
from portal.models import SignInAttempt, User
from tests.conftest import AuthActions, make_app, outside_test_app_context, postgres_only
from tests.factories import (
    create_offer,
    create_provider,
    create_referral,
    create_request,
    create_setting,
    create_user,
    create_vacancy,
)
from tests.pages import get_page

def flask_db(app, *args: str):
    """`flask db ...` against `app`'s database, as an operator runs it: in `app`'s own context, out of the one
    a test may hold for its factories (which may be another app's)."""
    with outside_test_app_context(), app.app_context():
        return app.test_cli_runner().invoke(args=["db", *args], catch_exceptions=False)


def small_world():
    """Coventry's officer with two children (one with a referral and an offer), a provider with a vacancy."""
    officer = create_user("officer", name="Olive Officer")
    provider = create_provider(name="Arden Fostering")
    setting = create_setting(provider, name="Willow household")
    vacancy = create_vacancy(setting)
    amara = create_request(officer)
    create_offer(create_referral(amara, provider), vacancy)
    create_request(officer, first_name="Jamal", last_name="Reid", age=9, sex="male")
    return officer, amara


def what_the_officer_reads(app, officer, request_id: str) -> dict:
    """The requests list and one request's page, as the officer reads them (the parts that do not depend on when
    they were read)."""
    client = app.test_client()
    AuthActions(client).sign_in(officer)
    listing = get_page(client, "/requests/")
    detail = get_page(client, f"/requests/{request_id}")
    return {
        "list": listing.table_rows(),
        "list headings": listing.headings,
        "h1": detail.h1,
        "headings": detail.headings,
        "summary": detail.summary(),
        "tables": [detail.table_rows(table) for table in detail.select("table")],
    }


def audit_ids(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        ids = list(conn.scalars(text("SELECT id FROM audit_event ORDER BY id")))
    engine.dispose()
    return ids


def assert_audit_is_append_only(url: str) -> None:
    engine = create_engine(url)
    for statement in ("UPDATE audit_event SET action = 'changed'", "DELETE FROM audit_event"):
        with engine.connect() as conn:
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(statement))
            conn.rollback()
    engine.dispose()


def test_the_restore_drill(app, db_session, empty_database_url, tmp_path):
    """Back up a small world, restore it into a fresh database: the restored copy serves the officer the same
    pages, holds the same audit trail, and its audit trail is still append-only."""
    officer, amara = small_world()
    before = what_the_officer_reads(app, officer, amara.id)
    assert "Amara Okafor" in before["h1"] and len(before["list"]) == 2
    original = app.config["DATABASE_URL"]
    trail = audit_ids(original)
    assert trail, "reading the pages was audited"

    started = time.monotonic()
    result = flask_db(app, "backup", str(tmp_path / "portal.backup"))
    assert result.exit_code == 0, result.output
    assert f"(revision {','.join(head_revisions())})" in result.output
    backup = tmp_path / "portal.backup"
    assert backup.stat().st_mode & 0o077 == 0, "the backup is readable by its owner only"
    assert not list(tmp_path.glob("*.partial"))

    restored = make_app(empty_database_url)
    result = flask_db(restored, "restore", str(backup))
    assert result.exit_code == 0, result.output
    seconds = time.monotonic() - started
    assert seconds < 60, f"backup and restore of a small world took {seconds:.1f} s"
    assert "flask db upgrade" not in result.output, "the backup is at this release's head"

    assert audit_ids(empty_database_url) == trail
    assert restored.test_client().get("/health/ready").status_code == 200
    after = what_the_officer_reads(restored, officer, amara.id)
    assert after == before
    assert_audit_is_append_only(empty_database_url)
    restored.extensions["portal_db"][0].dispose()


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(app, db_session, empty_database_url, tmp_path):
    officer, _amara = small_world()
    assert flask_db(app, "backup", str(tmp_path / "portal.backup")).exit_code == 0
    upgrade_database(empty_database_url)
    target = make_app(empty_database_url)
    with target.app_context():
        bystander = create_user("admin", email="already.here@example.test")
    result = flask_db(target, "restore", str(tmp_path / "portal.backup"))
    assert result.exit_code == 1
    assert "not empty" in result.output and "--force" in result.output and "Traceback" not in result.output
    with target.app_context():
        assert db.session.get(User, bystander.id) is not None, "nothing was changed"
        db.session.close()

    result = flask_db(target, "restore", "--force", str(tmp_path / "portal.backup"))
    assert result.exit_code == 0, result.output
    with target.app_context():
        assert db.session.get(User, bystander.id) is None, "the database is the backup's now"
        assert db.session.scalars(select(User.id)).all() == [officer.id]
        db.session.close()
    target.extensions["portal_db"][0].dispose()


@postgres_only
def test_a_forced_restore_refuses_tables_the_backup_does_not_have(app, db_session, empty_database_url, tmp_path):
    """pg_restore --clean drops only what the archive holds: a table from elsewhere would stay beside the restored
    schema, so the restore refuses, even with --force, and changes nothing."""
    assert flask_db(app, "backup", str(tmp_path / "portal.backup")).exit_code == 0
    upgrade_database(empty_database_url)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE stray (id integer)"))
    target = make_app(empty_database_url)
    result = flask_db(target, "restore", "--force", str(tmp_path / "portal.backup"))
    assert result.exit_code == 1 and "stray" in result.output
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM local_authority")) == 14
    engine.dispose()
    target.extensions["portal_db"][0].dispose()


def test_a_backup_never_overwrites_a_file(app, tmp_path):
    existing = tmp_path / "portal.backup"
    existing.write_bytes(b"last night's backup")
    result = flask_db(app, "backup", str(existing))
    assert result.exit_code == 1 and "already exists" in result.output
    assert existing.read_bytes() == b"last night's backup"
    result = flask_db(app, "backup", str(tmp_path / "no-such-folder" / "portal.backup"))
    assert result.exit_code == 1 and "not a folder" in result.output


def test_a_file_that_is_not_a_backup_is_refused(app, empty_database_url, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"not a database at all " * 100)
    target = make_app(empty_database_url)
    result = flask_db(target, "restore", str(junk))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "not a portal database" in result.output or "pg_restore failed" in result.output
    if empty_database_url.startswith("sqlite"):
        assert not Path(empty_database_url.removeprefix("sqlite:///")).exists(), "no database was made"
    target.extensions["portal_db"][0].dispose()


@postgres_only
def test_pg_dump_missing_is_a_clear_error(app, tmp_path):
    app.config["PG_BINDIR"] = str(tmp_path)  # a folder without the PostgreSQL client tools
    result = flask_db(app, "backup", str(tmp_path / "portal.backup"))
    assert result.exit_code == 1
    assert "pg_dump was not found" in result.output and "PORTAL_PG_BINDIR" in result.output
    assert list(tmp_path.iterdir()) == [], "no half-made backup is left"


def test_a_sqlite_backup_is_consistent_while_the_portal_writes(tmp_path, sqlite_template):
    """The online backup API copies one snapshot while another connection keeps writing (WAL)."""
    import shutil

    path = tmp_path / "live.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    stop = threading.Event()
    written = [0]

    def keep_writing():
        with app.app_context():
            while not stop.is_set():
                db.session.add(SignInAttempt(account_key="x" * 64, source_address="127.0.0.1", step="password",
                                             succeeded=False, at=utcnow()))
                db.session.commit()
                written[0] += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while written[0] < 20:
            time.sleep(0.01)
        result = flask_db(app, "backup", str(tmp_path / "live.backup"))
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(tmp_path / "live.backup")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete", "one self-contained file"
    copied = copy.execute("SELECT count(*) FROM sign_in_attempt").fetchone()[0]
    copy.close()
    assert 20 <= copied <= written[0]
    app.extensions["portal_db"][0].dispose()
