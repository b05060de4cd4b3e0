"""Account changes with a security effect: passwords, reset links, MFA resets, ending sessions (issue 15 §2, §4, §5).

Who may act on whom: the regional administrator on anyone; a provider's administrator on the people of their own
provider. Every change is audited and ends the sessions it must. Services add and flush; the caller commits.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from portal.auth import mfa, sessions, throttle, tokens
from portal.auth.passwords import set_password, verify_password
from portal.auth.permissions import audit
from portal.auth.queries import find_user_by_email
from portal.db import db
from portal.errors import Forbidden, Invalid
from portal.models import User, UserSession
from portal.notifications.services import link, queue_notification, set_choices

RESET_HOURS = int(tokens.PASSWORD_RESET.max_age.total_seconds() // 3600)


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


def set_email_choices(user: User, choices: dict[str, str]) -> None:
    """The person chooses how they get each kind of email (security emails always come at once)."""
    set_choices(user, choices)
    audit(user, "change_email_choices", "user", user.id,
          detail=";".join(f"{kind}:{choice}" for kind, choice in sorted(choices.items())))


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

def issue_reset_link(actor: User, user: User) -> str:
    """A one-time link (valid 24 hours) for `user` to set a new password; the token is shown to the actor once.
    Issuing it changes nothing else: the current password keeps working until the link is used."""
    _require_manager(actor, user)
    if not user.active:
        raise Invalid("This account has been deactivated: it cannot have a reset link")
    audit(actor, "issue_password_reset", "user", user.id)
    return tokens.issue(user, tokens.PASSWORD_RESET)


def user_for_reset_token(token: str) -> User:
    return tokens.user_for(token, tokens.PASSWORD_RESET)


def request_password_reset(email: str, address: str | None) -> None:
    """"Forgot your password?" (issue 17 §3): email a one-time reset link, valid PASSWORD_RESET_MINUTES (30), to an
    active account with this address. The caller answers the same whatever happens here: registered or not,
    throttled or not, the page and the work are the same (a link is signed and a row written either way; the
    email itself is sent later by the worker, so its time is never part of the answer)."""
    key = throttle.account_key(email)
    config = current_app.config
    user = find_user_by_email(email.strip().lower())
    account = user if user is not None and user.active else None
    throttled = throttle.too_many_resets(key, address, config["PASSWORD_RESET_ACCOUNT_REQUESTS"],
                                         config["PASSWORD_RESET_ADDRESS_REQUESTS"])
    throttle.record(key, address, throttle.RESET_REQUEST, True)
    lifetime = timedelta(minutes=int(config["PASSWORD_RESET_MINUTES"]))
    token = tokens.issue(account or User(id="", password_hash=""), tokens.PASSWORD_RESET, lifetime)
    if account is None or throttled:
        audit(None, "request_password_reset", "user", account.id if account else None, outcome="refused",
              detail="throttled" if throttled else "unknown_or_inactive")
        return
    queue_notification(account, "password_reset", minutes=str(int(config["PASSWORD_RESET_MINUTES"])),
                       link=link("auth.reset_password", token=token))
    audit(None, "request_password_reset", "user", account.id)


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
    queue_notification(user, "mfa_reset", link=link("auth.sign_in"),  # a security message (issue 17 §2)
                       administrator_organisation=actor.provider.name if actor.provider else "the regional hub")


def deactivated(user: User) -> None:
    """Called when an account is deactivated: its sessions end at once."""
    sessions.end_all(user, "deactivated")
