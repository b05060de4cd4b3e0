"""Offers on a request: compared side by side, shortlisted, declined with a reason the provider sees, accepted."""

from sqlalchemy import select

from portal.models import Offer, Referral
from tests.factories import (
    create_offer, create_provider, create_referral, create_request, create_setting, create_user, create_vacancy,
)
from tests.pages import Page, get_page, post_page


def _page(response) -> str:
    return Page(response.get_data(as_text=True)).text


def test_offers_compared_shortlisted_declined_and_others_told_on_acceptance(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer, budget="900")
    near, far = create_provider(name="Near Fostering"), create_provider(name="Far Homes")
    near_vacancy = create_vacancy(create_setting(near, postcode="CV2 4GA"))
    far_vacancy = create_vacancy(create_setting(far, postcode="WR1 2AB", fee_gbp_week="1200"))
    third = create_provider(name="Third Care")
    third_vacancy = create_vacancy(create_setting(third, postcode="CV1 5FB"))
    near_offer = create_offer(create_referral(req, near), near_vacancy, fee="850")
    far_offer = create_offer(create_referral(req, far), far_vacancy, fee="1200")
    third_offer = create_offer(create_referral(req, third), third_vacancy, fee="800")
    auth.sign_in(officer)

    rows = get_page(client, f"/requests/{req.id}").table_rows("offers-table")
    far_row = " ".join(next(row for row in rows if any("Far Homes" in cell for cell in row)))
    assert "Over budget" in far_row and "Over 20 miles" in far_row  # the far, dear offer is flagged
    assert "£1,200" in far_row and "miles" in far_row
    assert "Why" in " ".join(" ".join(row) for row in rows)

    assert client.post(f"/requests/{req.id}/offers/{near_offer.id}/shortlist").status_code == 302
    assert client.post(f"/requests/{req.id}/offers/{near_offer.id}/shortlist").status_code == 409
    refused = post_page(client, f"/requests/{req.id}/offers/{far_offer.id}/decline", {"reason": ""}, status=422)
    assert "Enter a reason the provider will see" in refused.text
    response = client.post(f"/requests/{req.id}/offers/{far_offer.id}/decline", data={"reason": "Too far from school"})
    assert response.status_code == 302

    assert client.post(f"/requests/{req.id}/offers/{near_offer.id}/accept").status_code == 302
    db_session.expire_all()
    statuses = {o.id: (o.status, o.decision_reason) for o in db_session.scalars(select(Offer))}
    assert statuses[near_offer.id][0] == "accepted"
    assert statuses[far_offer.id] == ("declined", "Too far from school")
    assert statuses[third_offer.id] == ("not_chosen", "Another offer was accepted for this child")
    closed = db_session.scalars(select(Referral).where(Referral.status == "closed")).all()
    assert {r.provider_id for r in closed} == {far.id, third.id}
    # Locked once accepted: it cannot be declined or accepted again.
    assert client.post(f"/requests/{req.id}/offers/{near_offer.id}/decline", data={"reason": "x"}).status_code == 422
    assert client.post(f"/requests/{req.id}/offers/{near_offer.id}/accept").status_code == 409


def test_offer_of_another_request_is_404(client, auth, db_session):
    officer = create_user("officer")
    req, other = create_request(officer), create_request(officer, first_name="Other")
    provider = create_provider()
    offer = create_offer(create_referral(other, provider), create_vacancy(create_setting(provider)))
    auth.sign_in(officer)
    assert client.post(f"/requests/{req.id}/offers/{offer.id}/accept").status_code == 404


def test_siblings_placed_together_are_counted(client, auth, db_session):
    from portal.models import Placement

    officer = create_user("officer")
    older, younger = create_request(officer, first_name="Older"), create_request(officer, first_name="Younger")
    provider = create_provider()
    vacancy = create_vacancy(create_setting(provider, registered_places=2), places=2)
    offer_1 = create_offer(create_referral(older, provider), vacancy)
    offer_2 = create_offer(create_referral(younger, provider), vacancy)
    auth.sign_in(officer)
    client.post(f"/requests/{older.id}/siblings", data={"child_reference": younger.child_reference, "together": "y"})
    # One offer for the group places both; the other is then not chosen, and cannot be accepted as well.
    assert client.post(f"/requests/{older.id}/offers/{offer_1.id}/accept").status_code == 302
    assert client.post(f"/requests/{younger.id}/offers/{offer_2.id}/accept").status_code == 409
    db_session.expire_all()
    placements = list(db_session.scalars(select(Placement)))
    assert sorted(p.request_id for p in placements) == sorted([older.id, younger.id])
    assert {p.offer_id for p in placements} == {offer_1.id}
    assert [p.siblings_placed_together for p in placements] == [2, 2]


def test_officer_sees_a_providers_cannot_offer_answer(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    provider = create_provider(name="Busy Fostering")
    create_vacancy(create_setting(provider))
    referral = create_referral(req, provider)
    auth.sign_in(create_user("provider", provider=provider))
    response = client.post(f"/provider/referrals/{referral.id}/decline",
                           data={"reason": "other", "reason_other": "No carer free this month"})
    assert response.status_code == 302
    auth.sign_out()
    auth.sign_in(officer)
    page = _page(client.get(f"/requests/{req.id}"))
    assert "Cannot offer a place" in page and "No carer free this month" in page


def test_education_continuity_is_recorded_with_the_placement(client, auth, db_session):
    from portal import geo
    from portal.models import Placement, PlacementRequest

    officer = create_user("officer")
    req = create_request(officer)
    school = geo.lookup("CV2 4GA")
    stored = db_session.get(PlacementRequest, req.id)
    stored.school_postcode, stored.school_easting, stored.school_northing = school.postcode, school.easting, school.northing
    stored.keep_school = True
    db_session.commit()
    provider = create_provider()
    offer = create_offer(create_referral(req, provider), create_vacancy(create_setting(provider, postcode="CV1 5FB")))
    auth.sign_in(officer)
    assert client.post(f"/requests/{req.id}/offers/{offer.id}/accept").status_code == 302
    assert db_session.scalar(select(Placement)).education_continuity is True
