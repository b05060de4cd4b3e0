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

from portal.db import db, new_id, utcnow
from portal.errors import Conflict, NotFound
from portal.models import NOTIFICATION_CHOICES, InAppNotification, Notification, NotificationPreference, User
from portal.notifications.templates import TEMPLATES, choosable

CLAIM_TIMEOUT = timedelta(minutes=10)
DUE = ("queued", "failed")


def link(endpoint: str, **values: str) -> dict:
    """A link in a message: the endpoint and its values, made into an address from PORTAL_BASE_URL when the
    message is rendered (never from the Host header of the request that queued it)."""
    return {"endpoint": endpoint, "values": values}


def queue_notification(user: User, template: str, *, kind: str | None = None, once_key: str | None = None,
                       **personalisation) -> Notification | None:
    """Add a message for `user` to the outbox, in the caller's unit of work (nothing is sent until it commits),
    and its in-app copy (the person's Notifications page), whatever they chose for email.

    `personalisation` fills the template's fields and must never hold a child's personal data. The person's
    choice for this kind of message is honoured: not emailed (returns None; the in-app copy stays, as the record),
    or kept for their daily digest (due at NOTIFICATIONS_DIGEST_HOUR); security messages are always sent at once.
    A deactivated account is sent nothing.

    `once_key` names a message that must be queued once only (a reminder): when a message with that key was
    queued before, or is being queued by a transaction racing this one, nothing is added and None returned."""
    if template not in TEMPLATES:
        raise ValueError(f"no template {template!r}")
    if not user.active:
        return None
    kind = kind or template
    if not _add_in_app(user, template, kind, personalisation, once_key):
        return None
    choice = "immediately" if TEMPLATES[template].security else choice_for(user, kind)
    if choice == "off":
        return None
    digest = choice == "digest"
    row = Notification(user_id=user.id, kind=kind, template=template, personalisation=personalisation,
                       status="queued", attempts=0, digest=digest,
                       next_attempt_at=next_digest_at() if digest else utcnow())
    db.session.add(row)
    return row


# A link that carries a one-time token (an invitation, a password reset): the in-app copy does not keep it.
SECRET_LINK_TEMPLATES = ("invitation", "password_reset")


def _add_in_app(user: User, template: str, kind: str, personalisation: dict, once_key: str | None) -> bool:
    """The in-app copy. With `once_key`, an INSERT that does nothing when the key exists (ON CONFLICT DO NOTHING:
    on PostgreSQL a racing transaction's insert waits for the first to commit, then does nothing); returns whether
    the row was added."""
    fields = dict(personalisation)
    if template in SECRET_LINK_TEMPLATES:
        fields["link"] = link("auth.account")
    if once_key is None:
        db.session.add(InAppNotification(user_id=user.id, kind=kind, template=template, personalisation=fields))
        return True
    values = {"id": new_id(), "user_id": user.id, "kind": kind, "template": template, "personalisation": fields,
              "created_at": utcnow(), "once_key": once_key}
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(InAppNotification).values(**values).on_conflict_do_nothing(index_elements=["once_key"])
    return bool(db.session.execute(statement.returning(InAppNotification.id)).first())


def choice_for(user: User, kind: str) -> str:
    """How `user` gets messages of `kind`: "immediately" (the default), "digest" or "off"."""
    return db.session.scalar(select(NotificationPreference.choice).where(
        NotificationPreference.user_id == user.id, NotificationPreference.kind == kind)) or "immediately"


def choices_for(user: User) -> dict[str, str]:
    """Every kind of message `user` may choose about, with their choice."""
    saved = dict(db.session.execute(select(NotificationPreference.kind, NotificationPreference.choice)
                                    .where(NotificationPreference.user_id == user.id)).all())
    return {t.name: saved.get(t.name, "immediately") for t in choosable(user.role)}


