"""Fixtures shared by the whole suite (the flaskr pattern: app, client, runner, plus a sign-in helper).

Endpoint tests run twice: on SQLite and on PostgreSQL (PORTAL_TEST_DATABASE_URL). Without that variable the
PostgreSQL runs skip with a message; with PORTAL_REQUIRE_ALL=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import uuid
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.cli import upgrade_database

REQUIRE_ALL = os.environ.get("PORTAL_REQUIRE_ALL") == "1"
# Property tests: on a laptop every run draws new examples (and replays the failures it saved in .hypothesis);
# CI draws the same examples every run, so a landing is never refused by a draw nobody has seen. A failure found
# on a laptop is fixed and kept as an explicit test (tests/matching/test_determinism.py has one).
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if REQUIRE_ALL:
    hypothesis_settings.load_profile("ci")
# The tests run in development mode (production, the default, refuses their short keys), whoever starts pytest.
os.environ["PORTAL_ENV"] = "development"
# Reference data the migrations insert; every other table is emptied between tests.
KEEP_TABLES = {"local_authority", "options_version", "data_version", "alembic_version"}
TEST_PASSWORD_HASHING = {"PASSWORD_ARGON2_TIME_COST": 1, "PASSWORD_ARGON2_MEMORY_KIB": 1024, "PASSWORD_ARGON2_PARALLELISM": 1}


def require(condition: bool, message: str) -> None:
    """Skip (on a laptop) or fail (in CI, PORTAL_REQUIRE_ALL=1) when a real dependency is missing."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"{message} (PORTAL_REQUIRE_ALL=1, so this fails instead of skipping)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    """A SQLite database migrated once; each test gets a copy (fast and fully isolated)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade_database(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def postgres_url(worker_id: str = "master") -> str:
    """A fresh PostgreSQL database for this test session, migrated with Alembic, dropped at the end."""
    base = os.environ.get("PORTAL_TEST_DATABASE_URL")
    require(bool(base), "PostgreSQL tests need PORTAL_TEST_DATABASE_URL (see README: running the tests)")
    name = f"portal_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    upgrade_database(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    from portal.models import metadata

    tables = [t.name for t in metadata.sorted_tables if t.name not in KEEP_TABLES]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE options_version SET version = 0"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, sqlite_template) -> str:
    if request.param == "sqlite":
        path = tmp_path / "portal.sqlite3"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A second database of the same kind as `database_url`, never migrated (no table at all), dropped after the
    test: for restores, and for schemas a test moves away from head without disturbing the others."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    base = os.environ["PORTAL_TEST_DATABASE_URL"]
    name = f"portal_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def outside_test_app_context():
    """Step out of the app context the test holds for its factories (a request, or a command run for another
    app, gets its own), and back in afterwards."""
    from flask.globals import _cv_app

    outer = _cv_app.get(None)
    if outer is not None:
        outer.pop()
    try:
        yield
    finally:
        if outer is not None:
            outer.push()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Tests of what only PostgreSQL has (advisory locks, pg_dump): they run there alone, instead of skipping on SQLite.
postgres_only = pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                        indirect=True)


class CheckedClient(FlaskClient):
    """A test client that checks the invariants of every HTML page it gets (the GOV.UK Notify habit)."""

    def open(self, *args, **kwargs):
        # Each request gets its own app context, session and signed-in user, as in production, even when the
        # test holds an app context for its factories: step out of the test's context for the request.
        with outside_test_app_context():
            response = super().open(*args, **kwargs)
        if response.mimetype == "text/html" and response.status_code < 300 or response.status_code >= 400:
            if b"<html" in response.data:
                check_page_invariants(response.get_data(as_text=True), response.status_code)
        return response


def check_page_invariants(html: str, status: int) -> None:
    assert len(re.findall(r"<h1[\s>]", html)) == 1, "every page has exactly one h1"
    assert 'href="#main-content"' in html, "every page has a skip link"
    assert re.search(r"<title>[^<]+ – West Midlands placement portal</title>", html), "every page has a title"
    assert "Traceback" not in html, "no stack trace is ever shown"
    assert "GDS Transport" not in html
    if 'class="govuk-form-group--error' in html or "govuk-error-message" in html:
        assert "govuk-error-summary" in html, "a form with errors shows the error summary"
        assert "<title>Error: " in html, "a form with errors says so in the title"


def make_app(database_url: str):
    """The app as every test sees it (also for fixtures of a wider scope, such as tests/test_url_map.py's)."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            # A cheap argon2id profile: the real one costs 64 MiB and tens of milliseconds per hash.
            **TEST_PASSWORD_HASHING,
        }
    )
    app.test_client_class = CheckedClient
    return app


