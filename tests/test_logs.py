"""Logs without personal data, and a request id to find them by (issue 15 §7): the X-Request-Id header, the id on
every log record and on the 500 page; error logs with the exception's type and frames but never its message; no
statement parameters in any SQLAlchemy message."""

from __future__ import annotations

import logging
import re
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError

from portal.logs import PortalFormatter, RequestIdFilter, safe_traceback
from portal.models import PlacementRequest, User
from tests.factories import create_user
from tests.pages import Page

SECRET = "Zqxsecretname Okafor"


def _boom_app(app):
    def boom():
        marker = SECRET  # a local variable holding personal data: it must not reach the log
        raise ValueError(f"could not place {marker} born 2013-07-19")

    app.add_url_rule("/boom", "boom", boom)
    return app


def test_every_response_carries_a_request_id(client, db_session):
    first, second = client.get("/sign-in"), client.get("/sign-in")
    ids = [first.headers["X-Request-Id"], second.headers["X-Request-Id"]]
    assert all(re.fullmatch(r"[0-9a-f]{16}", value) for value in ids) and ids[0] != ids[1]
    assert client.get("/no-such-page").headers["X-Request-Id"]


@pytest.mark.parametrize("incoming, kept", [
    ("abc-123_XYZ", True), ("a" * 64, True), ("a" * 65, False), ("", False), ("has space", False),
    ("semi;colon", False), ("a/b", False), ("é", False),
])
def test_a_sane_incoming_request_id_is_kept_and_anything_else_replaced(client, db_session, incoming, kept):
    response = client.get("/sign-in", headers={"X-Request-Id": incoming})
    returned = response.headers["X-Request-Id"]
    assert (returned == incoming) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{16}", returned)


def test_an_unexpected_error_is_a_500_with_a_reference_and_a_log_line_without_the_message(app, client, caplog):
    _boom_app(app)
    caplog.set_level(logging.DEBUG)
    response = client.get("/boom?name=Zqxquery", headers={"X-Request-Id": "ref-42"})
    assert response.status_code == 500
    page = Page(response.get_data(as_text=True))
    assert page.testid("reference") == "ref-42"
    assert "quote this reference: ref-42" in page.text
    [record] = [r for r in caplog.records if r.name == "portal" and r.levelno == logging.ERROR]
    logged = caplog.text
    assert "builtins.ValueError" in logged and "boom" in logged and "(request ref-42)" in logged
    assert 'raise ValueError(f"could not place {marker} born 2013-07-19")' in logged  # the line of code, not values
    # Neither the message (the child's name the local variable held) nor the query string.
    assert "Zqxsecretname" not in logged and "Zqxquery" not in logged and "name=" not in logged
    assert record.exc_info is None  # so no handler anywhere can format the exception's message


def test_the_request_id_filter_puts_the_id_on_records_inside_and_outside_a_request(app):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    RequestIdFilter().filter(record)
    assert record.request_id == "-"
    with app.test_request_context("/"):
        from flask import g

        g.request_id = "abc"
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
        RequestIdFilter().filter(record)
        assert record.request_id == "abc"


def test_the_formatter_escapes_control_characters_and_shows_no_exception_message():
    formatter = PortalFormatter("%(name)s %(message)s")
    forged = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '"GET /x\n2026 INFO forged %s"',
                               ("\x1b[31m",), None)
    assert formatter.format(forged) == 'gunicorn.access "GET /x\\x0a2026 INFO forged \\x1b[31m"'
    own = logging.LogRecord("portal", logging.ERROR, __file__, 1, "line one\nline two\x00", None, None)
    assert formatter.format(own) == "portal line one\nline two\\x00"
    try:
        raise KeyError(SECRET)
    except KeyError:
        import sys

        with_exc = logging.LogRecord("werkzeug", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    formatted = formatter.format(with_exc)
    assert "builtins.KeyError (message not logged)" in formatted and SECRET not in formatted


def test_a_chained_database_error_is_logged_by_type_and_frames_only():
    try:
        try:
            raise ValueError("Failing row contains (Zqxsecret, 2013-07-19)")
        except ValueError as inner:
            raise RuntimeError("wrapped Zqxsecret") from inner
    except RuntimeError as error:
        trace = safe_traceback(error)
    assert "builtins.ValueError (message not logged)" in trace and "builtins.RuntimeError (message not logged)" in trace
    assert trace.index("ValueError") < trace.index("RuntimeError")  # oldest first, as Python prints it
    messages = [line for line in trace.splitlines() if not line.startswith(("  File", "    "))]
    assert messages == ["Traceback (most recent call last):", "builtins.ValueError (message not logged)",
                        "which led to:", "Traceback (most recent call last):",
                        "builtins.RuntimeError (message not logged)"]


# ------------------------------------------------------------------------------- no parameters in messages

def test_a_database_error_message_holds_no_parameter_values(app, db_session):
    """hide_parameters=True: the statement's parameters never appear in SQLAlchemy's message (a foreign key that
    does not exist, whose own detail names only the key)."""
    user = User(email="zqxmarker@example.org", name=SECRET, password_hash="x" * 20, role="officer",
                la_code="E99999999")
    db_session.add(user)
    with pytest.raises(IntegrityError) as caught:
        db_session.commit()
    db_session.rollback()
    message = str(caught.value)
    assert "SQL parameters hidden" in message
    assert "zqxmarker" not in message and "Zqxsecretname" not in message


# Only PostgreSQL refuses a NUL in text, and the invalid cast below is PostgreSQL's: these run there alone.
postgres_only = pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                        indirect=True)


@postgres_only
def test_a_nul_byte_that_reached_postgresql_would_not_be_in_the_message(app, db_session):
    officer = create_user("officer")
    db_session.add(PlacementRequest(
        la_code=officer.la_code, created_by_id=officer.id, status="draft", child_reference="ZQX-1",
        first_name="Zqx\x00secretname", last_name="Okafor", date_of_birth=date(2013, 7, 19), sex="female"))
    with pytest.raises(DataError) as caught:
        db_session.commit()
    db_session.rollback()
    message = str(caught.value)
    assert "NUL" in message and "Zqx" not in message and "ZQX-1" not in message and "2013" not in message


@postgres_only
def test_a_data_error_escaping_a_view_is_a_422_not_a_500(app, client, db_session, caplog):

    def cast():
        from portal.db import db

        db.session.execute(text("SELECT CAST(:v AS INTEGER)"), {"v": SECRET})

    app.add_url_rule("/cast", "cast", cast)
    caplog.set_level(logging.DEBUG)
    response = client.get("/cast")
    assert response.status_code == 422
    assert "sqlalchemy.exc.DataError" in caplog.text and "Zqxsecretname" not in caplog.text
