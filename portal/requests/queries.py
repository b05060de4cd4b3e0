"""Scoped reads for placement officers: every query takes the acting user and filters by their LA
(`portal.access`); a record that is not theirs is not found."""


from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from portal.models import (
    Offer,
    Placement,
    PlacementRequest,
    Provider,
    Referral,
    ReferralDecline,
    RequestChange,
    Setting,
    User,
    Vacancy,
)
from portal.access import get_connected_person, get_request_for_officer, officer_requests, require_officer_of
from portal.auth.permissions import audit_refused
from portal.db import db
from portal.errors import NotFound
from portal.options import group_request_ids

__all__ = [
    "find_placement_for_request", "find_request_by_reference", "get_connected_person",
    "get_offer_for_request", "get_request_for_officer", "list_changes_for_request", "list_offers_for_request",
    "list_referrals_for_request", "list_requests_for_officer", "list_siblings", "sibling_placements",
]


def list_requests_for_officer(
    user: User,
    status: str | None = None,
    *,
    urgency: str | None = None,
    age_min: int | None = None,
    age_max: int | None = None,
    search: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[PlacementRequest], int]:
    """One page of the officer's own LA's requests, newest first (a search: best match first), filtered, and how
    many match in all: nothing is cut silently (issue 11 §4). `search` matches reference or name, typos allowed."""
    query = select(PlacementRequest).where(officer_requests(user))
    if status:
        query = query.where(PlacementRequest.status == status)
    if urgency:
        query = query.where(PlacementRequest.urgency == urgency)
    today = date.today()
    if age_min is not None:  # at least age_min today: born on or before today minus age_min years
        query = query.where(PlacementRequest.date_of_birth <= _years_before(today, age_min))
    if age_max is not None:  # at most age_max today: born after today minus (age_max + 1) years
        query = query.where(PlacementRequest.date_of_birth > _years_before(today, age_max + 1))
    rows = list(db.session.scalars(query.order_by(PlacementRequest.created_at.desc())))
    if search and search.strip():
        rows = _fuzzy_filter(rows, search)
    start = (page - 1) * per_page
    return rows[start:start + per_page], len(rows)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _fuzzy_filter(rows: list[PlacementRequest], search: str) -> list[PlacementRequest]:
    """Keep requests whose reference or child's name is close to `search` (rapidfuzz), best first."""
    from rapidfuzz import fuzz

    from portal.matching import normalise_name

    needle = normalise_name(search)
    scored = []
    for row in rows:
        name = normalise_name(f"{row.first_name} {row.last_name}")
        reference = row.child_reference.lower()
        score = max(
            fuzz.WRatio(needle, name),
            fuzz.partial_ratio(needle, reference) if len(needle) >= 3 else fuzz.ratio(needle, reference),
        )
        if score >= SEARCH_THRESHOLD:
            scored.append((score, row))
    scored.sort(key=lambda pair: -pair[0])
    return [row for _score, row in scored]


# How close a search must be (0-100, rapidfuzz WRatio) to list a request: "Amara Okafr" still finds Amara Okafor.
SEARCH_THRESHOLD = 80


def list_referrals_for_request(
    user: User, placement_request: PlacementRequest
) -> list[tuple[Referral, Provider, ReferralDecline | None]]:
    """Who the referral went to, with any provider's 'we cannot offer a place' answer and its reason."""
    require_officer_of(user, placement_request)
    return list(
        db.session.execute(
            select(Referral, Provider, ReferralDecline)
            .join(Provider, Provider.id == Referral.provider_id)
            .outerjoin(ReferralDecline, ReferralDecline.referral_id == Referral.id)
            .where(Referral.request_id.in_(group_request_ids(placement_request)))
            .order_by(Provider.name)
        ).all()
    )


def list_offers_for_request(user: User, placement_request: PlacementRequest) -> list[tuple[Offer, Vacancy, Setting, Provider]]:
    require_officer_of(user, placement_request)
    return list(
        db.session.execute(
            select(Offer, Vacancy, Setting, Provider)
            .join(Vacancy, Vacancy.id == Offer.vacancy_id)
            .join(Setting, Setting.id == Vacancy.setting_id)
            .join(Provider, Provider.id == Offer.provider_id)
            .where(Offer.request_id.in_(group_request_ids(placement_request)))
            .order_by(Offer.created_at)
        ).all()
    )


def get_offer_for_request(user: User, placement_request: PlacementRequest, offer_id: str) -> Offer:
    offer = db.session.scalar(
        select(Offer).where(Offer.id == offer_id, Offer.request_id.in_(group_request_ids(placement_request)))
    )
    require_officer_of(user, placement_request)
    if offer is None:
        other = db.session.get(Offer, offer_id)
        if other is not None:  # another child's offer, asked for through this child's address
            audit_refused(user, "view_offer", "placement_request", other.request_id, detail=f"offer:{other.id}")
        raise NotFound()
    return offer


def find_placement_for_request(user: User, placement_request: PlacementRequest) -> Placement | None:
    require_officer_of(user, placement_request)
    return db.session.scalar(select(Placement).where(Placement.request_id == placement_request.id))


def sibling_placements(user: User, siblings: list[PlacementRequest]) -> dict[str, tuple[Placement, Setting | None]]:
    """Where each placed brother or sister lives (their officer's own LA's records only), by request id."""
    ids = [s.id for s in siblings if s.status == "placed"]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Placement, Setting).outerjoin(Setting, Setting.id == Placement.setting_id)
        .join(PlacementRequest, PlacementRequest.id == Placement.request_id)
        .where(Placement.request_id.in_(ids), officer_requests(user))
    ).all()
    return {placement.request_id: (placement, setting) for placement, setting in rows}


def find_request_by_reference(user: User, reference: str) -> PlacementRequest | None:
    """The officer's own LA's request with this child reference (case-insensitive), if any."""
    return db.session.scalar(
        select(PlacementRequest)
        .where(officer_requests(user),
               func.lower(PlacementRequest.child_reference) == reference.strip().lower())
        .order_by(PlacementRequest.created_at.desc())
        .limit(1)
    )


def list_siblings(user: User, placement_request: PlacementRequest) -> list[PlacementRequest]:
    require_officer_of(user, placement_request)
    if placement_request.sibling_group_id is None:
        return []
    return list(
        db.session.scalars(
            select(PlacementRequest).where(
                PlacementRequest.sibling_group_id == placement_request.sibling_group_id,
                PlacementRequest.id != placement_request.id,
                officer_requests(user),
            )
        )
    )


def list_changes_for_request(user: User, placement_request: PlacementRequest) -> list[tuple[RequestChange, str | None]]:
    """The request's changes of circumstances since it was submitted, newest first, with who made each."""
    require_officer_of(user, placement_request)
    return [tuple(row) for row in db.session.execute(
        select(RequestChange, User.name)
        .outerjoin(User, User.id == RequestChange.changed_by_id)
        .where(RequestChange.request_id == placement_request.id)
        .order_by(RequestChange.changed_at.desc())
    ).all()]
