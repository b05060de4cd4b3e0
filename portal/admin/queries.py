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


PEOPLE_PAGE = 50


def search_people(text: str = "", role: str = "", *, page: int = 1) -> tuple[list[User], int]:
    """People whose name or email contains `text`, optionally of one role, by name; one page and the total."""
    from sqlalchemy import func, or_

    query = select(User)
    text = text.strip().lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(User.name).like(pattern, escape="\\"),
                                func.lower(User.email).like(pattern, escape="\\")))
    if role:
        query = query.where(User.role == role)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.order_by(User.name, User.id).offset((page - 1) * PEOPLE_PAGE).limit(PEOPLE_PAGE))
    return list(rows), total