@pytest.fixture
def app(database_url):
    app = make_app(database_url)
    yield app
    app.extensions["portal_db"][0].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class _CurrentSession:
    """Always the app context's current session: each request closes it, so reads after a request are fresh
    and the test never holds a transaction (or SQLite's write lock) across a request."""

    def __getattr__(self, name):
        from portal.db import db

        return getattr(db.session, name)


@pytest.fixture
def db_session(app):
    """The app's session inside an app context, for factories and assertions."""
    with app.app_context():
        yield _CurrentSession()


class AuthActions:
    """Signs in as a person would: email and password, then the current code from their authenticator app.

    Users the factories make are enrolled in MFA (tests.factories.TEST_MFA_SECRET); a user without a secret is
    taken through the set-up page, with a code from the secret it offers.
    """

    def __init__(self, client):
        self._client = client

    def sign_in(self, user, password: str = "password"):
        response = self._client.post("/sign-in", data={"email": user.email, "password": password})
        assert response.status_code == 302, f"sign-in failed: {response.status_code}"
        if response.headers["Location"].endswith("/sign-in/set-up-authenticator-app"):
            page = self._client.get("/sign-in/set-up-authenticator-app")
            secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', page.get_data(as_text=True)).group(1)
            response = self._client.post("/sign-in/set-up-authenticator-app",
                                         data={"code": totp_code(secret.replace(" ", ""), fresh=True, key=user.email)})
            assert response.status_code == 200, f"MFA set-up failed: {response.status_code}"
            return response
        response = self._client.post("/sign-in/security-code", data={"code": self.code_for(user)})
        assert response.status_code == 302, f"security code refused: {response.status_code}"
        return response

    @staticmethod
    def code_for(user) -> str:
        from tests.factories import TEST_MFA_SECRET

        return totp_code(getattr(user, "mfa_secret", None) or TEST_MFA_SECRET, fresh=True, key=user.email)

    def sign_out(self):
        return self._client.post("/sign-out")


def signed_in_clients(app, user, n: int = 1) -> list:
    """`n` test clients signed in as `user` in one session, like tabs of one browser: the first signs in (password
    and security code), the others carry its cookie. For concurrency tests, which need many clients at once."""
    first = app.test_client()
    AuthActions(first).sign_in(user)
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = first.get_cookie(name)
    clients = [first]
    for _ in range(n - 1):
        other = app.test_client()
        other.set_cookie(name, cookie.value)
        clients.append(other)
    return clients


# The last time step whose code each account used in this test (emptied before every test).
_used_steps: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _fresh_totp_steps():
    _used_steps.clear()


def totp_code(secret: str, *, fresh: bool = False, key: str | None = None) -> str:
    """The current code for `secret`. A code works once per 30-second step per account, and the portal accepts
    one step of clock drift either way, so with `fresh` an account's sign-ins in one test use the steps now-1,
    now, now+1 in turn: three sign-ins of one person within 30 seconds, without waiting (a fourth waits)."""
    import time

    import pyotp

    if not fresh:
        return pyotp.TOTP(secret).at(int(time.time() // 30) * 30)
    key = key or secret
    while True:
        now = time.time()
        step, left = int(now // 30), 30 - now % 30
        # The portal checks the code a moment after it is made: the step before now is safe only while the
        # current step has seconds to run (else the portal's "now" has moved on and that step is out of reach).
        lowest = step - 1 if left > 5 else step
        chosen = max(lowest, _used_steps.get(key, lowest - 1) + 1)
        if chosen <= step + 1:
            break
        time.sleep(left + 0.05)  # this account's codes for this minute are spent: wait for the next step
    _used_steps[key] = chosen
    return pyotp.TOTP(secret).at(chosen * 30)


@pytest.fixture
def auth(client):
    return AuthActions(client)
