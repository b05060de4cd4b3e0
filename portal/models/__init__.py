"""Every model of the portal, in one package that every feature may import (DESIGN.md §3).

The models sit below the features: they import only `portal.db` (and the matching core's vocabulary), never a
feature, and never each other by import: relationships across modules name their target class as a string that
SQLAlchemy resolves in the model registry, so there is no import cycle however the features use them. Alembic and
the tests see the whole schema through `metadata`.
"""

from portal.db import Base
from portal.models.allocation import AllocationRun
from portal.models.api import API_SCOPES, LA_SCOPES, PROVIDER_SCOPES, ApiIdempotencyKey, ApiToken
from portal.models.market import WhatIfScenario
from portal.models.auth import (
    PROVIDER_ROLES,
    ROLES,
    AuditEvent,
    FormSubmission,
    LocalAuthority,
    RecoveryCode,
    SignInAttempt,
    User,
    UserSession,
)
from portal.models.notifications import (
    NOTIFICATION_CHOICES,
    NOTIFICATION_STATUSES,
    InAppNotification,
    KnownDevice,
    Notification,
    NotificationPreference,
)
from portal.models.options import OPTIONS_CHANGE_SCOPES, DataVersion, OptionsChange, OptionsVersion
from portal.models.providers import (
    CONTRACTS,
    DECLINE_REASON_CODES,
    PROVIDER_KINDS,
    SETTING_KIND_FOR_PROVIDER,
    Offer,
    Provider,
    ReferralDecline,
    Setting,
    Vacancy,
)
from portal.models.requests import (
    RE_ENTRY_DECISIONS,
    RE_ENTRY_FOUND_BY,
    REQUEST_STATUSES,
    WITHDRAWAL_REASONS,
    ConnectedPerson,
    MatchRun,
    Placement,
    PlacementAgreement,
    PlacementRequest,
    ReEntryLink,
    Referral,
    RequestChange,
    SiblingGroup,
)

metadata = Base.metadata

__all__ = [
    "API_SCOPES", "ApiIdempotencyKey", "ApiToken", "LA_SCOPES", "PROVIDER_SCOPES",
    "AllocationRun", "AuditEvent", "CONTRACTS", "DECLINE_REASON_CODES", "ConnectedPerson", "DataVersion", "FormSubmission", "InAppNotification", "KnownDevice", "LocalAuthority", "MatchRun",
    "NOTIFICATION_CHOICES", "NOTIFICATION_STATUSES", "Notification", "NotificationPreference", "Offer",
    "OptionsChange", "OptionsVersion", "OPTIONS_CHANGE_SCOPES", "PROVIDER_KINDS", "PROVIDER_ROLES", "Placement", "PlacementAgreement", "PlacementRequest",
    "Provider", "RE_ENTRY_DECISIONS", "RE_ENTRY_FOUND_BY", "REQUEST_STATUSES", "ReEntryLink", "ROLES", "RecoveryCode", "RequestChange", "WITHDRAWAL_REASONS", "SignInAttempt", "UserSession", "Referral", "ReferralDecline", "SETTING_KIND_FOR_PROVIDER", "Setting", "SiblingGroup", "User",
    "Vacancy", "WhatIfScenario", "metadata",
]
