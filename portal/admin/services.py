"""What the regional hub does. Services add and flush, write an audit event, and never commit."""

from __future__ import annotations

from portal.models import Provider, User
from portal.auth.permissions import audit
from portal.db import utcnow
from portal.options import bump_options_version
from portal.errors import Conflict, Forbidden, Invalid, ServiceError

__all__ = ["ServiceError", "decide_provider", "set_extract_access"]


def decide_provider(user: User, provider: Provider, *, approve: bool, reason: str) -> None:
    """Approve a provider (its active settings' open vacancies join matching at once) or reject it with a reason.

    Before approval nothing of the provider reaches officers: the matching glue reads approved providers only.
    """
    if provider.status != "pending":
        raise Conflict("This provider has already been decided")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ServiceError("Enter the reason for rejecting the registration")
    provider.status = "approved" if approve else "rejected"
    provider.status_reason = reason or None
    provider.approved_at = utcnow() if approve else None
    bump_options_version()
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
