"""Offers and outcomes: prefilled, only the provider's own open fitting vacancy (whatever the form says),
withdrawn before acceptance, locked once accepted; declined with the officer's reason; identity after acceptance."""

import re
from datetime import date, timedelta

from sqlalchemy import select

from portal.db import db
from portal.models import Offer, PlacementRequest, Referral, ReferralDecline, Vacancy
from portal.requests.services import accept_offer, decline_offer
from tests.factories import create_offer, create_referral, create_setting, create_vacancy
from tests.providers.helpers import SECRETS, fresh, offer_data, offers, scene


def test_offer_form_is_prefilled_and_makes_an_offer(client, auth, db_session):
    s = scene(needed_in_days=5)
    ids = {"vacancy": s.vacancy.id, "referral": s.referral.id, "request": s.request.id}
    needed_by = s.request.needed_by
    auth.sign_in(s.manager)
    page = client.get(f"/provider/referrals/{ids['referral']}").get_data(as_text=True)
    assert 'value="880.00"' in page  # the vacancy's fee
    assert f'value="{needed_by:%d}"' in page and f'value="{needed_by.year}"' in page  # the date the child is needed
    assert f'value="{ids["vacancy"]}" checked' in page
    response = client.post(f"/provider/referrals/{ids['referral']}", data=offer_data(
        ids["vacancy"], fee="875", start=needed_by, message="Room ready"))
    assert response.status_code == 302
    [offer] = offers()
    assert (offer.vacancy_id, offer.fee_gbp_week, offer.start_date, offer.message, offer.status) == (
        ids["vacancy"], 875, needed_by, "Room ready", "made")
    assert fresh(Referral, ids["referral"]).status == "offered"
    assert fresh(PlacementRequest, ids["request"]).status == "offers"
    db.session.rollback()
    # The same vacancy cannot be offered twice for one child: a conflict with what is saved (409).
    response = client.post(f"/provider/referrals/{ids['referral']}", data=offer_data(ids["vacancy"]))
    assert response.status_code == 409 and "already offered this vacancy" in response.get_data(as_text=True)
    assert len(offers()) == 1


def test_edited_vacancy_ids_never_make_an_offer(client, auth, db_session):
    s = scene()
    held = create_vacancy(s.setting, status="held")
    withdrawn = create_vacancy(s.setting, status="withdrawn")
    unfit = create_vacancy(create_setting(s.provider, name="Oak House", needs_met=[]))
    ids = [s.other_vacancy.id, held.id, withdrawn.id, unfit.id, "0123456789abcdef0123456789abcdef", ""]
    referral_id = s.referral.id
    auth.sign_in(s.manager)
    for vacancy_id in ids:
        response = client.post(f"/provider/referrals/{referral_id}", data=offer_data(vacancy_id))
        assert response.status_code == 422, vacancy_id
        page = response.get_data(as_text=True)
        assert "govuk-error-summary" in page and "Rival household" not in page
    # Bad fee and date too.
    response = client.post(f"/provider/referrals/{referral_id}", data=offer_data(
        s.vacancy.id, fee="-1", start=date.today() - timedelta(days=1)))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a weekly fee between £0 and £100,000" in page and "must be today or in the future" in page
    assert offers() == []


def test_staff_cannot_offer_or_decline_and_another_provider_cannot_answer(client, auth, db_session):
    s = scene()
    referral_id, vacancy_id = s.referral.id, s.vacancy.id
    auth.sign_in(s.staff)
    assert client.post(f"/provider/referrals/{referral_id}", data=offer_data(vacancy_id)).status_code == 403
    assert client.post(f"/provider/referrals/{referral_id}/decline", data={"reason": "no_vacancy"}).status_code == 403
    auth.sign_out()
    auth.sign_in(s.other_user)
    assert client.post(f"/provider/referrals/{referral_id}", data=offer_data(s.other_vacancy.id)).status_code == 404
    assert offers() == []
    assert db_session.scalar(select(ReferralDecline)) is None


