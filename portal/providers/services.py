"""What providers do. Services add and flush; the view commits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.auth.models import User
from portal.auth.permissions import audit
from portal.db import db, utcnow
from portal.providers.models import Offer, Vacancy
from portal.requests.models import PlacementRequest, Referral
from portal.requests.services import ServiceError


def make_offer(
    user: User,
    referral: Referral,
    vacancy: Vacancy | None,
    eligible_vacancy_ids: set[str],
    *,
    fee_gbp_week: Decimal,
    start_date: date,
    message: str | None,
) -> Offer:
    """Offer one of the provider's own open vacancies that the matching core says can meet the child's needs."""
    if vacancy is None or vacancy.setting.provider_id != user.provider_id:
        raise ServiceError("Select one of your own vacancies")
    if vacancy.status != "open" or vacancy.places_free < 1:
        raise ServiceError("This vacancy is no longer open. Choose another")
    if vacancy.id not in eligible_vacancy_ids:
        raise ServiceError("This vacancy cannot meet the child's needs. Choose another")
    placement_request = db.session.get(PlacementRequest, referral.request_id)
    if placement_request.status not in ("searching", "offers") or referral.status == "closed":
        raise ServiceError("This referral is closed: the child no longer needs a placement from you")
    offer = Offer(
        referral_id=referral.id,
        request_id=referral.request_id,
        provider_id=user.provider_id,
        vacancy_id=vacancy.id,
        fee_gbp_week=fee_gbp_week,
        start_date=start_date,
        message=(message or "").strip() or None,
        created_by_id=user.id,
    )
    db.session.add(offer)
    referral.status = "offered"
    if placement_request.status == "searching":
        placement_request.status = "offers"
    db.session.flush()
    audit(user, "make_offer", "placement_request", referral.request_id, detail=f"offer:{offer.id}")
    return offer


def mark_referral_viewed(user: User, referral: Referral) -> None:
    if referral.first_viewed_at is None:
        referral.first_viewed_at = utcnow()
    audit(user, "view_referral", "placement_request", referral.request_id, detail=f"referral:{referral.id}")
