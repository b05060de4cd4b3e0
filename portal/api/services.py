"""API tokens: issued (shown once), checked, revoked (issue 14 §2). Services add and flush; the caller commits.

A token is `wmp_` + an 8-character visible prefix + `_` + 32 random bytes (url-safe): about 256 bits of entropy,
so a plain SHA-256 of it is a safe thing to store and look up by (no salt or slow hash is needed for a random
secret of that size, unlike a password).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.auth.permissions import audit
from portal.db import db, utcnow
from portal.errors import Invalid, NotFound
from portal.models import API_SCOPES, LA_SCOPES, PROVIDER_SCOPES, ApiToken, User

TOKEN_RE = re.compile(r"^wmp_([a-z0-9]{8})_([A-Za-z0-9_-]{43})$")
MAX_DAYS = 366
DEFAULT_DAYS = 90


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def scopes_for(user: User) -> tuple[str, ...]:
    """The scopes a token acting as `user` may hold: an LA's officer's, or a provider's writer's."""
    if user.role == "officer" and user.la_code:
        return LA_SCOPES
    if user.role == "provider" and user.provider_id and user.provider_role in ("admin", "manager"):
        return PROVIDER_SCOPES
    return ()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the whole token: shown once, never stored


def issue_token(creator: User | None, acting_as: User, *, name: str, scopes: list[str], days: int = DEFAULT_DAYS,
                now: datetime | None = None) -> IssuedToken:
    """A new token acting as `acting_as` (its LA's or provider's), with `scopes`, expiring in `days`."""
    name = (name or "").strip()
    if not name:
        raise Invalid("Enter a name for the token, such as the system that will use it", field="name")
    if len(name) > 100:
        raise Invalid("The name must be 100 characters or fewer", field="name")
    if not acting_as.active:
        raise Invalid("This account is deactivated", field="email")
    allowed = scopes_for(acting_as)
    if not allowed:
        raise Invalid("Tokens are for a placement officer's LA or a provider's administrator or manager",
                      field="email")
    scopes = sorted(dict.fromkeys(scopes))
    if not scopes:
        raise Invalid("Choose at least one scope", field="scopes")
    unknown = [s for s in scopes if s not in API_SCOPES]
    if unknown:
        raise Invalid(f"Unknown scope: {', '.join(unknown)}. Scopes are {', '.join(API_SCOPES)}", field="scopes")
    wrong = [s for s in scopes if s not in allowed]
    if wrong:
        raise Invalid(f"{'An LA' if acting_as.role == 'officer' else 'A provider'}'s token cannot have "
                      f"{', '.join(wrong)}: choose from {', '.join(allowed)}", field="scopes")
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"A token expires in 1 to {MAX_DAYS} days", field="days")
    now = now or utcnow()
    prefix = secrets.token_hex(4)
    secret = f"wmp_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(name=name, prefix=prefix, token_hash=hash_token(secret), scopes=scopes, user_id=acting_as.id,
                     la_code=acting_as.la_code if acting_as.role == "officer" else None,
                     provider_id=acting_as.provider_id if acting_as.role == "provider" else None,
                     created_by_id=creator.id if creator is not None else None, created_at=now,
                     expires_at=now + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    audit(creator, "create_api_token", "api_token", token.id, detail=f"scopes:{' '.join(scopes)}")
    return IssuedToken(token, secret)


def find_live_token(secret: str, now: datetime | None = None) -> ApiToken | None:
    """The token whose secret this is, if it is well formed, not revoked, not expired and its account active."""
    if not secret or not TOKEN_RE.match(secret):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    now = now or utcnow()
    if token is None or token.revoked_at is not None or _aware(token.expires_at) <= now:
        return None
    if not token.user.active:
        return None
    return token


def _aware(moment: datetime) -> datetime:
    from datetime import timezone

    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def revoke_token(actor: User, token: ApiToken) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    db.session.flush()
    audit(actor, "revoke_api_token", "api_token", token.id)


def get_token_for(actor: User, token_id: str) -> ApiToken:
    """A token the actor manages: the regional administrator's LA tokens, a provider admin's own provider's."""
    token = db.session.get(ApiToken, token_id) if isinstance(token_id, str) and len(token_id) <= 64 else None
    if token is None or not _manages(actor, token):
        raise NotFound()
    return token


