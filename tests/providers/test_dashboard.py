"""The provider dashboard: open vacancies and staleness, offers by status, acceptance rate, median time to respond,
referrals they could meet but did not answer. Only the provider's own figures; never a child's identity."""

import re
from datetime import timedelta

from sqlalchemy import update

from portal.db import db, utcnow
from portal.models import Offer, Referral, ReferralDecline, Vacancy
from tests.factories import create_offer, create_referral, create_request, create_vacancy
from tests.providers.helpers import SECRETS, scene


def _figure(page: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">([^<]+)<', page).group(1)


def _sent_hours_ago(referral_id: str, hours: float) -> None:
    db.session.execute(update(Referral).where(Referral.id == referral_id)
                       .values(sent_at=utcnow() - timedelta(hours=hours)))


def test_dashboard_figures(client, auth, db_session):
    s = scene()
    officer, provider = s.officer, s.provider
    # Four referrals: answered by an offer after 1 hour (accepted later), by an offer after 3 hours (declined),
    # by "cannot offer" after 5 hours, and one not answered. A fifth, closed without an answer.
    requests = [create_request(officer, needs=["therapeutic_support"], first_name=f"Child{i}") for i in range(4)]
    referrals = [s.referral] + [create_referral(r, provider) for r in requests]
    accepted = create_offer(referrals[0], s.vacancy)
    declined = create_offer(referrals[1], create_vacancy(s.setting))
    db.session.execute(update(Offer).where(Offer.id == accepted.id).values(status="accepted"))
    db.session.execute(update(Offer).where(Offer.id == declined.id).values(status="declined"))
    db.session.add(ReferralDecline(referral_id=referrals[2].id, provider_id=provider.id, reason="no_vacancy"))
    db.session.execute(update(Referral).where(Referral.id == referrals[4].id).values(status="closed"))
    for referral, hours in zip(referrals, (1, 3, 5, 7, 9)):
        _sent_hours_ago(referral.id, hours + 0.5)
    db.session.execute(update(Offer).values(created_at=utcnow() - timedelta(minutes=30)))
    db.session.execute(update(ReferralDecline).values(declined_at=utcnow() - timedelta(minutes=30)))
    # A stale open vacancy, and another provider's offer that must not count.
    stale = create_vacancy(s.setting)
    db.session.execute(update(Vacancy).where(Vacancy.id == stale.id)
                       .values(confirmed_at=utcnow() - timedelta(days=20)))
    other_offer = create_offer(create_referral(requests[3], s.other), s.other_vacancy)
    db.session.execute(update(Offer).where(Offer.id == other_offer.id).values(status="accepted"))
    db.session.commit()
    unanswered_id = referrals[3].id

    auth.sign_in(s.staff)
    page = client.get("/provider/dashboard").get_data(as_text=True)
    assert _figure(page, "acceptance_rate") == "50%"  # 1 accepted of 2 decided
    assert _figure(page, "median_response") == "3 hours"  # 1, 3 and 5 hours
    assert _figure(page, "unanswered") == "2"
    assert _figure(page, "open_vacancies") == "3"  # offers do not book a vacancy; only acceptance does
    unanswered = page.split('data-testid="unanswered"')[1].split("</table>")[0]
    assert unanswered_id in unanswered and "Willow household" in unanswered
    assert "1 referral closed before you answered" in page
    by_status = page.split('data-testid="offers-by-status"')[1].split("</dl>")[0]
    assert re.search(r'data-status="accepted">1<', by_status) and re.search(r'data-status="declined">1<', by_status)
    assert "Not confirmed for 20 days" in page
    for secret in (*SECRETS, "Child0", "Child3", "CV1 2AB", "Rival"):
        assert secret not in page


def test_an_empty_dashboard(client, auth, db_session):
    s = scene()
    db.session.execute(update(Referral).values(status="closed"))
    db.session.commit()
    auth.sign_in(s.other_user)
    page = client.get("/provider/dashboard").get_data(as_text=True)
    assert _figure(page, "acceptance_rate") == "No decisions yet"
    assert _figure(page, "median_response") == "No answers yet"
    assert "You have not made any offers yet" in page and "Willow household" not in page
