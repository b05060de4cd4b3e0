"""The outbox: one row per message to one person, written in the transaction of the event that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, IdMixin, utcnow

# queued: waiting for its first attempt; sending: claimed by a worker; sent: the mail server or Notify took it;
# failed: the last attempt failed, tried again at `next_attempt_at`; dead: given up after the last attempt.
NOTIFICATION_STATUSES = ("queued", "sending", "sent", "failed", "dead")
# What a person chose for one kind of message: sent at once, gathered into one daily email, or not sent.
# Security messages (an invitation, a password or security code reset) are always sent at once.
NOTIFICATION_CHOICES = ("immediately", "digest", "off")


class Notification(IdMixin, Base):
    """One message to one person (issue 17 §1). Nothing is sent by the request that writes it: the row is added in
    the same transaction as the change that caused it, so a change that rolls back sends nothing, and a worker
    (`flask notifications send`) delivers it after the commit, with retries.

    `personalisation` fills the template's placeholders. It never holds a child's personal data (no name, date of
    birth or postcode): links name records by their opaque ids, and summaries are the anonymised ones providers
    see. A link is kept as an endpoint and its values (`{"endpoint": ..., "values": {...}}`), built into an address
    from `PORTAL_BASE_URL` when the message is rendered, never from a request's Host header."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed', 'dead')", name="status"),
        # The worker's claim: due rows in order of when they are due.
        Index("ix_notification_due", "status", "next_attempt_at"),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    template: Mapped[str] = mapped_column(String(40))
    personalisation: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a worker claimed it (status sending): a claim older than the worker's timeout is taken over.
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # The type of the last error only (`SMTPRecipientsRefused`, `ConnectionRefusedError`, `HTTPError 400`): an
    # error's message can quote the address or the message, which stay out of the table and the logs.
    last_error: Mapped[str | None] = mapped_column(String(80))
    # Which sender delivered it (smtp, notify, development) and its reference there (Notify's notification id).
    sender: Mapped[str | None] = mapped_column(String(20))
    sender_reference: Mapped[str | None] = mapped_column(String(100))
    # Part of the person's daily digest: due at the digest hour, and sent with their other digest messages as one.
    digest: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()  # noqa: F821


class NotificationPreference(Base):
    """One person's choice for one kind of message (issue 17 §2). No row: sent at once."""

    __tablename__ = "notification_preference"
    __table_args__ = (CheckConstraint("choice IN ('immediately', 'digest', 'off')", name="choice"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    choice: Mapped[str] = mapped_column(String(12))


class InAppNotification(IdMixin, Base):
    """The in-app copy of a message (issue 17 §2: in-app notifications mirror every email), listed on the person's
    Notifications page with an unread count in the header.

    Written by `queue_notification` beside the outbox row, whatever the person chose for email: a kind turned off
    for email still appears here, as the record of what happened. It holds the same fields as the email (no child's
    personal data), except that a link carrying a one-time token (an invitation, a password reset) is not kept:
    the in-app copy links to the person's account instead.

    `once_key` makes a message that must be sent once (a reminder the daily step queues) idempotent: a unique
    index, so a second run, or two runs racing on PostgreSQL, inserts nothing and so queues no email."""

    __tablename__ = "in_app_notification"
    __table_args__ = (
        # The header's unread count on every signed-in page: one count over this index, both conditions in it.
        # The Notifications page finds the person's rows through it too, and sorts them (one person's, a few
        # hundred at most); a second index on (user_id, created_at) would tempt planners away from this one.
        Index("ix_in_app_notification_unread", "user_id", "read_at"),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))
    template: Mapped[str] = mapped_column(String(40))
    personalisation: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    once_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class KnownDevice(IdMixin, Base):
    """A browser a person has signed in from (issue 17 §2: a new sign-in from an unrecognised device is emailed).

    The browser keeps a long-lived random cookie; only its SHA-256 is stored, per person, so the table cannot be
    used to sign in or to follow a browser between people."""

    __tablename__ = "known_device"
    __table_args__ = (UniqueConstraint("user_id", "token_hash", name="uq_known_device_user_token"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"))
    token_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
