"""Error pages: a GOV.UK-style page for each status; never a stack trace."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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
}


def render_error(status: int, title: str | None = None, body: str | None = None):
    default_title, default_body = MESSAGES.get(status, MESSAGES[500])
    return (
        render_template("errors/error.html", status=status, title=title or default_title, body=body or default_body),
        status,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return render_error(
            400, "Your form expired", "For your security, forms expire. Go back, reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unhandled error")  # logs the trace; no personal data is put in exceptions
        from portal.db import db

        db.session.rollback()
        return render_error(500)
