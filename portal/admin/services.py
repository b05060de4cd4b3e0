from __future__ import annotations

from portal.auth.models import User
from portal.auth.permissions import audit
from portal.db import utcnow
from portal.providers.models import Provider
from portal.providers.queries import bump_options_version
from portal.requests.services import ServiceError


def decide_provider(user: User, provider: Provider, *, approve: bool, reason: str) -> None:
    """Approve a provider (its settings become visible to matching) or reject it with a reason."""
    if provider.status != "pending":
        raise ServiceError("This provider has already been decided")
    if not approve and not reason:
        raise ServiceError("Enter a reason for rejecting the registration")
    provider.status = "approved" if approve else "rejected"
    provider.status_reason = reason or None
    provider.approved_at = utcnow() if approve else None
    bump_options_version()
    audit(user, "approve_provider" if approve else "reject_provider", "provider", provider.id)
