"""What officers do to placement requests. Services add and flush; the view or CLI command commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from portal import geo
from portal.auth.models import User
from portal.auth.permissions import audit
from portal.db import db, utcnow
from portal.providers.models import Offer, Provider, Setting, Vacancy
from portal.providers.queries import bump_options_version
from portal.requests.models import Placement, PlacementRequest, Referral


class ServiceError(Exception):
    """A request the user made that cannot be done; the message is for the user."""


class NoLongerAvailable(ServiceError):
    pass


@dataclass(frozen=True)
class RequestDetails:
    """Validated form data for a placement request (shape already checked by the form)."""

    child_reference: str
    first_name: str
    last_name: str
    date_of_birth: date
    sex: str
    home: geo.PostcodeInfo
    school: geo.PostcodeInfo | None
    keep_school: bool
    urgency: str
    needed_by: date
    suitability_foster: str
    suitability_residential: str
    suitability_supported: str
    needs: tuple[str, ...]
    risks: tuple[str, ...]
    budget_gbp_week: Decimal | None
    notes: str | None


def create_request(user: User, details: RequestDetails, *, submit: bool) -> PlacementRequest:
    """Create a placement request in the officer's own LA, as a draft or submitted for matching."""
    req = PlacementRequest(
        la_code=user.la_code,
        created_by_id=user.id,
        status="searching" if submit else "draft",
        child_reference=details.child_reference.strip(),
        first_name=details.first_name.strip(),
        last_name=details.last_name.strip(),
        date_of_birth=details.date_of_birth,
        sex=details.sex,
        home_postcode=details.home.postcode,
        home_easting=details.home.easting,
        home_northing=details.home.northing,
        school_postcode=details.school.postcode if details.school else None,
        school_easting=details.school.easting if details.school else None,
        school_northing=details.school.northing if details.school else None,
        keep_school=details.keep_school and details.school is not None,
        urgency=details.urgency,
        needed_by=details.needed_by,
        suitability_foster=details.suitability_foster,
        suitability_residential=details.suitability_residential,
        suitability_supported=details.suitability_supported,
        needs=sorted(details.needs),
        risks=sorted(details.risks),
        budget_gbp_week=details.budget_gbp_week,
        notes=(details.notes or "").strip() or None,
        submitted_at=utcnow() if submit else None,
    )
    db.session.add(req)
    db.session.flush()
    audit(user, "create", "placement_request", req.id, detail=req.status)
    return req


def send_referrals(
    user: User, req: PlacementRequest, provider_ids: set[str], eligible_provider_ids: set[str]
) -> list[Referral]:
    """Send the anonymised referral to the chosen providers, never to one that cannot meet the child's needs."""
    if req.status not in ("searching", "offers"):
        raise ServiceError("You can only send referrals for a request that is searching for a placement")
    not_eligible = provider_ids - eligible_provider_ids
    if not_eligible:
        raise ServiceError("A provider you chose has no home that can meet this child's needs. Refresh the matches and choose again")
    already = set(db.session.scalars(select(Referral.provider_id).where(Referral.request_id == req.id)))
    referrals = []
    for provider_id in sorted(provider_ids - already):
        referral = Referral(request_id=req.id, provider_id=provider_id, sent_by_id=user.id)
        db.session.add(referral)
        referrals.append(referral)
    db.session.flush()
    for referral in referrals:
        audit(user, "send_referral", "placement_request", req.id, detail=f"provider:{referral.provider_id}")
    return referrals


def decline_offer(user: User, req: PlacementRequest, offer: Offer, reason: str) -> None:
    """Decline an offer with a reason the provider will see."""
    if not reason.strip():
        raise ServiceError("Enter a reason the provider will see")
    changed = db.session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status.in_(("made", "shortlisted")))
        .values(status="declined", decision_reason=reason.strip(), decided_at=utcnow())
    ).rowcount
    if changed != 1:
        raise ServiceError("This offer can no longer be declined")
    audit(user, "decline_offer", "placement_request", req.id, detail=f"offer:{offer.id}")


