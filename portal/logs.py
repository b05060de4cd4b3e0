"""Logging, configured in one place for the app and gunicorn (issue 15 §7): a request id on every request, response
and log record, and error logs that hold no personal data.

- Every request gets an id: a sane incoming `X-Request-Id` (1 to 64 of A-Z, a-z, 0-9, '-' and '_', as a reverse
  proxy may set) or a new random one. It is returned in the `X-Request-Id` header, put on every log record by
  `RequestIdFilter` and shown on the 500 page, so a user's "reference" finds the log line.
- An unexpected error is logged by `log_unhandled`: the exception's type, the endpoint, the request id and a
  traceback of file, line and function names only. Never the exception's message (a database error's message can
  hold the values of the row, for example PostgreSQL's "DETAIL: Failing row contains (...)"), never local
  variables, form values or the query string. SQLAlchemy never puts statement parameters in its messages either
  (`hide_parameters=True` in portal.db), and its DEBUG log of result rows is dropped (`NoResultRows`).
- gunicorn.conf.py uses `GUNICORN_LOGCONFIG` (the same format and filter); its access log records the path
  without the query string, and leaves out successful health checks (`QuietHealthChecks`).
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import traceback

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-Id"
INCOMING_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# gunicorn's access log: the path without its query string, the status, the size, the time taken and the request
# id the portal answered with. No referrer (it can carry another page's query string) and no user agent.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'

logger = logging.getLogger("portal")


def new_request_id() -> str:
    return secrets.token_hex(8)


def current_request_id() -> str:
    """The id of the request being served ('-' outside a request)."""
    if has_request_context():
        return g.get("request_id") or "-"
    return "-"


class RequestIdFilter(logging.Filter):
    """Puts `record.request_id` on every record the handler sees, so the format can always show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f]")


def _escape(match: re.Match) -> str:
    return f"\\x{ord(match.group()):02x}"


class PortalFormatter(logging.Formatter):
    """The one format. A message's control characters are escaped, so a request path cannot forge a log line
    (only the portal's own messages, whose tracebacks span lines, keep their new lines); an exception is shown
    as `safe_traceback` shows it: types and frames, no message."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        own = record.name == "portal" or record.name.startswith("portal.")
        record.message = (_CONTROL if own else _CONTROL_OR_NEWLINE).sub(_escape, record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:
        return safe_traceback(ei[1]) if ei and ei[1] is not None else ""


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a record is emitted (so a test's captured stderr works too)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


# Paths the reverse proxy and the container engine check every few seconds (portal.health).
HEALTH_PATH_PREFIX = "/health/"


class QuietHealthChecks(logging.Filter):
    """Leaves successful health checks out of gunicorn's access log: a proxy and a container engine asking every
    few seconds would otherwise bury the visitors' lines. A failed check (503) is still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if not isinstance(atoms, dict):
            return True
        path, status = str(atoms.get("U") or ""), str(atoms.get("s") or "")
        return not (path.startswith(HEALTH_PATH_PREFIX) and status.startswith(("2", "3")))


GUNICORN_LOGCONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": RequestIdFilter}, "quiet_health_checks": {"()": QuietHealthChecks}},
    "formatters": {"portal": {"()": PortalFormatter, "fmt": LOG_FORMAT}},
    "handlers": {"stderr": {"()": StderrHandler, "formatter": "portal", "filters": ["request_id"]}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True, "filters": ["quiet_health_checks"]},
    },
}


class NoResultRows(logging.Filter):
    """At DEBUG SQLAlchemy logs every result row, a child's name and date of birth with it; the portal never lets
    it, whatever level someone sets (statements are logged at INFO, with their parameters hidden)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


SQLALCHEMY_ENGINE_LOGGER = "sqlalchemy.engine.Engine"


def configure_logging(level: int = logging.INFO) -> None:
    """One stderr handler on the root logger with the request-id filter; every logger (portal, werkzeug,
    sqlalchemy, gunicorn) propagates to it. Does nothing when it is already there (gunicorn's `logconfig_dict`
    put it there, or a second app in the same process)."""
    engine_logger = logging.getLogger(SQLALCHEMY_ENGINE_LOGGER)
    if not any(isinstance(f, NoResultRows) for f in engine_logger.filters):
        engine_logger.addFilter(NoResultRows())
    root = logging.getLogger()
    if any(isinstance(handler, StderrHandler) for handler in root.handlers):
        return
    handler = StderrHandler()
    handler.setFormatter(PortalFormatter(LOG_FORMAT))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)


def safe_traceback(error: BaseException) -> str:
    """The traceback of `error` and the exceptions it came from: type names and frames (file, line, function and
    the line of code), never a message or a local variable's value."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    lines: list[str] = []
    for position, exc in enumerate(reversed(chain)):
        if position:
            lines.append("which led to:")
        lines.append("Traceback (most recent call last):")
        for frame in traceback.extract_tb(exc.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
        lines.append(f"{type(exc).__module__}.{type(exc).__qualname__} (message not logged)")
    return "\n".join(lines)


def log_unhandled(error: BaseException) -> None:
    """Log an error no handler answered, without personal data. The safe traceback is part of the message (no
    `exc_info`), so no handler anywhere can format the exception's message."""
    endpoint = request.endpoint if has_request_context() else None
    method = request.method if has_request_context() else "-"
    logger.error("Unhandled %s.%s in %s %s (request %s)\n%s", type(error).__module__, type(error).__qualname__,
                 method, endpoint or "-", current_request_id(), safe_traceback(error))


def init_app(app: Flask) -> None:
    configure_logging(logging.WARNING if app.testing else logging.INFO)

    @app.before_request
    def _request_id():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if INCOMING_REQUEST_ID.fullmatch(incoming) else new_request_id()

    @app.after_request
    def _return_request_id(response):
        response.headers[REQUEST_ID_HEADER] = current_request_id()
        return response
