"""What the regional hub reads: providers awaiting a decision, recent decisions, a provider and its admins."""

from __future__ import annotations

from sqlalchemy import select

from portal.db import db
from portal.errors import NotFound
from portal.models import Provider, User


def list_pending_providers() -> list[Provider]:
    return list(db.session.scalars(select(Provider).where(Provider.status == "pending").order_by(Provider.created_at)))


def list_decided_providers(limit: int = 50) -> list[Provider]:
    """Recently approved or rejected providers, newest first (for the regional hub)."""
    return list(
        db.session.scalars(
            select(Provider).where(Provider.status != "pending").order_by(Provider.updated_at.desc()).limit(limit)
        )
    )


def get_provider(provider_id: str) -> Provider:
    """Any provider, for the regional hub (admins see every provider); an unknown id is not found."""
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        raise NotFound()
    return provider


def list_provider_admins(provider: Provider) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.provider_id == provider.id, User.provider_role == "admin").order_by(User.name)
        )
    )
