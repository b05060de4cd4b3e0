"""Health endpoints for the reverse proxy, the container engine and whoever runs the portal (issue 16).

- `GET /health/live`: the process answers. No database, no session, no template: `{"status": "ok"}`. A container
  engine restarts a container whose live check fails (the Dockerfile's HEALTHCHECK), so it must not fail because
  the database is down: that is what `ready` is for.
- `GET /health/ready`: this process can serve pages: the database answers and its schema is at this release's
  Alembic head. 200 `{"status": "ready", ...}`; otherwise 503 with a JSON reason and Retry-After, never a 500 and
  never a stack trace. A proxy or orchestrator stops sending visitors to a host that is not ready (a host started
  before `flask db upgrade` ran, or one that lost the database).

Both are open without signing in, name no person and are cheap: they are marked `without_session`, so the
request never reads or touches a session record (portal.auth.views `_load_session`); they set no cookie; the
security headers are applied as on every response; gunicorn's access log leaves them out (portal.logs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

from flask import Blueprint, Response, jsonify
from sqlalchemy.engine import Connection

from portal.config import PROJECT_ROOT
from portal.db import db

bp = Blueprint("health", __name__, url_prefix="/health")
logger = logging.getLogger("portal.health")

# Seconds a client should wait before asking again when the portal is not ready.
RETRY_AFTER_SECONDS = 10
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"

NOT_MIGRATED = "database not migrated: run `flask db upgrade`"
BEHIND_HEAD = "database schema is behind this release: run `flask db upgrade`"
UNKNOWN_REVISION = "database schema is at a revision this release does not know (a newer release migrated it?)"
UNREACHABLE = "database unreachable"


def without_session(view):
    """Marks a view that must never read or touch a session record (portal.auth.views `_load_session`)."""
    view.without_session = True
    view.public = True  # open without signing in (tests/test_architecture.py)
    return view


@dataclass(frozen=True)
class SchemaStatus:
    """The database's Alembic revisions against this release's heads."""

    current: tuple[str, ...]
    heads: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.heads)

    @property
    def problem(self) -> str | None:
        """Why the schema is not right for this release (None when it is at head)."""
        if self.at_head:
            return None
        if not self.current:
            return NOT_MIGRATED
        if set(self.current) <= known_revisions():
            return BEHIND_HEAD
        return UNKNOWN_REVISION


@cache
def _script():
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR))


@cache
def head_revisions() -> tuple[str, ...]:
    """This release's Alembic heads (read from migrations/ once per process)."""
    return tuple(sorted(_script().get_heads()))


@cache
def known_revisions() -> frozenset[str]:
    return frozenset(revision.revision for revision in _script().walk_revisions())


def schema_status(connection: Connection) -> SchemaStatus:
    """Where the connected database's schema is: one small query (two on a database never migrated)."""
    from alembic.migration import MigrationContext

    current = MigrationContext.configure(connection).get_current_heads()
    return SchemaStatus(tuple(sorted(current)), head_revisions())


def _answer(payload: dict, status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@bp.get("/live")
@without_session
def live():
    return _answer({"status": "ok"})


@bp.get("/ready")
@without_session
def ready():
    try:
        with db.engine.connect() as connection:
            status = schema_status(connection)
            dialect = connection.dialect.name
    except Exception as error:  # noqa: BLE001 - any failure to reach the database is "not ready", never a 500
        # The type only: a driver's message can name hosts and roles, and this is answered to anyone.
        logger.warning("not ready: %s (%s)", UNREACHABLE, type(error).__name__)
        return _answer({"status": "unavailable", "reason": UNREACHABLE}, 503)
    if status.problem is not None:
        logger.warning("not ready: %s (at %s, head %s)", status.problem, ",".join(status.current) or "none",
                       ",".join(status.heads))
        return _answer({"status": "unavailable", "reason": status.problem, "database": dialect}, 503)
    return _answer({"status": "ready", "database": dialect, "revision": ",".join(status.heads)})


def init_app(app) -> None:
    app.register_blueprint(bp)
