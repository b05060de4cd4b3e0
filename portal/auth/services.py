"""Account changes with a security effect: passwords, reset links, MFA resets, ending sessions (issue 15 §2, §4, §5).

Who may act on whom: the regional administrator on anyone; a provider's administrator on the people of their own
provider. Every change is audited and ends the sessions it must. Services add and flush; the caller commits.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.auth import mfa, sessions
from portal.auth.passwords import set_password, verify_password
from portal.auth.permissions import audit
from portal.db import db
from portal.errors import Forbidden, Invalid, NotFound
from portal.models import User, UserSession

RESET_SALT = "portal-password-reset"
RESET_HOURS = 24


def may_manage(actor: User, user: User) -> bool:
    """The regional administrator manages everyone; a provider's administrator their own provider's people."""
    if actor.role == "admin":
        return True
    return (actor.role == "provider" and actor.provider_role == "admin" and user.role == "provider"
            and user.provider_id == actor.provider_id)


def _require_manager(actor: User, user: User) -> None:
    if not may_manage(actor, user):
        raise Forbidden("You cannot manage this person's account")


# ----------------------------------------------------------------------------------------- own account

def change_password(user: User, current: str, new: str) -> None:
    """The person changes their own password; every session of theirs ends, this one too."""
    if not verify_password(user, current):
        raise Invalid("Your current password is not correct", field="current_password")
    if current == new:
        raise Invalid("Your new password must be different from your current password", field="password")
    set_password(user, new)
    sessions.end_all(user, "password_changed")
    audit(user, "change_password", "user", user.id)


def sign_out_everywhere(user: User) -> int:
    ended = sessions.end_all(user, "sign_out_everywhere")
    audit(user, "sign_out_everywhere", "user", user.id, detail=f"sessions:{ended}")
    return ended


def new_recovery_codes(user: User, password: str) -> list[str]:
    if not verify_password(user, password):
        raise Invalid("Your password is not correct", field="password")
    codes = mfa.new_recovery_codes(user)
    audit(user, "new_recovery_codes", "user", user.id)
    return codes


def end_own_session(user: User, session_id: str) -> bool:
    record = db.session.get(UserSession, session_id)
    if record is None or record.user_id != user.id or record.ended_at is not None:
        return False
    sessions.end(record, "sign_out")
    audit(user, "end_session", "user", user.id)
    return True


def sign_out_person(actor: User, user: User) -> int:
    _require_manager(actor, user)
    ended = sessions.end_all(user, "ended_by_admin")
    audit(actor, "sign_out_person", "user", user.id, detail=f"sessions:{ended}")
    return ended


# -------------------------------------------------------------------------------------------- reset links

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _fingerprint(user: User) -> str:
    # The link names the password it replaces, so it works once: setting any password changes the hash.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def issue_reset_link(actor: User, user: User) -> str:
    """A one-time link (valid 24 hours) for `user` to set a new password; the token is shown to the actor once.
    Issuing it changes nothing else: the current password keeps working until the link is used."""
    _require_manager(actor, user)
    if not user.active:
        raise Invalid("This account has been deactivated: it cannot have a reset link")
    audit(actor, "issue_password_reset", "user", user.id)
    return _serializer().dumps({"u": user.id, "p": _fingerprint(user)})


def user_for_reset_token(token: str) -> User:
    try:
        payload = _serializer().loads(token, max_age=RESET_HOURS * 3600)
    except SignatureExpired:
        raise NotFound("This link has expired. Ask your administrator for a new one") from None
    except BadSignature:
        raise NotFound("This link is not valid. Check you copied all of it, or ask for a new one") from None
    user = db.session.get(User, payload.get("u")) if isinstance(payload, dict) else None
    if user is None or not user.active or payload.get("p") != _fingerprint(user):
        raise NotFound("This link has already been used or is no longer valid. Ask your administrator for a new one")
    return user


def reset_password(token: str, password: str) -> User:
    user = user_for_reset_token(token)
    set_password(user, password)
    sessions.end_all(user, "password_reset")
    audit(user, "reset_password", "user", user.id)
    return user


# ------------------------------------------------------------------------------------------------ MFA reset

def reset_mfa(actor: User, user: User) -> None:
    """Forget `user`'s authenticator app and recovery codes and end their sessions: they set up a new app at
    their next sign-in (after their password)."""
    _require_manager(actor, user)
    if actor.id == user.id:
        raise Invalid("You cannot reset your own security code: ask another administrator")
    mfa.clear(user)
    sessions.end_all(user, "mfa_reset")
    audit(actor, "reset_mfa", "user", user.id)


def deactivated(user: User) -> None:
    """Called when an account is deactivated: its sessions end at once."""
    sessions.end_all(user, "deactivated")
