"""Local authorities, people who sign in, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    password_changed_at: Mapped[datetime | None]
    # TOTP (RFC 6238) secret, base32; None until the user enrols at their first sign-in, or after an MFA reset.
    mfa_secret: Mapped[str | None] = mapped_column(String(64))
    mfa_enrolled_at: Mapped[datetime | None]
    # The last 30-second time step whose code was accepted: a code works once (ASVS 6.5).
    mfa_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Regional data sharing: may download the generalised Placements Data Standard extract. Granted by the
    # regional administrator, audited (issue 15 §9).
    extract_access: Mapped[bool] = mapped_column(default=False)

    local_authority: Mapped[LocalAuthority | None] = relationship()
    # One-way (no Provider.users): Provider is resolved by name in the model registry (portal.models.providers), so this module
    # imports no other model module.
    provider: Mapped[Provider | None] = relationship()  # noqa: F821

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
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    user_name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(20))
    organisation: Mapped[str | None] = mapped_column(String(60))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20), default="allowed")
    detail: Mapped[str | None] = mapped_column(Text)
    # Where the request came from (the client address the app sees; see docs/security.md on proxies).
    source_address: Mapped[str | None] = mapped_column(String(45))


class UserSession(IdMixin, Base):
    """One signed-in browser (issue 15 §5). The cookie holds a random token; the row holds its SHA-256, so a
    stolen database cannot be replayed as a cookie. A session is live while it is not ended, has been used in the
    last 30 minutes and began less than 12 hours ago; it counts as signed in only once its MFA step has passed."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user_live", "user_id", "ended_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the security code (or a recovery code) was accepted; None while the session waits at the MFA step.
    mfa_at: Mapped[datetime | None]
    mfa_failures: Mapped[int] = mapped_column(default=0)
    # A secret offered at enrolment, kept until the first code proves the authenticator app has it.
    pending_mfa_secret: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(30))
    source_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class RecoveryCode(IdMixin, Base):
    """One of a user's ten one-time MFA recovery codes, stored as a SHA-256 of an 80-bit random code."""

    __tablename__ = "recovery_code"

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class SignInAttempt(Base):
    """Each password or security-code attempt, counted in the database so every worker and host agrees on a
    lock (issue 15 §3). `account_key` is a SHA-256 of the normalised email address, known account or not."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        Index("ix_sign_in_attempt_account", "account_key", "at"),
        Index("ix_sign_in_attempt_address", "source_address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    account_key: Mapped[str] = mapped_column(String(64))
    source_address: Mapped[str | None] = mapped_column(String(45))
    step: Mapped[str] = mapped_column(String(20))
    succeeded: Mapped[bool]


class FormSubmission(Base):
    """A form's one-time key, once what it sent was saved (issue 16 §2): a double click or a browser retry of the
    same form returns the first result instead of saving twice; the same key with other answers is refused.

    `key_hash` is the SHA-256 of the key; `fingerprint` the SHA-256 of the answers sent (not the answers: no
    personal data is kept here); `outcome_url` where the first submission led (set once it answered)."""

    __tablename__ = "form_submission"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    outcome_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
