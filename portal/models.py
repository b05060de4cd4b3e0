"""Every model, imported in one place so Alembic and the tests see the whole schema."""

from portal.allocation.models import AllocationRun
from portal.auth.models import AuditEvent, LocalAuthority, User
from portal.db import Base
from portal.providers.models import Offer, OptionsVersion, Provider, ReferralDecline, Setting, Vacancy
from portal.requests.models import (
    ConnectedPerson,
    MatchRun,
    Placement,
    PlacementAgreement,
    PlacementRequest,
    Referral,
    SiblingGroup,
)

metadata = Base.metadata

__all__ = [
    "AllocationRun", "AuditEvent", "ConnectedPerson", "LocalAuthority", "MatchRun", "Offer", "OptionsVersion", "Placement", "PlacementAgreement",
    "PlacementRequest", "Provider", "Referral", "ReferralDecline", "Setting", "SiblingGroup", "User", "Vacancy", "metadata",
]
