"""Known devices: a sign-in from a browser the account has not been used from before is emailed (issue 17 §2).

Each browser keeps a long-lived random cookie (`portal_device`, `__Host-portal_device` over HTTPS; HttpOnly,
SameSite=Lax, 400 days, the longest browsers keep one). Only its SHA-256 is stored, per person (`KnownDevice`).
When a sign-in completes (after the security code), a cookie the person's account knows is a known device; any
other is new: it is remembered, and if the account already knew another device the person is sent the security
email `new_sign_in` (always at once; it cannot be turned off). An account's first device is never emailed about:
it is the first sign-in, or the first since devices were remembered.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from flask import after_this_request, current_app, request
from sqlalchemy import select

from portal.db import db, utcnow
from portal.formatting import format_datetime
from portal.models import KnownDevice, User
from portal.notifications.services import link, queue_notification

MAX_AGE_SECONDS = 400 * 24 * 3600
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


def cookie_name() -> str:
    """DEVICE_COOKIE_NAME (portal.config): `__Host-portal_device` over HTTPS, where the prefix stops a sibling site
    setting it; `portal_device` otherwise."""
    return current_app.config["DEVICE_COOKIE_NAME"]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def recognise(user: User) -> bool:
    """Called in the unit of work that completes a sign-in: whether this browser is one of `user`'s known devices.
    A new one is remembered (its cookie set on the response) and, when the account knew another, the person is
    emailed. Returns True for a known device."""
    token = request.cookies.get(cookie_name()) or ""
    if TOKEN.match(token):
        known = db.session.scalar(select(KnownDevice).where(KnownDevice.user_id == user.id,
                                                            KnownDevice.token_hash == _hash(token)))
        if known is not None:
            known.last_seen_at = utcnow()
            return True
    else:
        token = secrets.token_urlsafe(32)
        _set_cookie(token)
    had_one = db.session.scalar(select(KnownDevice.id).where(KnownDevice.user_id == user.id).limit(1)) is not None
    now = utcnow()
    db.session.add(KnownDevice(user_id=user.id, token_hash=_hash(token), first_seen_at=now, last_seen_at=now))
    if had_one:
        queue_notification(user, "new_sign_in", time=format_datetime(now), link=link("auth.account"))
    return False


def _set_cookie(token: str) -> None:
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))

    @after_this_request
    def _remember(response):
        response.set_cookie(cookie_name(), token, max_age=MAX_AGE_SECONDS, path="/", secure=secure, httponly=True,
                            samesite="Lax")
        return response
