"""Server-side sessions (issue 15 §5): a signed-in browser is a `UserSession` row, not just a cookie.

The browser's signed cookie holds only a random token (`sid`, 256 bits); the row holds its SHA-256. A session is
live while it has not ended, was used in the last `SESSION_IDLE_MINUTES` (30) and began less than
`SESSION_ABSOLUTE_HOURS` (12) ago; activity never extends the absolute limit. Until its MFA step passes it is
only a pending sign-in, which lasts `SESSION_MFA_MINUTES` (10). Sign-out ends the row, so a copied cookie stops
working at once; a password change or reset, an MFA reset, deactivation and "sign out everywhere" end every row
of that user.

`last_seen_at` is written at most once a minute per session (`TOUCH_SECONDS`), so reading pages does not
queue for SQLite's write lock on every request; the idle limit is therefore exact to within a minute.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, request, session
from sqlalchemy import select, update

from portal.db import db, utcnow
from portal.models import User, UserSession

TOUCH_SECONDS = 60
# Why a session ended, as the signed-out page explains it.
IDLE, ABSOLUTE, MFA_TIMEOUT, ENDED = "idle", "absolute", "mfa_timeout", "ended"
TIMEOUTS = {IDLE, ABSOLUTE, MFA_TIMEOUT}
END_REASONS = {
    "sign_out", "sign_out_everywhere", "password_changed", "password_reset", "mfa_reset", "deactivated", "ended_by_admin",
    IDLE, ABSOLUTE, MFA_TIMEOUT, "locked",
}


@dataclass(frozen=True)
class Limits:
    idle: timedelta
    absolute: timedelta
    mfa: timedelta


def limits() -> Limits:
    config = current_app.config
    return Limits(
        idle=timedelta(minutes=int(config.get("SESSION_IDLE_MINUTES", 30))),
        absolute=timedelta(hours=float(config.get("SESSION_ABSOLUTE_HOURS", 12))),
        mfa=timedelta(minutes=int(config.get("SESSION_MFA_MINUTES", 10))),
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_address() -> str | None:
    return (request.remote_addr or None) if request else None


def start(user: User) -> UserSession:
    """A new pending session for `user` (password accepted, MFA not yet). The cookie session is cleared first,
    so nothing from before sign-in carries over (no session fixation)."""
    token = secrets.token_urlsafe(32)
    record = UserSession(
        token_hash=_hash(token), user_id=user.id, source_address=client_address(),
        user_agent=(request.user_agent.string or "")[:200] or None,
    )
    db.session.add(record)
    session.clear()
    session["sid"] = token
    return record


def current_record() -> UserSession | None:
    """The row the browser's cookie names, live or not; None without a cookie or for an unknown token."""
    token = session.get("sid")
    if not isinstance(token, str) or not token:
        return None
    return db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))


def expiry_reason(record: UserSession, now: datetime | None = None) -> str | None:
    """Why `record` is no longer usable (None while it is)."""
    now = now or utcnow()
    if record.ended_at is not None:
        return ENDED
    lim = limits()
    if record.mfa_at is None and now - record.created_at > lim.mfa:
        return MFA_TIMEOUT
    if now - record.created_at > lim.absolute:
        return ABSOLUTE
    if now - record.last_seen_at > lim.idle:
        return IDLE
    return None


def needs_touch(record: UserSession, now: datetime | None = None) -> bool:
    return ((now or utcnow()) - record.last_seen_at).total_seconds() >= TOUCH_SECONDS


def end(record: UserSession, reason: str) -> None:
    if record.ended_at is None:
        record.ended_at = utcnow()
        record.end_reason = reason


def end_all(user: User, reason: str) -> int:
    """End every live session of `user`; returns how many were live."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def live_sessions(user: User) -> list[UserSession]:
    """The user's signed-in sessions that have not ended or expired, newest first."""
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None), UserSession.mfa_at.is_not(None))
        .order_by(UserSession.created_at.desc())
    )
    now = utcnow()
    return [row for row in rows if expiry_reason(row, now) is None]


def forget_cookie() -> None:
    session.clear()
