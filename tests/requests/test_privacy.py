"""Privacy boundaries: another LA's officer, an unsent provider, guessed ids and edited form fields get nothing."""

from datetime import date, timedelta

from sqlalchemy import func, select

from portal.models import AuditEvent, Offer, Referral
from tests.factories import (
    BIRMINGHAM, create_offer, create_provider, create_referral, create_request, create_setting, create_user,
    create_vacancy,
)


def test_officer_of_another_la_gets_404_and_no_data(client, auth, db_session):
    coventry_officer = create_user("officer")
    req = create_request(coventry_officer, first_name="Secretname")
    auth.sign_in(create_user("officer", la_code=BIRMINGHAM))
    for path in (f"/requests/{req.id}", f"/requests/{req.id}/access", f"/requests/{req.id}/matches"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Secretname" not in response.get_data(as_text=True)
    assert "Secretname" not in client.get("/requests/").get_data(as_text=True)
    assert client.post(f"/requests/{req.id}/referrals", data={"send_to": "all"}).status_code == 404


def test_unknown_ids_are_404(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    assert client.get("/requests/0123456789abcdef0123456789abcdef").status_code == 404
    assert client.get("/requests/../admin/").status_code in (403, 404)


def test_provider_cannot_see_a_referral_not_sent_to_it(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    sent_to = create_provider()
    other = create_provider()
    referral = create_referral(req, sent_to)
    auth.sign_in(create_user("provider", provider=other))
    assert client.get(f"/provider/referrals/{referral.id}").status_code == 404
    assert "No referrals yet" in client.get("/provider/").get_data(as_text=True)


def test_provider_cannot_offer_another_providers_vacancy(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    mine = create_provider()
    theirs = create_provider()
    create_vacancy(create_setting(mine))
    their_vacancy = create_vacancy(create_setting(theirs))
    referral = create_referral(req, mine)
    auth.sign_in(create_user("provider", provider=mine))
    day = date.today() + timedelta(days=5)
    response = client.post(f"/provider/referrals/{referral.id}", data={
        "vacancy_id": their_vacancy.id, "fee_gbp_week": "800", "start_date": [str(day.day), str(day.month), str(day.year)],
    })
    assert response.status_code == 422
    assert db_session.scalar(select(func.count()).select_from(Offer)) == 0


def test_officer_cannot_send_referral_to_a_provider_that_cannot_meet_needs(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer, needs=["bsl"])
    cannot = create_provider()
    create_vacancy(create_setting(cannot, needs_met=[]))
    auth.sign_in(officer)
    response = client.post(f"/requests/{req.id}/referrals", data={"providers": [cannot.id]})
    assert response.status_code in (400, 422)
    response = client.post(f"/requests/{req.id}/referrals", data={"send_to": "all"})
    assert response.status_code == 422
    assert "No provider can meet" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Referral)) == 0


def test_every_view_is_audited_and_shown_on_the_access_page(client, auth, db_session):
    officer = create_user("officer", name="Olive Watcher")
    req = create_request(officer)
    auth.sign_in(officer)
    client.get(f"/requests/{req.id}")
    client.get(f"/requests/{req.id}")
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.record_id == req.id, AuditEvent.action == "view")).all()
    assert len(events) == 2 and all(e.user_id == officer.id and e.role == "officer" for e in events)
    page = client.get(f"/requests/{req.id}/access").get_data(as_text=True)
    assert page.count("Olive Watcher") >= 2


def test_audit_events_hold_no_child_names(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer, first_name="Zephyrine")
    auth.sign_in(officer)
    client.get(f"/requests/{req.id}")
    for event in db_session.scalars(select(AuditEvent)):
        assert "Zephyrine" not in f"{event.detail} {event.record_id} {event.action}"


def test_accepted_offer_cannot_be_accepted_again_and_vacancy_not_double_booked(client, auth, db_session):
    officer = create_user("officer")
    first = create_request(officer)
    second = create_request(officer, first_name="Second")
    provider = create_provider()
    vacancy = create_vacancy(create_setting(provider), places=1)
    offer_1 = create_offer(create_referral(first, provider), vacancy)
    offer_2 = create_offer(create_referral(second, provider), vacancy)
    auth.sign_in(officer)
    assert client.post(f"/requests/{first.id}/offers/{offer_1.id}/accept").status_code == 302
    response = client.post(f"/requests/{second.id}/offers/{offer_2.id}/accept")
    assert response.status_code == 409
    assert "no longer available" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Offer, offer_2.id).status == "made"
