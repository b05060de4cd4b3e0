"""What the regional hub reads: providers awaiting a decision, recent decisions, a provider and its admins, and
the audit trail."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.db import db
from portal.errors import NotFound
from portal.formatting import LONDON, la_name
from portal.listing import Paged, Sort, paginate
from portal.models import AuditEvent, LocalAuthority, Provider, Setting, User


def list_pending_providers(*, page: int = 1) -> Paged[Provider]:
    """Registrations waiting for the hub's decision, oldest first (the longest waiting at the top)."""
    return paginate(select(Provider).where(Provider.status == "pending")
                    .order_by(Provider.created_at, Provider.id), page=page)


def list_decided_providers(*, page: int = 1) -> Paged[Provider]:
    """Approved or rejected providers, the latest decision first (for the regional hub)."""
    return paginate(select(Provider).where(Provider.status != "pending")
                    .order_by(Provider.updated_at.desc(), Provider.id.desc()), page=page)


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


# The people list's orders (`sort=`; `-key` is descending) and its account filters, each order ended by the id.
PEOPLE_SORTS = {
    "name": (func.lower(User.name),),
    "role": (User.role, func.lower(User.name)),
    "signed_in": (User.last_sign_in_at,),
}
PEOPLE_DEFAULT_SORT = "name"
PEOPLE_STATUSES = {"active": "Active", "no_mfa": "Security code not set up", "deactivated": "Deactivated"}


def search_people(text: str = "", role: str = "", *, status: str | None = None, sort: Sort | None = None,
                  page: int = 1) -> Paged[User]:
    """People whose name or email contains `text`, optionally of one role and account status, in `sort`'s order
    (by name by default); one page and the total."""
    query = select(User)
    text = text.strip().lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(User.name).like(pattern, escape="\\"),
                                func.lower(User.email).like(pattern, escape="\\")))
    if role:
        query = query.where(User.role == role)
    if status == "active":
        query = query.where(User.active.is_(True), User.mfa_enrolled_at.is_not(None))
    elif status == "no_mfa":
        query = query.where(User.active.is_(True), User.mfa_enrolled_at.is_(None))
    elif status == "deactivated":
        query = query.where(User.active.is_(False))
    sort = sort or Sort(PEOPLE_DEFAULT_SORT)
    order = [c.desc() if sort.descending else c.asc() for c in PEOPLE_SORTS[sort.key]]
    if sort.key == "signed_in":  # never signed in: last, whichever way round
        order.insert(0, User.last_sign_in_at.is_(None).asc())
    return paginate(query.order_by(*order, User.id.desc() if sort.descending else User.id), page=page)


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


def list_audit_events(filters: AuditFilters, *, page: int = 1) -> Paged[AuditEvent]:
    """One page of matching events, newest first, and how many match in all."""
    return paginate(_audit_query(filters), page=page)


def iter_audit_events(filters: AuditFilters, *, limit: int) -> Iterator[tuple[AuditEvent, str]]:
    """The matching events, newest first, at most `limit`, each with the name of its record (`record_names`), read
    in batches (a server-side cursor on PostgreSQL) so a large export is never held in memory. Read on a session of
    its own, opened now and closed when the iteration ends, so a download can be streamed after the request's own
    session has closed."""
    session = Session(bind=db.engine)
    query = _audit_query(filters).limit(limit).execution_options(yield_per=EXPORT_BATCH)

    def named(batch: list[AuditEvent]) -> Iterator[tuple[AuditEvent, str]]:
        names = record_names(batch, session)
        return ((event, names.get((event.record_type, event.record_id), "")) for event in batch)

    def events() -> Iterator[tuple[AuditEvent, str]]:
        try:
            batch: list[AuditEvent] = []
            for event in session.scalars(query):
                batch.append(event)
                if len(batch) == EXPORT_BATCH:
                    yield from named(batch)
                    batch = []
            yield from named(batch)
        finally:
            session.close()

    return events()


EXPORT_BATCH = 1000
# The records an event can be about that have a name people know them by. A child's record (placement_request)
# is never named here: the trail is read by the hub, who does not see children (DESIGN.md §5); it shows the id.
_NAMED_RECORDS = {"provider": (Provider.id, Provider.name), "user": (User.id, User.name),
                  "setting": (Setting.id, Setting.name)}


def record_names(events: Iterable[AuditEvent], session: Session | None = None) -> dict[tuple[str, str], str]:
    """(record type, record id) -> the record's name, for the events' providers, people, settings, and the local
    authority of a data extract: pages and CSVs show names, not codes (issue 11 §5)."""
    session = session or db.session
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.record_id:
            wanted[event.record_type].add(event.record_id)
    names: dict[tuple[str, str], str] = {}
    for record_type, (key, name) in _NAMED_RECORDS.items():
        if wanted.get(record_type):
            names.update(((record_type, record_id), value)
                         for record_id, value in session.execute(select(key, name).where(key.in_(wanted[record_type]))))
    for area in wanted.get("market_extract", ()):
        names[("market_extract", area)] = "West Midlands region" if area == "region" else la_name(area)
    return names


def list_audit_organisations() -> list[tuple[str, str]]:
    """Every organisation an event can be recorded against, as (audit value, name): the LAs, the providers, the
    regional hub."""
    las = [(f"la:{la.code}", f"{la.name} (local authority)")
           for la in db.session.scalars(select(LocalAuthority).order_by(LocalAuthority.name))]
    providers = [(f"provider:{provider_id}", f"{name} (provider)")
                 for provider_id, name in db.session.execute(select(Provider.id, Provider.name).order_by(Provider.name))]
    return [("region", "Regional hub and regional commissioners"), *las, *providers]