def _book_vacancy(vacancy_id: str, places: int) -> None:
    """Take `places` from an open vacancy in ONE conditional update: never read-then-write (DESIGN.md §3)."""
    result = db.session.execute(
        update(Vacancy)
        .where(
            Vacancy.id == vacancy_id,
            Vacancy.status == "open",
            Vacancy.places - Vacancy.places_taken >= places,
        )
        .values(
            places_taken=Vacancy.places_taken + places,
            status=case((Vacancy.places_taken + places >= Vacancy.places, "filled"), else_="open"),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NoLongerAvailable("This vacancy is no longer available. Nothing has been saved")


def placement_type_for(kind: str, long_term: bool = False) -> str:
    """SSDA903 placement type: U4-U6 other foster, K2 children's home, K3 supported accommodation."""
    return {"foster": "U4" if long_term else "U6", "residential": "K2", "supported": "K3"}[kind]


def provider_code_for(provider: Provider, la_code: str) -> str:
    """SSDA903 provider code: an LA's own fostering service is PR1 for its children and PR2 for others'."""
    if provider.kind == "la_fostering":
        return "PR1" if provider.la_code == la_code else "PR2"
    return provider.provider_code


def accept_offer(user: User, req: PlacementRequest, offer: Offer) -> Placement:
    """Accept one offer: book the vacancy atomically, lock the offer, record the placement, tell the others.

    Safe under concurrency on SQLite and PostgreSQL: the vacancy is booked by a conditional update, the offer
    moves to accepted by a conditional update, and unique indexes (one accepted offer per request, one placement
    per request) back both up. The loser gets NoLongerAvailable and the caller rolls back: nothing half-saved.
    """
    if req.status not in ("searching", "offers"):
        raise NoLongerAvailable("This request already has a placement or is closed. Nothing has been saved")
    changed = db.session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status.in_(("made", "shortlisted")))
        .values(status="accepted", decided_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise NoLongerAvailable("This offer is no longer available. Nothing has been saved")
    _book_vacancy(offer.vacancy_id, 1)
    vacancy = db.session.get(Vacancy, offer.vacancy_id)
    setting = db.session.get(Setting, vacancy.setting_id)
    provider = db.session.get(Provider, setting.provider_id)
    distance = geo.distance_miles(req.home_easting, req.home_northing, setting.easting, setting.northing)
    placement = Placement(
        request_id=req.id,
        offer_id=offer.id,
        setting_id=setting.id,
        provider_id=provider.id,
        la_code=req.la_code,
        start_date=offer.start_date,
        placement_type=placement_type_for(setting.kind),
        provider_code=provider_code_for(provider, req.la_code),
        weekly_cost_gbp=offer.fee_gbp_week,
        distance_miles=Decimal(str(distance)),
        inside_la=setting.la_code == req.la_code,
        over_20_miles=distance > 20,
        siblings_placed_together=0,
        recorded_by_id=user.id,
    )
    db.session.add(placement)
    # The other offers and referrals are told the outcome.
    db.session.execute(
        update(Offer)
        .where(Offer.request_id == req.id, Offer.id != offer.id, Offer.status.in_(("made", "shortlisted")))
        .values(status="not_chosen", decision_reason="Another offer was accepted for this child", decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Referral)
        .where(Referral.request_id == req.id, Referral.provider_id != provider.id)
        .values(status="closed", outcome_reason="The child has been placed elsewhere")
        .execution_options(synchronize_session=False)
    )
    req.status = "placed"
    req.closed_at = utcnow()
    bump_options_version()
    try:
        db.session.flush()
    except IntegrityError as error:
        raise NoLongerAvailable("This request already has a placement. Nothing has been saved") from error
    audit(user, "accept_offer", "placement_request", req.id, detail=f"offer:{offer.id}")
    return placement
