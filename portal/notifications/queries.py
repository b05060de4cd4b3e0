"""Reading the outbox: the administrators' list of messages not sent, the development mail viewer's, and each
person's own in-app notifications with their unread count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from portal.listing import Paged, paginate
from portal.db import db
from portal.models import InAppNotification, Notification, User
from portal.notifications.templates import TEMPLATES, render

UNSENT_STATUSES = {"failed": "Failed, will be tried again", "dead": "Given up"}


def list_unsent(status: str | None = None, *, page: int = 1) -> Paged[Notification]:
    """Messages whose last attempt failed (`failed`) or that were given up (`dead`), most recent first."""
    statuses = [status] if status in UNSENT_STATUSES else list(UNSENT_STATUSES)
    query = (select(Notification).options(joinedload(Notification.user))
             .where(Notification.status.in_(statuses))
             .order_by(Notification.created_at.desc(), Notification.id))
    return paginate(query, page=page)


def list_development_mail(*, page: int = 1) -> Paged[Notification]:
    """What the development sender 'sent', newest first, for the mail viewer."""
    query = (select(Notification).options(joinedload(Notification.user))
             .where(Notification.status == "sent", Notification.sender == "development")
             .order_by(Notification.sent_at.desc(), Notification.id))
    return paginate(query, page=page, per_page=20)


def count_unread(user: User) -> int:
    """How many of `user`'s in-app notifications are unread: the header's count on every signed-in page, one
    count over the index ix_in_app_notification_unread (user_id, read_at)."""
    return db.session.scalar(select(func.count()).select_from(InAppNotification).where(
        InAppNotification.user_id == user.id, InAppNotification.read_at.is_(None))) or 0


def header_unread_count(user: User) -> int | None:
    """`count_unread` for the header of every signed-in page; None when the database cannot answer (an error
    page about that very trouble must still draw: its header then shows no count)."""
    try:
        return count_unread(user)
    except DBAPIError:
        db.rollback_quietly()
        return None


@dataclass(frozen=True)
class InAppItem:
    """One notification as the Notifications page shows it: the email's subject, when, and where it links."""

    id: str
    subject: str
    created_at: datetime
    read: bool
    link: dict | None


def list_in_app(user: User, *, page: int = 1) -> Paged[InAppItem]:
    """`user`'s own in-app notifications, newest first, paged (nobody else's: the query is scoped to them)."""
    query = (select(InAppNotification).where(InAppNotification.user_id == user.id)
             .order_by(InAppNotification.created_at.desc(), InAppNotification.id.desc()))
    paged = paginate(query, page=page)
    return Paged([_item(row) for row in paged.items], paged.total, paged.page, paged.per_page)


def _item(row: InAppNotification) -> InAppItem:
    fields = {key: value for key, value in (row.personalisation or {}).items() if not isinstance(value, dict)}
    template = TEMPLATES[row.template]
    subject, _ = render(template, {name: fields.get(name, "") for name in template.fields})
    link = (row.personalisation or {}).get("link")
    return InAppItem(row.id, subject, row.created_at, row.read_at is not None, link if isinstance(link, dict) else None)