def set_choices(user: User, choices: dict[str, str]) -> None:
    """Save `user`'s choices for the kinds of message they may choose about (others are ignored)."""
    allowed = {t.name for t in choosable(user.role)}
    for kind, choice in choices.items():
        if kind not in allowed or choice not in NOTIFICATION_CHOICES:
            continue
        row = db.session.get(NotificationPreference, (user.id, kind))
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, choice=choice))
        else:
            row.choice = choice
    db.session.flush()


def next_digest_at(now: datetime | None = None) -> datetime:
    """The next daily digest: NOTIFICATIONS_DIGEST_HOUR o'clock UTC, later today or tomorrow."""
    now = now or utcnow()
    at = now.replace(hour=int(current_app.config["NOTIFICATIONS_DIGEST_HOUR"]), minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


# A provider's people who answer referrals (staff only read): they are told of a new referral.
ANSWERING_PROVIDER_ROLES = ("admin", "manager")


def queue_for_provider(provider_id: str, template: str, *, once: str | None = None, **personalisation) -> int:
    """Queue `template` for each active person of the provider who answers referrals; returns how many emails.
    `once` (a reminder's key) makes it once per person (see `queue_notification`)."""
    users = db.session.scalars(
        select(User).where(User.provider_id == provider_id, User.role == "provider", User.active.is_(True),
                           User.provider_role.in_(ANSWERING_PROVIDER_ROLES)).order_by(User.id))
    return sum(queue_notification(user, template, once_key=f"{once}:{user.id}" if once else None,
                                  **personalisation) is not None for user in users)


def mark_read(user: User, notification_id: str, now: datetime | None = None) -> None:
    """Mark one of `user`'s own in-app notifications read (again: a no-op). Another person's, or none: NotFound."""
    owned = and_(InAppNotification.id == notification_id, InAppNotification.user_id == user.id)
    if db.session.scalar(select(InAppNotification.id).where(owned)) is None:
        raise NotFound()
    db.session.execute(update(InAppNotification).where(owned, InAppNotification.read_at.is_(None))
                       .values(read_at=now or utcnow()).execution_options(synchronize_session=False))


def mark_all_read(user: User, now: datetime | None = None) -> int:
    """Mark every unread in-app notification of `user` read; returns how many were unread."""
    return db.session.execute(
        update(InAppNotification).where(InAppNotification.user_id == user.id, InAppNotification.read_at.is_(None))
        .values(read_at=now or utcnow()).execution_options(synchronize_session=False)).rowcount


def send_again(notification_id: str) -> Notification:
    """Queue a dead letter again (the administrators' Emails not sent page): due now, with its attempts counted
    afresh, sent on its own (not in a digest). Only while it is still dead (one conditional update): a message sent
    again a moment ago is a Conflict (409); one pruned since is NotFound. The caller audits it."""
    row = db.session.get(Notification, notification_id)
    if row is None:
        raise NotFound()
    changed = db.session.execute(
        update(Notification).where(Notification.id == notification_id, Notification.status == "dead")
        .values(status="queued", attempts=0, next_attempt_at=utcnow(), claimed_at=None, digest=False)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise Conflict("This email is no longer given up: it has been sent again already", code="not_dead")
    return row


@dataclass(frozen=True)
class Claimed:
    """A claimed message, as plain values: it is sent after its claim's transaction has committed."""

    id: str
    email: str
    template: str
    personalisation: dict
    attempts: int
    claimed_at: datetime
    user_id: str = ""
    digest: bool = False


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
    digest_users = {row.user_id for row in rows if row.digest}
    if digest_users:  # a person's digest goes as one email: claim the rest of it too
        more = (select(Notification).where(due, Notification.digest.is_(True),
                                           Notification.user_id.in_(digest_users),
                                           Notification.id.not_in([row.id for row in rows]))
                .execution_options(populate_existing=True))
        if db.engine.dialect.name == "postgresql":
            more = more.with_for_update(skip_locked=True, of=Notification)
        rows += list(db.session.scalars(more))
    claimed = []
    for row in rows:
        row.status, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
        claimed.append(Claimed(row.id, row.user.email, row.template, dict(row.personalisation or {}),
                               row.attempts, now, row.user_id, row.digest))
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
