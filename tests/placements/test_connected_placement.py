"""Connected-person placements (s22C: family and friends first): SSDA903 U3/U1 and PR1, distance to the carer,
inside/outside the LA; only for a carer with regulation 24 temporary approval or full approval."""

from decimal import Decimal

from sqlalchemy import func, select

from portal import geo
from portal.models import Offer, Placement, PlacementAgreement, PlacementRequest, Referral, SiblingGroup
from tests.factories import (
    BIRMINGHAM, create_connected_person, create_offer, create_provider, create_referral, create_request,
    create_setting, create_user, create_vacancy,
)
from tests.placements.placement_factories import create_offer_placement, date_fields, past


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def test_form_shows_the_person_and_a_start_date(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    person = create_connected_person(req, name="Grace Okafor", stage="temporary_approval")
    auth.sign_in(officer)
    response = client.get(f"/placements/connected/{req.id}/{person.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in ("Grace Okafor", "Aunt", "CV2 4GA", "Temporarily approved (regulation 24)", "0.7 miles",
                 'name="start_date"', 'name="long_term"', 'name="weekly_allowance_gbp"'):
        assert text in page, text
    assert _count(db_session, Placement) == 0


def test_placing_with_an_approved_connected_person_records_the_903_fields(client, auth, db_session):
    officer = create_user("officer", name="Olivia Officer")
    req = create_request(officer)
    person = create_connected_person(req, postcode="CV2 4GA", stage="approved")
    provider = create_provider()
    offer = create_offer(create_referral(req, provider), create_vacancy(create_setting(provider)))
    auth.sign_in(officer)
    response = client.post(f"/placements/connected/{req.id}/{person.id}", data=date_fields("start_date", past(1)))
    assert response.status_code == 302
    placement = db_session.scalar(select(Placement))
    assert response.headers["Location"].endswith(f"/placements/{placement.id}")
    assert placement.connected_person_id == person.id and placement.request_id == req.id
    assert placement.offer_id is None and placement.setting_id is None and placement.provider_id is None
    assert placement.placement_type == "U3" and placement.provider_code == "PR1"
    assert placement.weekly_cost_gbp is None and placement.start_date == past(1)
    home, carer = geo.lookup("CV1 2AB"), geo.lookup("CV2 4GA")
    assert placement.distance_miles == Decimal(str(geo.distance_miles_between(home, carer))) == Decimal("0.7")
    assert placement.inside_la is True and placement.over_20_miles is False
    assert placement.siblings_placed_together == 0 and placement.recorded_by_id == officer.id
    assert db_session.get(PlacementRequest, req.id).status == "placed"
    # The providers still waiting are told the child was placed elsewhere (not where).
    assert db_session.get(Offer, offer.id).status == "not_chosen"
    assert db_session.get(Referral, offer.referral_id).outcome_reason == "The child has been placed elsewhere"
    agreement = db_session.scalar(select(PlacementAgreement))
    assert agreement.placement_id == placement.id and agreement.terms["carer"]["relationship"] == "Aunt"
    assert agreement.terms["provider"] is None and agreement.terms["placement_type"]["code"] == "U3"

    page = client.get(f"/placements/{placement.id}").get_data(as_text=True)
    assert "U3: Foster placement with relative or friend - not long term or FFA" in page
    assert "PR1: Own provision (by the local authority)" in page and "None recorded" in page
    # No provider signs a connected-person agreement: the LA's signature locks it.
    assert "Not needed" in page
    response = client.post(f"/placements/{placement.id}/sign", data={"full_name": "Olivia Officer"})
    assert response.status_code == 302
    assert db_session.get(PlacementAgreement, agreement.id).locked_at is not None

    # Already placed: refused.
    other = create_connected_person(req, name="Ben Okafor", stage="approved")
    response = client.post(f"/placements/connected/{req.id}/{other.id}", data=date_fields("start_date", past(1)))
    assert response.status_code == 409 and "already has a placement" in response.get_data(as_text=True)
    assert _count(db_session, Placement) == 1


def test_long_term_with_an_allowance_outside_the_la_far_from_home(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    person = create_connected_person(req, postcode="LS1 4AP", stage="temporary_approval")
    auth.sign_in(officer)
    page = client.get(f"/placements/connected/{req.id}/{person.id}").get_data(as_text=True)
    assert "Outside the West Midlands" in page and "more than 20 miles" in page
    response = client.post(f"/placements/connected/{req.id}/{person.id}", data={
        **date_fields("start_date", past(0)), "long_term": "y", "weekly_allowance_gbp": "250.50",
    })
    assert response.status_code == 302
    placement = db_session.scalar(select(Placement))
    assert placement.placement_type == "U1" and placement.provider_code == "PR1"
    assert placement.weekly_cost_gbp == Decimal("250.50")
    assert placement.inside_la is False and placement.over_20_miles is True
    assert placement.distance_miles == Decimal("96.3")


def test_only_a_temporarily_approved_or_approved_person_can_be_a_placement(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    auth.sign_in(officer)
    for stage, words in (("identified", "identified"), ("viability", "viability assessment")):
        person = create_connected_person(req, stage=stage)
        page = client.get(f"/placements/connected/{req.id}/{person.id}").get_data(as_text=True)
        assert "regulation 24" in page and 'name="start_date"' not in page
        response = client.post(f"/placements/connected/{req.id}/{person.id}", data=date_fields("start_date", past(1)))
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "govuk-error-summary" in page and "temporary approval under regulation 24" in page and words in page
    assert _count(db_session, Placement) == 0
    assert db_session.get(PlacementRequest, req.id).status == "searching"


def test_bad_connected_inputs_are_422_with_everything_kept_and_nothing_saved(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    person = create_connected_person(req)
    auth.sign_in(officer)
    url = f"/placements/connected/{req.id}/{person.id}"
    response = client.post(url, data={"weekly_allowance_gbp": "lots", "long_term": "y"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page and "Enter the start date" in page
    assert 'value="lots"' in page and 'value="y" checked' in page
    response = client.post(url, data={**date_fields("start_date", past(800)), "weekly_allowance_gbp": "-5"})
    assert response.status_code == 422
    assert "between £0 and £100,000" in response.get_data(as_text=True)
    response = client.post(url, data=date_fields("start_date", past(800)))
    assert response.status_code == 422 and "within a year of today" in response.get_data(as_text=True)
    assert _count(db_session, Placement) == 0


def test_siblings_placed_with_the_same_carer_are_counted_together_on_both_placements(client, auth, db_session):
    officer = create_user("officer")
    group = SiblingGroup(la_code=officer.la_code, together=True)
    db_session.add(group)
    db_session.commit()
    first, second = create_request(officer, first_name="Amara"), create_request(officer, first_name="Kemi")
    for req in (first, second):
        req.sibling_group_id = group.id
    db_session.commit()
    aunt_1 = create_connected_person(first, name="Grace Okafor")
    aunt_2 = create_connected_person(second, name="grace okafor")
    auth.sign_in(officer)
    for req, aunt in ((first, aunt_1), (second, aunt_2)):
        response = client.post(f"/placements/connected/{req.id}/{aunt.id}", data=date_fields("start_date", past(1)))
        assert response.status_code == 302
    counts = sorted(db_session.scalars(select(Placement.siblings_placed_together)))
    assert counts == [2, 2]  # two of the group live together, each counted on both


def test_connected_person_pages_are_for_the_requests_la_only(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer, first_name="Zephyrine")
    person = create_connected_person(req, name="Grace Secretaunt")
    other_req = create_request(officer)
    url = f"/placements/connected/{req.id}/{person.id}"
    auth.sign_in(create_user("officer", la_code=BIRMINGHAM))
    for response in (client.get(url), client.post(url, data=date_fields("start_date", past(1)))):
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert "Zephyrine" not in page and "Secretaunt" not in page
    auth.sign_out()
    auth.sign_in(officer)
    assert client.get(f"/placements/connected/{other_req.id}/{person.id}").status_code == 404  # not this child's
    auth.sign_out()
    provider = create_provider()
    auth.sign_in(create_user("provider", provider=provider))
    assert client.get(url).status_code == 403
    assert _count(db_session, Placement) == 0


def test_a_provider_never_sees_a_connected_person_placement(client, auth, db_session):
    op = create_offer_placement()  # the provider has a placement of its own
    req = create_request(op.officer, first_name="Zephyrine")
    person = create_connected_person(req)
    auth.sign_in(op.officer)
    client.post(f"/placements/connected/{req.id}/{person.id}", data=date_fields("start_date", past(1)))
    placement = db_session.scalar(select(Placement).where(Placement.connected_person_id == person.id))
    auth.sign_out()
    auth.sign_in(op.provider_user)
    assert client.get(f"/placements/{placement.id}").status_code == 404
    page = client.get("/placements/").get_data(as_text=True)
    assert "Zephyrine" not in page and "Amara" in page
