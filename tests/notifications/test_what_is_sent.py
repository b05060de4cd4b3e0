"""What is sent, to whom (issue 17 §2, first part), through the pages people use, and a check of every template:
no email carries a child's personal data (no name, date of birth, postcode or reference; DESIGN.md §5)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.db import utcnow
from portal.models import InAppNotification, Notification, NotificationPreference, Offer, Placement, Referral
from portal.notifications.reminders import queue_reminders
from portal.unit_of_work import unit_of_work
from portal.notifications import worker
from portal.notifications.senders import configured_sender
from portal.notifications.services import next_digest_at
from portal.notifications.templates import TEMPLATES
from tests.conftest import AuthActions
from tests.factories import create_provider, create_request, create_setting, create_user, create_vacancy
from tests.providers.helpers import offer_data
from tests.requests.test_request_life import NEEDS_BSL
from tests.smtp import body


def _deliver(app):
    return worker.send_due(configured_sender(app.config))


def _referral_and_offer(app, client, auth, db_session):
    """An officer refers a child with everything recorded to a provider; the provider offers a vacancy."""
    officer = create_user("officer", email="olu@example.test", name="Olu Officer")
    req = create_request(officer, first_name="Zebedee", last_name="Quartermaine", home_postcode="CV1 2AB",
                         urgency="today", age=11, sex="male")
    req.notes = "Zebedee's nan, Winifred Quartermaine, lives nearby"
    req.school_postcode = "CV2 4GA"
    provider = create_provider(name="Acorn Fostering")
    boss = create_user("provider", provider=provider, provider_role="admin", email="bo@example.test")
    manager = create_user("provider", provider=provider, provider_role="manager", email="mo@example.test")
    staff = create_user("provider", provider=provider, provider_role="staff", email="sid@example.test")
    vacancy = create_vacancy(create_setting(provider, postcode="CV2 4GA"))
    db_session.commit()
    auth.sign_in(officer)
    assert client.post(f"/requests/{req.id}/referrals", data={"providers": [provider.id]}).status_code == 302
    auth.sign_out()
    auth.sign_in(manager)
    referral_id = db_session.scalar(select(Notification.personalisation).where(
        Notification.template == "referral_received"))["link"]["values"]["referral_id"]
    assert client.post(f"/provider/referrals/{referral_id}", data=offer_data(vacancy.id)).status_code == 302
    auth.sign_out()
    return req, officer, boss, manager, staff


def test_providers_are_told_of_a_referral_and_the_officer_of_an_offer(app, client, auth, smtp, db_session):
    req, officer, boss, manager, staff = _referral_and_offer(app, client, auth, db_session)
    _deliver(app)
    # The referral: to the provider's people who answer referrals (its admin and manager; staff only read).
    assert len(smtp.inbox.to("bo@example.test")) == 1
    (told,) = smtp.inbox.to("mo@example.test")
    assert told["Subject"] == "New referral: Male, age 11, Today"
    assert "Coventry has sent you a referral" in body(told)
    assert re.search(r"https://portal\.example\.test/provider/referrals/\w+", body(told))
    assert smtp.inbox.to("sid@example.test") == []
    # The offer: to the officer who sent the referral.
    (offered,) = smtp.inbox.to("olu@example.test")
    assert offered["Subject"] == "New offer from Acorn Fostering for Male, age 11"
    assert f"https://portal.example.test/requests/{req.id}" in body(offered)


def _signed_in(app, user):
    client = app.test_client()
    AuthActions(client).sign_in(user)
    return client


def _offers(db_session, provider) -> list[Offer]:
    db_session.rollback()
    return list(db_session.scalars(select(Offer).where(Offer.provider_id == provider.id)
                                   .order_by(Offer.created_at, Offer.id).execution_options(populate_existing=True)))


def test_every_message_of_a_childs_search_and_no_email_carries_their_personal_data(app, smtp, db_session):
    """Every template, rendered from real events about a child with every detail recorded (and the officer's own
    words naming the child): no email holds the child's name, date of birth, postcode, reference or notes."""
    officer = create_user("officer", email="olu@example.test")
    req = create_request(officer, first_name="Zebedee", last_name="Quartermaine", home_postcode="CV1 2AB",
                         urgency="today", age=11, sex="male")
    req.notes = "Zebedee's nan, Winifred Quartermaine, lives nearby"
    req.school_postcode = "CV2 4GA"
    other = create_request(officer, first_name="Ottoline", last_name="Fairweather")
    a, b = create_provider(name="Acorn Fostering"), create_provider(name="Birch Homes")
    a_admin = create_user("provider", provider=a, provider_role="admin", email="a@example.test")
    b_admin = create_user("provider", provider=b, provider_role="admin", email="b@example.test")
    a_vacancy = create_vacancy(create_setting(a, postcode="CV2 4GA"))
    b_vacancy = create_vacancy(create_setting(b, postcode="CV1 5FB"))
    hub = create_user("admin", la_code=None)
    brother = create_request(officer, first_name="Ignatius", last_name="Quartermaine-Blythe", age=13, sex="male")
    sister = create_request(officer, first_name="Saoirse", last_name="Quartermaine-Blythe", age=10, sex="female")
    create_vacancy(create_setting(a, postcode="CV2 4GA", needs_met=["bsl"], name="Larch household"), places=2)
    going_stale = create_vacancy(create_setting(b, postcode="CV1 5FB", name="Elm household"))
    going_stale.confirmed_at = utcnow() - timedelta(days=12)
    db_session.add(NotificationPreference(user_id=officer.id, kind="offer_withdrawn", choice="digest"))
    db_session.commit()
    as_officer, as_a, as_b, as_hub = (_signed_in(app, u) for u in (officer, a_admin, b_admin, hub))

    for child in (req, other):  # referral_received, twice to each
        assert as_officer.post(f"/requests/{child.id}/referrals", data={"providers": [a.id, b.id]}).status_code == 302
    referral = {row.provider_id: row.id for row in db_session.scalars(select(Referral).where(Referral.request_id == req.id))}
    assert as_a.post(f"/provider/referrals/{referral[a.id]}", data=offer_data(a_vacancy.id)).status_code == 302
    assert as_b.post(f"/provider/referrals/{referral[b.id]}", data=offer_data(b_vacancy.id)).status_code == 302
    (first,) = _offers(db_session, a)
    assert as_a.post(f"/provider/offers/{first.id}/withdraw").status_code == 302  # offer_withdrawn
    assert as_a.post(f"/provider/referrals/{referral[a.id]}", data=offer_data(a_vacancy.id)).status_code == 302
    again = _offers(db_session, a)[-1]
    assert as_officer.post(f"/requests/{req.id}/offers/{again.id}/decline",  # offer_decision: declined
                           data={"reason": "Zebedee must stay near Winifred Quartermaine"}).status_code == 302
    (b_offer,) = _offers(db_session, b)
    assert as_officer.post(f"/requests/{req.id}/edit/needs", data=NEEDS_BSL).status_code == 302  # referral_changed
    assert as_officer.post(f"/requests/{req.id}/offers/{b_offer.id}/accept").status_code == 302  # accepted,
    placement = db_session.scalar(select(Placement).where(Placement.request_id == req.id))  # agreement_to_sign
    assert as_b.post(f"/placements/{placement.id}/sign", data={"full_name": b_admin.name}).status_code == 302
    # agreement_signed; then a sibling group referred and split (sibling_group_split)
    for sibling in (brother, sister):
        assert as_officer.post(f"/requests/{sibling.id}/edit/needs", data=NEEDS_BSL).status_code == 302
    assert as_officer.post(f"/requests/{brother.id}/siblings", data={"child_reference": sister.child_reference,
                                                                      "together": "y"}).status_code == 302
    assert as_officer.post(f"/requests/{brother.id}/referrals", data={"providers": [a.id]}).status_code == 302
    assert as_officer.post(f"/requests/{sister.id}/siblings/split", data={
        "reason": "Saoirse Quartermaine-Blythe must live apart from Ignatius"}).status_code == 302
    _signed_in(app, officer)  # new_sign_in: the officer's second browser
    with app.app_context():  # vacancy_stale_soon, placement_starting
        app.config.update(PLACEMENT_REMINDER_DAYS=60)
        with unit_of_work():
            reminded = queue_reminders()
    assert reminded.vacancies >= 1 and reminded.placements == 1
    assert as_officer.post(f"/requests/{other.id}/withdraw", data={  # referral_closed
        "reason": "other", "reason_other": "Ottoline Fairweather went home"}).status_code == 302
    assert as_hub.post(f"/people/{a_admin.id}/reset-mfa").status_code == 302  # mfa_reset
    assert as_b.post("/provider/users/new", data={"name": "Nia New", "email": "nia@example.test",
                                                  "provider_role": "staff"}).status_code == 200  # invitation
    assert app.test_client().post("/forgot-password", data={"email": "olu@example.test"}).status_code == 200

    done = _deliver(app)
    done += worker.send_due(configured_sender(app.config), next_digest_at() + timedelta(minutes=1))
    assert done.dead == 0 and done.failed == 0
    templates = {row.template for row in db_session.scalars(select(Notification))} | {"digest"}
    assert templates == set(TEMPLATES), "every template was rendered from an event"
    (digest,) = [m for m in smtp.inbox.to("olu@example.test") if m["Subject"].startswith("Your daily summary")]
    assert "Offer withdrawn by Acorn Fostering for Male, age 11" in body(digest)
    decisions = [body(m) for m in smtp.inbox.to("a@example.test") + smtp.inbox.to("b@example.test")
                 if m["Subject"].startswith("Decision on your offer")]
    assert sorted(d.split("Male, age 11: ")[1].split(".")[0] for d in decisions) == ["accepted", "declined"]
    (closed,) = [m for m in smtp.inbox.to("a@example.test") if m["Subject"].startswith("Referral closed")
                 and "placed apart" not in m["Subject"]]
    assert "withdrawn: another reason" in body(closed).lower()

    secrets = set()
    for child in (req, other, brother, sister):
        secrets |= {child.first_name, child.last_name, child.child_reference, child.home_postcode,
                    child.date_of_birth.isoformat(), child.date_of_birth.strftime("%d/%m/%Y"),
                    f"{child.date_of_birth.day} {child.date_of_birth:%B %Y}"}
    secrets |= {req.school_postcode, "Winifred", "Ignatius", "Saoirse", "live apart from"}
    assert len(smtp.inbox.messages) == done.sent >= 12  # one outbox row each: the digest holds one row
    for message in smtp.inbox.messages:
        text = f"{message['Subject']}\n{body(message)}".lower()
        leaked = [secret for secret in secrets if secret and secret.lower() in text]
        assert leaked == [], f"{message['Subject']!r} holds {leaked}"
    for row in db_session.scalars(select(Notification)):  # nor do the outbox rows
        stored = str(row.personalisation).lower()
        assert not [s for s in secrets if s and s.lower() in stored]
    in_app = list(db_session.scalars(select(InAppNotification)))  # nor their in-app copies, one for each email
    assert {row.template for row in in_app} | {"digest"} == set(TEMPLATES)
    for row in in_app:
        stored = str(row.personalisation).lower()
        assert not [s for s in secrets if s and s.lower() in stored]
