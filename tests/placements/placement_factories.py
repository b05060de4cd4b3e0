"""Small factories for placements: an accepted offer (through the real accept_offer) and a connected person's
placement (through the real service), committed, inside the test's app context (the db_session fixture)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete

from portal.models import Placement, PlacementAgreement, PlacementRequest, Provider, Setting, User
from portal.db import db
from portal.placement_records import create_agreement
from portal.requests.services import accept_offer
from tests.factories import (
    create_offer, create_provider, create_referral, create_request, create_setting, create_user, create_vacancy,
)


@dataclass
class OfferPlacement:
    officer: User
    provider: Provider
    provider_user: User
    setting: Setting
    request: PlacementRequest
    placement: Placement


def create_offer_placement(
    officer: User | None = None, *, provider: Provider | None = None, provider_user: User | None = None,
    setting_postcode: str = "CV2 4GA", start_date: date | None = None, with_agreement: bool = True,
    first_name: str = "Amara", needs=("therapeutic_support",), risks=("going_missing",), fee: str = "880",
) -> OfferPlacement:
    """A child placed by accepting an offer, with (by default) the placement agreement generated."""
    officer = officer or create_user("officer", name="Olivia Officer")
    provider = provider or create_provider(name="Arden Fostering")
    provider_user = provider_user or create_user("provider", provider=provider, provider_role="manager",
                                                 name="Pat Provider")
    setting = create_setting(provider, postcode=setting_postcode, name="Willow household",
                             needs_met=list(needs), risks_managed=list(risks))
    vacancy = create_vacancy(setting, places=1)
    req = create_request(officer, first_name=first_name, needs=needs, risks=risks)
    offer = create_offer(create_referral(req, provider), vacancy, fee=fee)
    if start_date is not None:
        offer.start_date = start_date
        db.session.commit()
    placement = accept_offer(officer, req, offer)
    if with_agreement:
        create_agreement(placement, req, offer, user=officer)  # idempotent, whether accept_offer made it or not
    else:
        # A placement recorded before agreements were generated (or before accept_offer made one).
        db.session.execute(delete(PlacementAgreement).where(PlacementAgreement.placement_id == placement.id))
    db.session.commit()
    return OfferPlacement(officer, provider, provider_user, setting, req, placement)


def past(days: int) -> date:
    return date.today() - timedelta(days=days)


def date_fields(name: str, day: date) -> dict:
    return {name: [str(day.day), str(day.month), str(day.year)]}
