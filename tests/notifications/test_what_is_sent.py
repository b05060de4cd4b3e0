"""What is sent, to whom (issue 17 §2, first part), through the pages people use, and a check of every template:
no email carries a child's personal data (no name, date of birth, postcode or reference; DESIGN.md §5)."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.models import Notification
from portal.notifications import worker
from portal.notifications.senders import configured_sender
from portal.notifications.templates import TEMPLATES
from tests.factories import create_provider, create_request, create_setting, create_user, create_vacancy
from tests.providers.helpers import offer_data
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


def test_no_email_carries_a_childs_personal_data(app, client, auth, smtp, db_session):
    """Every template, rendered from real events about a child with every detail recorded."""
    req, officer, boss, manager, staff = _referral_and_offer(app, client, auth, db_session)
    auth.sign_in(boss)
    assert client.post("/provider/users/new", data={"name": "Nia New", "email": "nia@example.test",
                                                    "provider_role": "staff"}).status_code == 200
    auth.sign_out()
    assert client.post("/forgot-password", data={"email": "olu@example.test"}).status_code == 200
    done = _deliver(app)
    assert done.dead == 0 and done.failed == 0
    templates = {row.template for row in db_session.scalars(select(Notification))}
    assert templates == set(TEMPLATES), "every template was rendered from an event"
    secrets = {req.first_name, req.last_name, req.child_reference, req.home_postcode, req.school_postcode,
               req.date_of_birth.isoformat(), req.date_of_birth.strftime("%d/%m/%Y"),
               f"{req.date_of_birth.day} {req.date_of_birth:%B %Y}", "Winifred"}
    assert len(smtp.inbox.messages) == done.sent >= 4
    for message in smtp.inbox.messages:
        text = f"{message['Subject']}\n{body(message)}".lower()
        leaked = [secret for secret in secrets if secret and secret.lower() in text]
        assert leaked == [], f"{message['Subject']!r} holds {leaked}"
    # The outbox rows themselves hold none either.
    for row in db_session.scalars(select(Notification)):
        stored = str(row.personalisation).lower()
        assert not [s for s in secrets if s and s.lower() in stored]
