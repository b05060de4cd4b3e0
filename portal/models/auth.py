"""Local authorities, people who sign in, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.db import Base, IdMixin, TimestampMixin, utcnow

ROLES = {
    "officer": "Placement officer",
    "provider": "Provider user",
    "commissioner": "Commissioner",
    "admin": "Administrator",
}
PROVIDER_ROLES = {"admin": "Administrator", "manager": "Manager", "staff": "Staff (read only)"}


class LocalAuthority(Base):
    """One of the 14 West Midlands LAs, keyed by its ONS code (DESIGN.md §2)."""

    __tablename__ = "local_authority"

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(30))


class User(IdMixin, TimestampMixin, UserMixin, Base):
    """A person with their own account. Officers belong to one LA, provider users to one provider."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role IN ('officer', 'provider', 'commissioner', 'admin')", name="role"),
        CheckConstraint("role != 'officer' OR la_code IS NOT NULL", name="officer_has_la"),
        CheckConstraint("role != 'provider' OR provider_id IS NOT NULL", name="provider_user_has_provider"),
    )

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    # Officers: their LA. Commissioners: their LA, or None for the regional commissioning hub.
    la_code: Mapped[str | None] = mapped_column(ForeignKey("local_authority.code"))
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("provider.id"), index=True)
    provider_role: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    last_sign_in_at: Mapped[datetime | None]

    local_authority: Mapped[LocalAuthority | None] = relationship()
    # One-way (no Provider.users): Provider is resolved by name in the model registry (portal.models.providers), so this module
    # imports no other model module.
    provider: Mapped[Provider | None] = relationship()  # noqa: F821

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def organisation(self) -> str:
        """The organisation the audit trail records for this person."""
        if self.role == "provider":
            return f"provider:{self.provider_id}"
        return f"la:{self.la_code}" if self.la_code else "region"

    @property
    def role_label(self) -> str:
        return ROLES[self.role]


class AuditEvent(Base):
    """Who did what to which record, when, and whether it was allowed (DESIGN.md §5). Never holds personal data."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_record", "record_type", "record_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    user_name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(20))
    organisation: Mapped[str | None] = mapped_column(String(60))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20), default="allowed")
    detail: Mapped[str | None] = mapped_column(Text)