def test_withdraw_before_acceptance_and_locked_once_accepted(client, auth, db_session):
    s = scene()
    offer = create_offer(s.referral, s.vacancy)
    second_vacancy = create_vacancy(s.setting)
    second = create_offer(s.referral, second_vacancy)
    ids = {"offer": offer.id, "second": second.id, "referral": s.referral.id}
    auth.sign_in(s.manager)
    page = client.get(f"/provider/referrals/{ids['referral']}").get_data(as_text=True)
    assert page.count('data-testid="withdraw-offer"') == 2
    assert client.post(f"/provider/offers/{ids['offer']}/withdraw").status_code == 302
    assert fresh(Offer, ids["offer"]).status == "withdrawn"
    assert fresh(Referral, ids["referral"]).status == "offered"  # the other offer is still live
    db.session.rollback()
    response = client.post(f"/provider/offers/{ids['offer']}/withdraw")
    assert response.status_code == 409 and "can no longer be withdrawn" in response.get_data(as_text=True)

    # The officer accepts the second offer: it is locked.
    accept_offer(s.officer, fresh(PlacementRequest, s.request.id), fresh(Offer, ids["second"]))
    db.session.commit()
    page = client.get(f"/provider/referrals/{ids['referral']}").get_data(as_text=True)
    assert 'data-testid="withdraw-offer"' not in page and "Locked: accepted" in page
    response = client.post(f"/provider/offers/{ids['second']}/withdraw")
    assert response.status_code == 409
    assert fresh(Offer, ids["second"]).status == "accepted"


def test_another_providers_offer_cannot_be_withdrawn(client, auth, db_session):
    s = scene()
    their_offer = create_offer(create_referral(s.request, s.other), s.other_vacancy)
    offer_id = their_offer.id
    auth.sign_in(s.admin)
    assert client.post(f"/provider/offers/{offer_id}/withdraw").status_code == 404
    assert fresh(Offer, offer_id).status == "made"


def test_decline_a_referral_with_a_reason(client, auth, db_session):
    s = scene()
    referral_id = s.referral.id
    auth.sign_in(s.manager)
    response = client.post(f"/provider/referrals/{referral_id}/decline", data={"reason": "  "})
    assert response.status_code == 422 and "Select why you cannot offer a place" in response.get_data(as_text=True)
    response = client.post(f"/provider/referrals/{referral_id}/decline",
                           data={"reason": "other", "reason_other": "No bed until March"})
    assert response.status_code == 302
    decline = db_session.scalar(select(ReferralDecline))
    assert (decline.referral_id, decline.reason, decline.reason_other, decline.provider_id) == (
        referral_id, "other", "No bed until March", s.provider.id)
    assert fresh(Referral, referral_id).status == "declined"
    db.session.rollback()
    page = client.get(f"/provider/referrals/{referral_id}").get_data(as_text=True)
    assert "No bed until March" in page and "We cannot offer a place" not in page
    response = client.post(f"/provider/referrals/{referral_id}/decline", data={"reason": "fee"})
    assert response.status_code == 422 and "already said you cannot offer" in response.get_data(as_text=True)


def test_a_live_offer_must_be_withdrawn_before_declining(client, auth, db_session):
    s = scene()
    create_offer(s.referral, s.vacancy)
    referral_id = s.referral.id
    auth.sign_in(s.manager)
    response = client.post(f"/provider/referrals/{referral_id}/decline", data={"reason": "no_vacancy"})
    assert response.status_code == 422 and "Withdraw it first" in response.get_data(as_text=True)
    assert db_session.scalar(select(ReferralDecline)) is None


def test_outcomes_declined_with_the_officers_reason_and_accepted_with_the_childs_details(client, auth, db_session):
    s = scene()
    declined = create_offer(s.referral, s.vacancy)
    decline_offer(s.officer, s.request, declined, "The fee is over our budget")
    db.session.commit()
    second_vacancy = create_vacancy(s.setting)
    accepted = create_offer(s.referral, second_vacancy)
    # A second provider also had the referral and an offer: it is told the child was placed elsewhere.
    their_offer = create_offer(create_referral(s.request, s.other), s.other_vacancy)
    ids = {"referral": s.referral.id, "their_referral": their_offer.referral_id, "ref": s.request.child_reference}
    auth.sign_in(s.staff)
    page = client.get(f"/provider/referrals/{ids['referral']}").get_data(as_text=True)
    assert "The placement officer said: “The fee is over our budget”" in page
    for secret in (*SECRETS, ids["ref"], "CV1 2AB"):
        assert secret not in page

    accept_offer(s.officer, fresh(PlacementRequest, s.request.id), fresh(Offer, accepted.id))
    db.session.commit()
    page = client.get(f"/provider/referrals/{ids['referral']}").get_data(as_text=True)
    assert "Amara Okafor" in page and ids["ref"] in page and "CV1 2AB" in page
    assert 'data-testid="agreement-status"' in page and "/placements/" in page
    assert "Your offer was accepted" in client.get("/provider/").get_data(as_text=True)
    auth.sign_out()

    auth.sign_in(s.other_user)
    page = client.get(f"/provider/referrals/{ids['their_referral']}").get_data(as_text=True)
    assert "The child has been placed elsewhere" in page and "Not chosen" in page
    for secret in (*SECRETS, ids["ref"], "CV1 2AB"):
        assert secret not in page
    assert fresh(Vacancy, s.other_vacancy.id).status == "open"


