"""What the regional hub does. Services add and flush, write an audit event, and never commit."""

from __future__ import annotations

from portal.models import Provider, User
from portal.auth.permissions import audit
from portal.db import utcnow
from portal.options import bump_options_version
from portal.errors import Conflict, ServiceError

__all__ = ["ServiceError", "decide_provider"]


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
