"""The outbox: queue a message in the caller's unit of work; claim, and record what a send did, for the worker.

    queue_notification(user, "offer_received", provider="Acorn Fostering", summary="Female, age 9",
                       link=link("requests.detail", request_id=req.id))

`queue_notification` only adds a row to the session. The caller's unit of work commits it with the change that
caused it, so a change that rolls back sends nothing, and a message waits in the table, not in memory, while the
mail server is down. The worker (`flask notifications send`, portal/notifications/cli.py) then:

1. claims due rows in a short transaction: status `sending`, one more attempt, `claimed_at` now. On PostgreSQL
   the rows are read `FOR UPDATE SKIP LOCKED`, so several workers (on several hosts) each take other rows; on
   SQLite the unit of work holds the one write lock while it claims. A claim older than `CLAIM_TIMEOUT` (a worker
   that died mid-send) is taken over;
2. sends each message with no transaction open;
3. records the outcome in another short transaction, only if its claim still stands: `sent`; or `failed`, tried
   again after `RETRY_SECONDS` doubled for each attempt (capped at `RETRY_MAX_SECONDS`); or `dead` after
   `MAX_ATTEMPTS` attempts, or at once for a failure that retrying cannot mend (an address the server refuses, a
   template that does not match). The administrators' Messages not sent page lists `failed` and `dead` rows.

Services add and flush; they never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from portal.db import db, utcnow
from portal.errors import Conflict, NotFound
from portal.models import Notification, User
from portal.notifications.templates import TEMPLATES

CLAIM_TIMEOUT = timedelta(minutes=10)
DUE = ("queued", "failed")


def link(endpoint: str, **values: str) -> dict:
    """A link in a message: the endpoint and its values, made into an address from PORTAL_BASE_URL when the
    message is rendered (never from the Host header of the request that queued it)."""
    return {"endpoint": endpoint, "values": values}


def queue_notification(user: User, template: str, *, kind: str | None = None, **personalisation) -> Notification | None:
    """Add a message for `user` to the outbox, in the caller's unit of work (nothing is sent until it commits).

    `personalisation` fills the template's fields and must never hold a child's personal data. A deactivated
    account is sent nothing (returns None)."""
    if template not in TEMPLATES:
        raise ValueError(f"no template {template!r}")
    if not user.active:
        return None
    row = Notification(user_id=user.id, kind=kind or template, template=template, personalisation=personalisation,
                       status="queued", attempts=0, next_attempt_at=utcnow())
    db.session.add(row)
    return row


# A provider's people who answer referrals (staff only read): they are told of a new referral.
ANSWERING_PROVIDER_ROLES = ("admin", "manager")


def queue_for_provider(provider_id: str, template: str, **personalisation) -> int:
    """Queue `template` for each active person of the provider who answers referrals; returns how many."""
    users = db.session.scalars(
        select(User).where(User.provider_id == provider_id, User.role == "provider", User.active.is_(True),
                           User.provider_role.in_(ANSWERING_PROVIDER_ROLES)).order_by(User.id))
    return sum(queue_notification(user, template, **personalisation) is not None for user in users)


@dataclass(frozen=True)
class Claimed:
    """A claimed message, as plain values: it is sent after its claim's transaction has committed."""

    id: str
    email: str
    template: str
    personalisation: dict
    attempts: int
    claimed_at: datetime


def _settings() -> tuple[int, int, int]:
    config = current_app.config
    return (int(config["NOTIFICATIONS_MAX_ATTEMPTS"]), int(config["NOTIFICATIONS_RETRY_SECONDS"]),
            int(config["NOTIFICATIONS_RETRY_MAX_SECONDS"]))


def claim_due(now: datetime | None = None, *, limit: int = 20) -> list[Claimed]:
    """Claim up to `limit` messages that are due (see the module docstring). Call inside a unit of work."""
    now = now or utcnow()
    due = or_(
        and_(Notification.status.in_(DUE), Notification.next_attempt_at <= now),
        and_(Notification.status == "sending", Notification.claimed_at < now - CLAIM_TIMEOUT),
    )
    query = (select(Notification).where(due).order_by(Notification.next_attempt_at, Notification.id).limit(limit)
             .execution_options(populate_existing=True))  # a long-running worker's session must not keep old values
    if db.engine.dialect.name == "postgresql":
        # Several workers: each skips the rows another is claiming, instead of waiting for them or taking them too.
        query = query.with_for_update(skip_locked=True, of=Notification)
    rows = list(db.session.scalars(query))
    claimed = []
    for row in rows:
        row.status, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
        claimed.append(Claimed(row.id, row.user.email, row.template, dict(row.personalisation or {}),
                               row.attempts, now))
    db.session.flush()
    return claimed


def _still_claimed(message: Claimed):
    return and_(Notification.id == message.id, Notification.status == "sending",
                Notification.claimed_at == message.claimed_at)


def record_sent(message: Claimed, sender: str, reference: str | None, now: datetime | None = None) -> bool:
    """The sender took the message. False if the claim was taken over meanwhile (the other worker records it)."""
    result = db.session.execute(
        update(Notification).where(_still_claimed(message))
        .values(status="sent", sent_at=now or utcnow(), sender=sender, sender_reference=reference, last_error=None)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: RETRY_SECONDS, doubled each time, capped."""
    _, base, cap = _settings()
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def record_failure(message: Claimed, error_type: str, *, permanent: bool = False,
                   now: datetime | None = None) -> str:
    """The attempt failed: `failed` (tried again later) or `dead`. Returns the new status."""
    now = now or utcnow()
    max_attempts, _, _ = _settings()
    status = "dead" if permanent or message.attempts >= max_attempts else "failed"
    values = {"status": status, "last_error": error_type[:80], "claimed_at": None}
    if status == "failed":
        values["next_attempt_at"] = now + retry_delay(message.attempts)
    db.session.execute(update(Notification).where(_still_claimed(message)).values(**values)
                       .execution_options(synchronize_session=False))
    return status


def send_again(notification_id: str) -> Notification:
    """An administrator sends a failed or dead message again now (after mending the address or the server)."""
    row = db.session.get(Notification, notification_id)
    if row is None:
        raise NotFound("No such message")
    if row.status not in ("failed", "dead"):
        raise Conflict("This message is not waiting to be sent again")
    row.status, row.attempts, row.next_attempt_at, row.claimed_at = "queued", 0, utcnow(), None
    db.session.flush()
    return row