def test_withdrawing_the_last_live_offer_puts_the_request_back_to_searching(client, auth, db_session):
    s = scene()
    auth.sign_in(s.manager)
    assert client.post(f"/provider/referrals/{s.referral.id}", data=offer_data(s.vacancy.id)).status_code == 302
    assert fresh(PlacementRequest, s.request.id).status == "offers"
    offer_id = db_session.scalar(select(Offer.id))
    assert client.post(f"/provider/offers/{offer_id}/withdraw").status_code == 302
    assert fresh(PlacementRequest, s.request.id).status == "searching"
    assert fresh(Referral, s.referral.id).status == "sent"


def test_an_offers_fee_and_date_follow_the_vacancy_chosen_without_javascript(client, auth, db_session):
    """Prefilled from the best vacancy; choosing another and leaving the prefilled fee and date offers the chosen
    vacancy's own (not £880 against £840); what the provider types is kept; empty boxes take the vacancy's."""
    s = scene(needed_in_days=5)
    later = s.request.needed_by - timedelta(days=1)  # free before the child is needed: the start is needed_by
    second = create_vacancy(create_setting(s.provider, postcode="CV2 4GA", name="Rowan household",
                                           needs_met=["therapeutic_support"]),
                            places=1, fee_gbp_week="840", available_from=later)
    third = create_vacancy(create_setting(s.provider, postcode="CV2 4GA", name="Birch household",
                                          needs_met=["therapeutic_support"]), places=1, fee_gbp_week="900")
    ids = {"first": s.vacancy.id, "second": second.id, "third": third.id, "referral": s.referral.id}
    needed_by = s.request.needed_by
    auth.sign_in(s.manager)
    page = client.get(f"/provider/referrals/{ids['referral']}").get_data(as_text=True)
    prefilled_from = re.search(r'name="prefilled_from" type="hidden" value="([0-9a-f]+)"', page) or \
        re.search(r'id="prefilled_from" name="prefilled_from" type="hidden" value="([0-9a-f]+)"', page)
    prefilled = prefilled_from.group(1)
    fees = {ids["first"]: 880, ids["second"]: 840, ids["third"]: 900}
    chosen, other = [vacancy for vacancy in fees if vacancy != prefilled]
    kept = dict(offer_data(chosen, fee=str(fees[prefilled]), start=needed_by), prefilled_from=prefilled)
    assert client.post(f"/provider/referrals/{ids['referral']}", data=kept).status_code == 302
    [offer] = offers()
    assert (offer.vacancy_id, offer.fee_gbp_week, offer.start_date) == (chosen, fees[chosen], needed_by)
    typed = dict(offer_data(other, fee="865", start=needed_by + timedelta(days=1)), prefilled_from=prefilled)
    assert client.post(f"/provider/referrals/{ids['referral']}", data=typed).status_code == 302
    assert (offers()[-1].fee_gbp_week, offers()[-1].start_date) == (865, needed_by + timedelta(days=1))


def test_empty_fee_and_date_offer_the_vacancys_own(client, auth, db_session):
    s = scene(needed_in_days=5)
    auth.sign_in(s.manager)
    data = {"vacancy_id": s.vacancy.id, "fee_gbp_week": "", "start_date": ["", "", ""], "message": ""}
    response = client.post(f"/provider/referrals/{s.referral.id}", data=data)
    assert response.status_code == 302
    [offer] = offers()
    assert (offer.fee_gbp_week, offer.start_date) == (880, s.request.needed_by)
