"""Integration API tokens (issue 14) and the API's idempotency keys.

A token is shown once: the row keeps its visible prefix (to tell tokens apart in lists) and the SHA-256 of the
whole token, never the token. Each token acts as one account (`user_id`: the LA's or provider's system account,
or the person it was issued to from the command line), so the API goes through the same scoping, services and
audit as the web pages; `la_code` or `provider_id` names the organisation it belongs to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, IdMixin, utcnow

API_SCOPES = {
    "requests:read": "Read the LA's placement requests, their ranked matches, referrals, offers and decisions",
    "requests:write": "Create and update the LA's placement requests",
    "placements:read": "Read the placements of the LA's children",
    "referrals:read": "Read the anonymised referrals sent to the provider",
    "offers:write": "Make and withdraw offers",
    "vacancies:write": "Add, change and withdraw vacancies in bulk",
}
LA_SCOPES = ("requests:read", "requests:write", "placements:read")
PROVIDER_SCOPES = ("referrals:read", "offers:write", "vacancies:write")


class ApiToken(IdMixin, Base):
    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("(la_code IS NULL) != (provider_id IS NULL)", name="one_owner"),
    )

    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list] = mapped_column(JSON)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    la_code: Mapped[str | None] = mapped_column(ForeignKey("local_authority.code"), index=True)
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("provider.id"), index=True)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])  # noqa: F821


class ApiIdempotencyKey(Base):
    """One POST's Idempotency-Key for one token: the fingerprint of what was sent and the first answer, so a replay
    gets the same answer and saves nothing, and the same key with other data is refused (422)."""

    __tablename__ = "api_idempotency_key"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_api_idempotency_token_key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    token_id: Mapped[str] = mapped_column(ForeignKey("api_token.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
