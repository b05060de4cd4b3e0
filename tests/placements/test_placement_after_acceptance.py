"""Accepting an offer on the request page generates the placement agreement at once (issue 4 §4)."""

from sqlalchemy import select

from portal.models import Placement, PlacementAgreement
from tests.factories import (
    create_offer, create_provider, create_referral, create_request, create_setting, create_user, create_vacancy,
)


def test_accepting_an_offer_generates_the_agreement(client, auth, db_session):
    officer = create_user("officer")
    provider = create_provider()
    req = create_request(officer)
    offer = create_offer(create_referral(req, provider), create_vacancy(create_setting(provider)))
    auth.sign_in(officer)
    assert client.post(f"/requests/{req.id}/offers/{offer.id}/accept").status_code == 302
    placement = db_session.scalar(select(Placement))
    agreement = db_session.scalar(select(PlacementAgreement).where(PlacementAgreement.placement_id == placement.id))
    assert agreement is not None and agreement.terms["offer_id"] == offer.id
