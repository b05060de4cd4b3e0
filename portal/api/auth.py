"""Bearer tokens, scopes and rate limits for the integration API (issue 14 §2, §4).

Every API view but the document and its reference page carries `@scope_required(SCOPE)`: the request's
`Authorization: Bearer wmp_...` token must be live (well formed, known, not revoked, not expired, its account
active) or the answer is 401; a live token without the scope is 403. No session, no cookie and no MFA step: the
token is the credential, narrowed by its scopes and its organisation. Its last use is recorded (at most once a
minute, so reads stay reads).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import timedelta
from functools import wraps

from flask import current_app, g, request
from sqlalchemy import update

from portal.api import services
from portal.db import db, utcnow
from portal.errors import problem
from portal.models import ApiToken, User
from portal.unit_of_work import unit_of_work

LAST_USED_EVERY = timedelta(minutes=1)
UNAUTHORISED = {"WWW-Authenticate": 'Bearer realm="api"'}


def current_token() -> ApiToken:
    return g.api_token


def current_api_user() -> User:
    return g.api_token.user


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def scope_required(scope: str):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            secret = _bearer()
            if secret is None:
                return problem(401, "Sign in with an API token",
                               "Send the header Authorization: Bearer <token>", headers=UNAUTHORISED)
            token = services.find_live_token(secret)
            if token is None:
                return problem(401, "The API token is not valid",
                               "It is unknown, revoked or expired: ask for a new one", headers=UNAUTHORISED)
            g.api_token = token
            if scope not in (token.scopes or ()):
                return problem(403, "The API token does not have the scope for this",
                               f"This needs the scope {scope}")
            limited = _rate_limited(token.id)
            if limited:
                return problem(429, "Too many requests", f"Wait {limited} seconds and try again",
                               headers={"Retry-After": str(limited)})
            _record_use(token)
            return view(*args, **kwargs)

        wrapped.required_scopes = (scope,)  # read by tests/test_architecture.py and tests/test_url_map.py
        return wrapped

    return decorator


def _record_use(token: ApiToken) -> None:
    now = utcnow()
    last = token.last_used_at
    if last is not None and (last if last.tzinfo else last.replace(tzinfo=now.tzinfo)) > now - LAST_USED_EVERY:
        return
    with unit_of_work():
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
                           .execution_options(synchronize_session=False))
    db.session.expire(token, ["last_used_at"])


# ----------------------------------------------------------------------------------------------- rate limit
# A sliding window per token, kept in each process: `API_RATE_LIMIT` requests per `API_RATE_WINDOW_SECONDS`.
# With several workers or hosts a client can get that many from each; it bounds a runaway client, it is not a quota.
_windows: dict[str, deque] = {}
_lock = threading.Lock()


def _rate_limited(token_id: str) -> int:
    """0 when the request may go ahead, else the seconds to wait."""
    limit = int(current_app.config.get("API_RATE_LIMIT", 300))
    window = float(current_app.config.get("API_RATE_WINDOW_SECONDS", 60))
    if limit <= 0:
        return 0
    now = time.monotonic()
    with _lock:
        hits = _windows.setdefault(token_id, deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            return max(1, int(hits[0] + window - now) + 1)
        hits.append(now)
    return 0
