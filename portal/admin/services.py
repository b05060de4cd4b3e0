"""What the regional hub does. Services add and flush, write an audit event, and never commit."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from portal.models import Provider, User
from portal.auth.permissions import audit
from portal.db import db, utcnow
from portal.options import bump_options_version
from portal.errors import Conflict, Forbidden, Invalid, ServiceError

__all__ = ["ServiceError", "decide_provider", "set_extract_access"]


DECIDED_ALREADY = "This provider has already been decided. Nothing has been saved"


def decide_provider(user: User, provider: Provider, *, approve: bool, reason: str) -> None:
    """Approve a provider (its active settings' open vacancies join matching at once) or reject it with a reason.

    Before approval nothing of the provider reaches officers: the matching glue reads approved providers only.
    A decision is made once: one conditional update (only while the registration is pending), so of two
    administrators deciding at the same moment one succeeds and the other gets a Conflict (409).
    """
    if provider.status != "pending":
        raise Conflict(DECIDED_ALREADY)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ServiceError("Enter the reason for rejecting the registration")
    values = {"status": "approved" if approve else "rejected", "status_reason": reason or None,
              "approved_at": utcnow() if approve else None, "updated_at": utcnow()}
    decided = db.session.execute(
        update(Provider).where(Provider.id == provider.id, Provider.status == "pending").values(values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if decided != 1:
        raise Conflict(DECIDED_ALREADY)
    for name, value in values.items():  # already so in the database: the object says it too
        set_committed_value(provider, name, value)
    bump_options_version(providers=[provider.id])
    audit(user, "approve_provider" if approve else "reject_provider", "provider", provider.id)


def set_extract_access(actor: User, user: User, granted: bool) -> bool:
    """Grant or revoke a commissioner's permission to download the generalised Placements Data Standard extract
    (issue 15 §9; portal/market/extract.py). Only the regional administrator may; only a commissioner may hold it.

    Audited as `grant_extract_access` or `revoke_extract_access` on the user. Returns whether anything changed:
    asking for what is already so changes nothing and writes no event.
    """
    if actor is None or not actor.is_authenticated or actor.role != "admin":
        raise Forbidden("Only the regional administrator can change who may download the data extract",
                        code="not_admin")
    if granted and user.role != "commissioner":
        raise Invalid("Only a commissioner can be given the data extract permission", field="extract_access",
                      code="not_commissioner")
    if user.extract_access == granted:
        return False
    user.extract_access = granted
    audit(actor, "grant_extract_access" if granted else "revoke_extract_access", "user", user.id)
    return True


def send_notification_again(actor: User, notification_id: str) -> None:
    """Queue a given-up email again, from the Emails not sent page: audited on the message (its template only,
    never its address or fields). A Conflict (409) when it is no longer given up; NotFound when it is gone."""
    from portal.notifications.services import send_again

    row = send_again(notification_id)
    audit(actor, "send_notification_again", "notification", row.id, detail=f"template:{row.template}")
