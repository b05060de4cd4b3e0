"""One-time links that set a password: an invitation, an administrator's reset link, an emailed reset link.

One mechanism for all of them. A link's token is signed with SECRET_KEY (itsdangerous, a salt per kind of link)
and names the user and a fingerprint of the password hash it replaces, so it works once: setting any password
changes the hash, and every older link of that user stops working (an invitation renewed, a reset used). Nothing
is stored. A link lasts its kind's `max_age`, or the shorter lifetime it was issued with (an emailed reset link:
30 minutes), which is signed into the token.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.db import db
from portal.errors import NotFound
from portal.models import User


@dataclass(frozen=True)
class LinkKind:
    salt: str
    max_age: timedelta
    # Who to ask for a new link, in the messages for an expired or used one.
    ask: str


INVITATION = LinkKind("portal.provider-invite", timedelta(days=7), "Ask your organisation's administrator for a new one")
PASSWORD_RESET = LinkKind("portal-password-reset", timedelta(hours=24),
                          "Ask for a new one: choose \u201cForgot your password?\u201d on the sign-in page, or ask "
                          "your administrator")


def _serializer(kind: LinkKind) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=kind.salt)


def password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def issue(user: User, kind: LinkKind, lifetime: timedelta | None = None) -> str:
    """A one-time link token for `user`, valid for `lifetime` (at most the kind's `max_age`)."""
    payload = {"u": user.id, "p": password_fingerprint(user)}
    if lifetime is not None and lifetime < kind.max_age:
        payload["s"] = int(lifetime.total_seconds())
    return _serializer(kind).dumps(payload)


def user_for(token: str, kind: LinkKind) -> User:
    """The user a genuine, unexpired, unused link is for (an active account); NotFound with the reason otherwise."""
    try:
        payload, signed_at = _serializer(kind).loads(token, max_age=int(kind.max_age.total_seconds()),
                                                     return_timestamp=True)
    except SignatureExpired:
        raise NotFound(f"This link has expired. {kind.ask}") from None
    except BadSignature:
        raise NotFound("This link is not valid. Check you copied all of it, or ask for a new one") from None
    if not isinstance(payload, dict):
        raise NotFound("This link is not valid. Check you copied all of it, or ask for a new one")
    lifetime = payload.get("s")
    if isinstance(lifetime, int) and time.time() - signed_at.timestamp() > lifetime:
        raise NotFound(f"This link has expired. {kind.ask}")
    user = db.session.get(User, payload.get("u")) if isinstance(payload.get("u"), str) else None
    if user is None or not user.active or payload.get("p") != password_fingerprint(user):
        raise NotFound(f"This link has already been used or is no longer valid. {kind.ask}")
    return user
