"""Declining a referral with a reason from the fixed list (issue 13 §4): every reason, "another reason" needs words,
bad codes and tampered posts are 4xx with nothing saved, the officer reads the reason; the service holds the same
rule for every caller. Both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import db
from portal.errors import Invalid
from portal.matching import vocabulary
from portal.models import Referral, ReferralDecline
from portal.providers.services import decline_referral
from tests.providers.helpers import fresh, scene


@pytest.mark.parametrize("reason", list(vocabulary.DECLINE_REASONS))
def test_every_reason_can_be_given_and_the_officer_sees_it(client, auth, db_session, reason):
    s = scene()
    referral_id, request_id = s.referral.id, s.request.id
    auth.sign_in(s.manager)
    data = {"reason": reason, "reason_other": "Manager on leave this week" if reason == "other" else "ignored"}
    response = client.post(f"/provider/referrals/{referral_id}/decline", data=data)
    assert response.status_code == 302
    decline = db_session.scalar(select(ReferralDecline))
    assert decline.reason == reason
    assert decline.reason_other == ("Manager on leave this week" if reason == "other" else None)
    assert fresh(Referral, referral_id).status == "declined"
    db.session.rollback()
    auth.sign_out()
    auth.sign_in(s.officer)
    page = client.get(f"/requests/{request_id}").get_data(as_text=True)
    label = vocabulary.DECLINE_REASONS[reason].replace("'", "&#39;")
    assert 'data-testid="decline-reason"' in page and label in page
    assert ("Manager on leave this week" in page) == (reason == "other")


@pytest.mark.parametrize("data, message", [
    ({"reason": "other"}, "Enter why you cannot offer a place"),
    ({"reason": "other", "reason_other": "   "}, "Enter why you cannot offer a place"),
    ({"reason": "other", "reason_other": "x" * 501}, "500 characters or fewer"),
    ({"reason": "no_room"}, "Select why you cannot offer a place"),
    ({"reason": "No bed until March"}, "Select why you cannot offer a place"),
    ({}, "Select why you cannot offer a place"),
])
def test_bad_answers_are_refused_kept_and_save_nothing(client, auth, db_session, data, message):
    s = scene()
    referral_id = s.referral.id
    auth.sign_in(s.manager)
    response = client.post(f"/provider/referrals/{referral_id}/decline", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page and message in page
    if data.get("reason_other", "").strip():
        assert data["reason_other"][:50] in page  # what was typed is kept
    assert db_session.scalar(select(ReferralDecline)) is None
    assert fresh(Referral, referral_id).status == "sent"


def test_without_the_csrf_token_nothing_is_saved(app, client, auth, db_session):
    s = scene()
    referral_id = s.referral.id
    auth.sign_in(s.manager)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(f"/provider/referrals/{referral_id}/decline", data={"reason": "fee"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert 400 <= response.status_code < 500
    assert db_session.scalar(select(ReferralDecline)) is None


def test_the_service_holds_the_rule_for_every_caller(db_session):
    s = scene()
    for reason, other, field in (("full", None, "reason"), ("other", None, "reason_other"),
                                 ("other", "y" * 501, "reason_other")):
        with pytest.raises(Invalid) as refused:
            decline_referral(s.manager, s.referral, reason, other)
        assert refused.value.field == field
    assert db_session.scalar(select(ReferralDecline)) is None
    decline = decline_referral(s.manager, s.referral, "fee", "words for a listed reason are not kept")
    assert (decline.reason, decline.reason_other) == ("fee", None)
