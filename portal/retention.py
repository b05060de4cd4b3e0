"""How long the portal keeps its own bookkeeping rows, and the daily job that deletes what is past it.

These tables grow with use and are needed only for a while:

* `sign_in_attempt`: read by sign-in throttling for its window (minutes); kept longer so that an attack can be
  looked into afterwards. Kept `RETAIN_SIGN_IN_ATTEMPTS_DAYS` (default 90).
* `user_session`: a session that has ended, or has passed its absolute lifetime, is never used again; kept
  `RETAIN_ENDED_SESSIONS_DAYS` (default 90) after it began, for "where was I signed in" questions.
* `form_submission`: a one-time form key only matters while a double click or a retry can still arrive; kept
  `RETAIN_FORM_KEYS_DAYS` (default 7). A form sent after its key was forgotten is saved as a new submission, as
  one without a key always was.

* `api_idempotency_key`: an API POST's idempotency key and its first answer (issue 14), which a client's retry
  replays. Unlike the rest this holds a child's data (the answer to "create this request"), so it is kept only
  `RETAIN_API_IDEMPOTENCY_HOURS` (default 24): a retry comes within minutes, not days.

* `notification`: the email outbox (issue 17). A sent email's row is kept `RETAIN_SENT_NOTIFICATIONS_DAYS`
  (default 30) after it was sent, for "did they get it" questions; a dead letter (never delivered)
  `RETAIN_DEAD_NOTIFICATIONS_DAYS` (default 90) after it was queued, for the hub's Emails page. Rows waiting to be
  sent are never deleted. Its links (a set-password link) have long stopped working by then.

* `options_change`: what each options version changed, read by every process to bring its matching index up to
  date. A process rebuilds its index each day anyway, so a change is needed for a day at most; kept
  `OPTIONS_CHANGES_KEPT` (2 days).

The audit trail (`audit_event`) is not touched: it is the record of who did what, and its retention is the
authorities' records policy, not this job's. Nothing else here holds a child's data.

`flask retention prune` runs this in one transaction; the jobs service runs it daily (deploy/jobs.sh). Deleting is
idempotent, so two hosts running it at once delete each row once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask import current_app
from sqlalchemy import and_, delete, or_

from portal.db import db, utcnow
from portal.models import ApiIdempotencyKey, FormSubmission, Notification, OptionsChange, SignInAttempt, UserSession


@dataclass(frozen=True)
class Pruned:
    sign_in_attempts: int
    sessions: int
    form_keys: int
    notifications: int = 0
    options_changes: int = 0
    api_keys: int = 0


OPTIONS_CHANGES_KEPT = timedelta(days=2)


def prune(now: datetime | None = None) -> Pruned:
    """Delete the rows past their retention (see the module docstring). Adds to the unit of work; the caller
    commits."""
    now = now or utcnow()
    config = current_app.config
    attempts_before = now - timedelta(days=config["RETAIN_SIGN_IN_ATTEMPTS_DAYS"])
    sessions_before = now - timedelta(days=config["RETAIN_ENDED_SESSIONS_DAYS"])
    # A session that was never ended (the browser was closed) is dead once its absolute lifetime is over.
    lifetime = timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])
    keys_before = now - timedelta(days=config["RETAIN_FORM_KEYS_DAYS"])

    attempts = db.session.execute(delete(SignInAttempt).where(SignInAttempt.at < attempts_before))
    sessions = db.session.execute(
        delete(UserSession).where(
            UserSession.created_at < sessions_before,
            or_(UserSession.ended_at.is_not(None), UserSession.created_at < now - lifetime),
        )
    )
    keys = db.session.execute(delete(FormSubmission).where(FormSubmission.created_at < keys_before))
    sent_before = now - timedelta(days=config["RETAIN_SENT_NOTIFICATIONS_DAYS"])
    dead_before = now - timedelta(days=config["RETAIN_DEAD_NOTIFICATIONS_DAYS"])
    emails = db.session.execute(delete(Notification).where(or_(
        and_(Notification.status == "sent", Notification.sent_at < sent_before),
        and_(Notification.status == "dead", Notification.created_at < dead_before))))
    changes = db.session.execute(delete(OptionsChange).where(OptionsChange.created_at < now - OPTIONS_CHANGES_KEPT))
    api_keys = db.session.execute(delete(ApiIdempotencyKey).where(
        ApiIdempotencyKey.created_at < now - timedelta(hours=config.get("RETAIN_API_IDEMPOTENCY_HOURS", 24))))
    return Pruned(attempts.rowcount or 0, sessions.rowcount or 0, keys.rowcount or 0, emails.rowcount or 0,
                  changes.rowcount or 0, api_keys.rowcount or 0)


@click.group("retention")
def retention() -> None:
    """Delete the portal's bookkeeping rows past their retention."""


@retention.command("prune")
def prune_command() -> None:
    """Delete old sign-in attempts, ended sessions, used form keys and old emails (never the audit trail)."""
    done = prune()
    db.session.commit()
    click.echo(f"Deleted {done.sign_in_attempts} sign-in attempts, {done.sessions} ended sessions and "
               f"{done.form_keys} form keys past their retention, and {done.notifications} old emails from the outbox.")
    click.echo(f"Deleted {done.api_keys} API idempotency keys past their retention.")
