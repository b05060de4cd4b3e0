"""Sign-in throttling (issue 15 §3), counted in the database so every worker and host agrees.

- An account is locked for `SIGN_IN_LOCK_MINUTES` (15) once it has had more than `SIGN_IN_ACCOUNT_FAILURES` (10)
  failed attempts (wrong password or wrong security code) within 15 minutes. The lock starts at the failure that
  crossed the limit; attempts made while locked are recorded but do not extend it.
- A client address is locked the same way after more than `SIGN_IN_ADDRESS_FAILURES` (100) failures in 15
  minutes, across all accounts (password spraying).
- Accounts are keyed by a SHA-256 of the normalised email address, whether or not an account uses it, so the
  lock behaves the same for unknown accounts and the table holds no email address.

The caller shows one message for every refusal: a wrong password, an unknown account and a lock look the same.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from portal.db import db, utcnow
from portal.models import SignInAttempt

PASSWORD, SECURITY_CODE, RECOVERY_CODE = "password", "security_code", "recovery_code"
LOCKED = "locked"
# A "Forgot your password?" request: recorded as a success, so it never counts towards a sign-in lock.
RESET_REQUEST = "reset_request"


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _settings() -> tuple[int, int, timedelta, timedelta]:
    config = current_app.config
    window = timedelta(minutes=int(config.get("SIGN_IN_WINDOW_MINUTES", 15)))
    lock = timedelta(minutes=int(config.get("SIGN_IN_LOCK_MINUTES", 15)))
    return (int(config.get("SIGN_IN_ACCOUNT_FAILURES", 10)), int(config.get("SIGN_IN_ADDRESS_FAILURES", 100)),
            window, lock)


def _locked(failures: list[datetime], limit: int, window: timedelta, lock: timedelta, now: datetime) -> bool:
    """True if a failure within the last `lock` was the (limit+1)th or later within `window` before it."""
    failures = sorted(failures)
    start = 0
    for i, at in enumerate(failures):
        while at - failures[start] > window:
            start += 1
        if i - start + 1 > limit and now - at < lock:
            return True
    return False


def is_locked(key: str, address: str | None, now: datetime | None = None) -> bool:
    now = now or utcnow()
    account_limit, address_limit, window, lock = _settings()
    since = now - window - lock
    failed = (SignInAttempt.succeeded.is_(False)) & (SignInAttempt.step != LOCKED) & (SignInAttempt.at > since)
    by_account = list(db.session.scalars(select(SignInAttempt.at).where(SignInAttempt.account_key == key, failed)))
    if _locked(by_account, account_limit, window, lock, now):
        return True
    if address is None:
        return False
    by_address = list(db.session.scalars(
        select(SignInAttempt.at).where(SignInAttempt.source_address == address, failed)
        .order_by(SignInAttempt.at.desc()).limit(address_limit * 4)))
    return _locked(by_address, address_limit, window, lock, now)


def record(key: str, address: str | None, step: str, succeeded: bool) -> None:
    db.session.add(SignInAttempt(account_key=key, source_address=address, step=step, succeeded=succeeded))


def too_many_resets(key: str, address: str | None, account_limit: int, address_limit: int,
                    now: datetime | None = None) -> bool:
    """True when this address (account key) or client address already asked for `account_limit` /
    `address_limit` reset emails within the sign-in window: no more are sent until the window has passed, so the
    form cannot be used to flood someone's inbox (or the mail service's quota)."""
    now = now or utcnow()
    _, _, window, _ = _settings()
    recent = (SignInAttempt.step == RESET_REQUEST) & (SignInAttempt.at > now - window)
    by_account = db.session.scalar(select(func.count()).where(SignInAttempt.account_key == key, recent)) or 0
    if by_account >= account_limit:
        return True
    if address is None:
        return False
    by_address = db.session.scalar(select(func.count()).where(SignInAttempt.source_address == address, recent)) or 0
    return by_address >= address_limit
