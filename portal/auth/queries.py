from __future__ import annotations

from sqlalchemy import func, select

from portal.models import AuditEvent, LocalAuthority, Provider, User
from portal.db import db
from portal.listing import Paged, paginate


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def find_user(user_id: str) -> User | None:
    return db.session.get(User, user_id)


def list_local_authorities() -> list[LocalAuthority]:
    return list(db.session.scalars(select(LocalAuthority).order_by(LocalAuthority.name)))


def list_audit_events_for_record(record_type: str, record_id: str, *, page: int = 1) -> Paged[AuditEvent]:
    """One page of a record's audit trail (who has seen or changed it), newest first, and how many events in all."""
    return paginate(select(AuditEvent)
                    .where(AuditEvent.record_type == record_type, AuditEvent.record_id == record_id)
                    .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), page=page)


def organisation_names() -> dict[str, str]:
    """Every organisation the audit trail records an event against ("la:<ONS code>", "provider:<id>", "region"),
    with the name people know it by: pages show names, not codes."""
    names = {"region": "West Midlands region (regional hub and commissioners)"}
    names.update((f"la:{la.code}", la.name) for la in db.session.scalars(select(LocalAuthority)))
    names.update((f"provider:{provider_id}", name)
                 for provider_id, name in db.session.execute(select(Provider.id, Provider.name)))
    return names