def _manages(actor: User, token: ApiToken) -> bool:
    if actor.role == "admin":
        return token.la_code is not None
    return actor.role == "provider" and actor.provider_role == "admin" and token.provider_id == actor.provider_id


# ------------------------------------------------------------------------------- tokens made on the pages

def _system_account(*, name: str, la_code: str | None = None, provider_id: str | None = None) -> User:
    """The account an organisation's system acts as: named for the token, so the audit trail and the offer's
    "made by" say which system did it. Nobody knows its password (it cannot sign in to the web pages)."""
    from werkzeug.security import generate_password_hash

    tag = secrets.token_hex(6)
    user = User(email=f"api-{tag}@api-token.invalid", name=f"{name[:100]} (API)",
                password_hash=generate_password_hash(secrets.token_urlsafe(32), method="pbkdf2:sha256:1000"),
                role="officer" if la_code else "provider", la_code=la_code, provider_id=provider_id,
                provider_role="manager" if provider_id else None, active=True)
    db.session.add(user)
    db.session.flush()
    # Its address goes nowhere: no email for it (the in-app copies stay, as the record of what it was told).
    from portal.models import NotificationPreference
    from portal.notifications.templates import choosable

    for template in choosable(user.role):
        db.session.add(NotificationPreference(user_id=user.id, kind=template.name, choice="off"))
    db.session.flush()
    return user


def issue_la_system_token(admin: User, la_code: str, *, name: str, scopes: list[str], days: int) -> IssuedToken:
    """The regional administrator's token for an LA's system."""
    from portal.geo import WM_LOCAL_AUTHORITIES

    if admin.role != "admin":
        raise Invalid("Only the regional administrator makes tokens for an LA's system")
    if la_code not in {la.code for la in WM_LOCAL_AUTHORITIES}:
        raise Invalid("Select the local authority", field="la_code")
    _check_name(name)
    return issue_token(admin, _system_account(name=name.strip(), la_code=la_code), name=name, scopes=scopes,
                       days=days)


def issue_provider_system_token(actor: User, *, name: str, scopes: list[str], days: int) -> IssuedToken:
    """A provider administrator's token for their own provider's system."""
    if actor.role != "provider" or actor.provider_role != "admin" or not actor.provider_id:
        raise Invalid("Only your organisation's administrators make tokens")
    _check_name(name)
    return issue_token(actor, _system_account(name=name.strip(), provider_id=actor.provider_id), name=name,
                       scopes=scopes, days=days)


def _check_name(name: str) -> None:
    if not (name or "").strip():
        raise Invalid("Enter a name for the token, such as the system that will use it", field="name")
    if len(name.strip()) > 100:
        raise Invalid("The name must be 100 characters or fewer", field="name")


def revoke_system_token(actor: User, token: ApiToken) -> None:
    """Revoke a token; a system account made for it is deactivated with it (it has no other use)."""
    revoke_token(actor, token)
    if token.user.email.endswith("@api-token.invalid"):
        token.user.active = False
        db.session.flush()


def list_tokens(actor: User) -> list[ApiToken]:
    """The tokens the actor manages: every LA system's for the regional administrator, their own provider's for
    a provider administrator; newest first."""
    query = select(ApiToken)
    if actor.role == "admin":
        query = query.where(ApiToken.la_code.is_not(None))
    elif actor.role == "provider" and actor.provider_role == "admin":
        query = query.where(ApiToken.provider_id == actor.provider_id)
    else:
        return []
    return list(db.session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id)))
