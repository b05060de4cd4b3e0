"""One family of service errors, and the error pages: a GOV.UK-style page for each status, never a stack trace.

Services raise a `ServiceError` subclass with a message for the user (and, where it belongs to one, the form field);
the unit of work (`portal.unit_of_work`) rolls back and shows it on the form, and anything that escapes a view is
answered here with the error's status: Invalid 422, Conflict 409, Forbidden 403, NotFound 404.
"""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError
from werkzeug.exceptions import HTTPException

from portal.db import DatabaseBusy, db, is_busy
from portal.logs import current_request_id, log_unhandled

MESSAGES = {
    400: ("There is a problem with your request", "Check what you entered and try again."),
    403: ("You do not have permission to see this page", "If you think you should, contact your administrator."),
    404: ("Page not found", "If you typed the web address, check it is correct."),
    405: ("This action is not allowed", "Go back and try again."),
    409: ("This record has changed", "Someone else changed it while you were working. Reload and try again."),
    413: ("The file is too large", "Upload a smaller file."),
    422: ("There is a problem with your request", "Check what you entered and try again."),
    429: ("Too many attempts", "Wait a few minutes and try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you entered has been saved."),
    503: ("Sorry, the service is busy", "Nothing you entered has been saved. Wait a few seconds and try again."),
}
RETRY_AFTER_SECONDS = 5


class ServiceError(Exception):
    """Something the user asked for that cannot be done. The message is for the user.

    `status` is the HTTP status of the answer; `field` names the form field the message belongs to, if any;
    `code` is a short, non-personal reason for the audit trail.
    """

    status = 422

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.field = field
        self.code = code


class Invalid(ServiceError):
    """What was entered cannot be accepted (422)."""

    status = 422


class Conflict(ServiceError):
    """The record's state forbids it now, usually because someone else changed it first (409)."""

    status = 409


class Forbidden(ServiceError):
    """Not this user's to do (403)."""

    status = 403


class NotFound(ServiceError):
    """No such record for this user: the same answer whether it does not exist or is not theirs (404)."""

    status = 404

    def __init__(self, message: str = "Page not found", **kwargs):
        super().__init__(message, **kwargs)


API_PREFIX = "/api/"


def problem(status: int, title: str | None = None, detail: str | None = None, *, field: str | None = None,
            errors: list[dict] | None = None, headers: dict | None = None):
    """An RFC 9457 problem (`application/problem+json`): the integration API's answer for every error (issue 14),
    naming the field at fault (`field`, and `errors` with each field's message) where there is one."""
    import json

    from flask import Response

    body = {"type": "about:blank", "title": title or MESSAGES.get(status, MESSAGES[500])[0], "status": status}
    if detail:
        body["detail"] = detail
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    if status >= 500:
        body["reference"] = current_request_id()
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _is_api() -> bool:
    from flask import has_request_context, request

    return has_request_context() and request.path.startswith(API_PREFIX)


def render_error(status: int, title: str | None = None, body: str | None = None, headers: dict | None = None):
    if _is_api():  # the integration API answers in JSON, whatever went wrong (issue 14 §4)
        return problem(status, title, body if body and body != MESSAGES.get(status, ("", ""))[1] else None,
                       headers=headers)
    default_title, default_body = MESSAGES.get(status, MESSAGES[500])
    # The 500 page shows the request id: "quote this reference" finds the log line (portal.logs).
    page = render_template("errors/error.html", status=status, title=title or default_title, body=body or default_body,
                           reference=current_request_id() if status >= 500 else None)
    return page, status, headers or {}


def _busy_page():
    db.lift_deadline()  # the error page may read (the signed-in person) after the request's deadline
    db.rollback_quietly()
    # The page's header names the signed-in person, whose record the rollback expired: reloading it needs the
    # database, which may be the thing that is down. Then the page is drawn as for a visitor (still a 503).
    from flask import current_app, g
    from flask_login import current_user

    try:
        current_user.is_authenticated and current_user.name
    except DBAPIError:
        db.rollback_quietly()
        g._login_user = current_app.login_manager.anonymous_user()
    return render_error(503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def log_database_unavailable(error: BaseException) -> None:
    """One warning line: the error's type and SQLSTATE, never its message (it can quote values)."""
    from flask import current_app

    from portal.db import sqlstate

    orig = getattr(error, "orig", error)
    current_app.logger.warning("database unavailable: %s (sqlstate %s); answered 503", type(orig).__name__,
                               sqlstate(error) or "none")


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return render_error(
            400, "Your form expired", "For your security, forms expire. Go back, reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        return render_error(error.code or 500)

    @app.errorhandler(ServiceError)
    def _service(error: ServiceError):
        db.session.rollback()
        if isinstance(error, NotFound):  # the same page as any unknown address: nothing about the record
            return render_error(404)
        if _is_api():
            return problem(error.status, detail=str(error), field=error.field)
        return render_error(error.status, body=str(error))

    @app.errorhandler(DatabaseBusy)
    def _busy(error: DatabaseBusy):
        # A lock wait past the busy timeout, a statement cancelled by PostgreSQL's statement_timeout, or the
        # request's deadline (portal.db.RequestDeadline): nothing was saved, and the person may try again shortly.
        return _busy_page()

    @app.errorhandler(DBAPIError)
    def _database(error: DBAPIError):
        # The database went away under a request (a restart, a failover, a dropped connection) or cannot be
        # reached yet: outside a unit of work too (a page's reads, the session check), that is a 503 with
        # Retry-After, never a 500. The pool drops the dead connection; pre-ping tests the others before use.
        if is_busy(error):
            log_database_unavailable(error)
            return _busy_page()
        log_unhandled(error)
        db.rollback_quietly()
        return render_error(500)

    @app.errorhandler(DataError)
    def _data(error: DataError):
        # A value the database cannot store (a NUL byte in text on PostgreSQL, a number out of range) that a form
        # should have refused: still the user's input, so a 422 and never a 500; logged (type only) to be fixed.
        log_unhandled(error)
        db.rollback_quietly()
        return render_error(422)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log_unhandled(error)  # type, endpoint, request id and frames: never the message (it can hold values)
        db.rollback_quietly()
        return render_error(500)
