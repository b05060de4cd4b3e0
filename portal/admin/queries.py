"""What the regional hub reads: providers awaiting a decision, recent decisions, a provider and its admins, and
the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.db import db
from portal.errors import NotFound
from portal.formatting import LONDON
from portal.models import AuditEvent, LocalAuthority, Provider, User


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


# ------------------------------------------------------------------------------------------ the audit trail

@dataclass(frozen=True)
class AuditFilters:
    """What the regional administrator searches the audit trail by; None (or empty) is "any"."""

    user: str | None = None  # part of the email address or name
    record_type: str | None = None
    record_id: str | None = None
    organisation: str | None = None  # as the audit records it: "la:<ONS code>", "provider:<id>" or "region"
    action: str | None = None
    outcome: str | None = None
    date_from: date | None = None  # days in UK time, both included
    date_to: date | None = None

    def used(self) -> list[str]:
        """The names of the filters in use (for the audit of an export: names, never the values searched)."""
        return [name for name, value in vars(self).items() if value not in (None, "")]


def _uk_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON).astimezone(timezone.utc)


def _audit_query(filters: AuditFilters):
    query = select(AuditEvent)
    if filters.user and filters.user.strip():
        needle = filters.user.strip().lower()
        users = select(User.id).where(or_(func.lower(User.email).contains(needle, autoescape=True),
                                          func.lower(User.name).contains(needle, autoescape=True)))
        # The name recorded at the time, or the account as it is now (a name may have changed since).
        query = query.where(or_(func.lower(AuditEvent.user_name).contains(needle, autoescape=True),
                                AuditEvent.user_id.in_(users)))
    if filters.record_type and filters.record_type.strip():
        query = query.where(AuditEvent.record_type == filters.record_type.strip())
    if filters.record_id and filters.record_id.strip():
        query = query.where(AuditEvent.record_id == filters.record_id.strip())
    if filters.organisation:
        query = query.where(AuditEvent.organisation == filters.organisation)
    if filters.action and filters.action.strip():
        query = query.where(AuditEvent.action == filters.action.strip())
    if filters.outcome:
        query = query.where(AuditEvent.outcome == filters.outcome)
    if filters.date_from:
        query = query.where(AuditEvent.at >= _uk_midnight(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEvent.at < _uk_midnight(filters.date_to + timedelta(days=1)))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def list_audit_events(filters: AuditFilters, *, page: int = 1, per_page: int = 50) -> tuple[list[AuditEvent], bool]:
    """One page of matching events, newest first, and whether there is a next page."""
    rows = list(db.session.scalars(_audit_query(filters).offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def iter_audit_events(filters: AuditFilters, *, limit: int) -> Iterator[AuditEvent]:
    """The matching events, newest first, at most `limit`, read in batches (a server-side cursor on PostgreSQL) so a
    large export is never held in memory. Read on a session of its own, opened now and closed when the iteration
    ends, so a download can be streamed after the request's own session has closed."""
    session = Session(bind=db.engine)
    query = _audit_query(filters).limit(limit).execution_options(yield_per=1000)

    def events() -> Iterator[AuditEvent]:
        try:
            yield from session.scalars(query)
        finally:
            session.close()

    return events()


def list_audit_organisations() -> list[tuple[str, str]]:
    """Every organisation an event can be recorded against, as (audit value, name): the LAs, the providers, the
    regional hub."""
    las = [(f"la:{la.code}", f"{la.name} (local authority)")
           for la in db.session.scalars(select(LocalAuthority).order_by(LocalAuthority.name))]
    providers = [(f"provider:{provider_id}", f"{name} (provider)")
                 for provider_id, name in db.session.execute(select(Provider.id, Provider.name).order_by(Provider.name))]
    return [("region", "Regional hub and regional commissioners"), *las, *providers]
