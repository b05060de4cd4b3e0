"""Reading the outbox: the administrators' list of messages not sent, and the development mail viewer's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.listing import Paged, paginate
from portal.models import Notification

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
