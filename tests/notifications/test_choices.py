"""Each person chooses per kind of email (issue 17 §2): at once, in one email a day, or not at all; security
emails cannot be turned off. Through the account page, with a real SMTP server on loopback; both databases."""

from __future__ import annotations

from datetime import timedelta

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.db import utcnow
from portal.models import AuditEvent, Notification, NotificationPreference
from portal.notifications import worker
from portal.notifications.senders import configured_sender
from portal.notifications.services import next_digest_at
from portal.notifications.templates import choosable
from tests.conftest import AuthActions
from tests.factories import create_provider, create_request, create_setting, create_user, create_vacancy
from tests.smtp import body

PROVIDER_KINDS = tuple(t.name for t in choosable("provider"))


def _signed_in(app, user):
    client = app.test_client()
    AuthActions(client).sign_in(user)
    return client


def _choose(client, **choices):
    data = {kind: "immediately" for kind in PROVIDER_KINDS}
    data.update(choices)
    return client.post("/account/emails", data=data)


def _refer(app, officer, requests, providers):
    as_officer = _signed_in(app, officer)
    for req in requests:
        assert as_officer.post(f"/requests/{req.id}/referrals",
                               data={"providers": [p.id for p in providers]}).status_code == 302


def _world(db_session):
    officer = create_user("officer")
    first, second = create_request(officer, sex="male", age=11), create_request(officer, sex="female", age=9)
    quiet, daily, eager = (create_provider(name=name) for name in ("Quiet Care", "Daily Care", "Eager Care"))
    people = {}
    for provider, email in ((quiet, "quiet@example.test"), (daily, "daily@example.test"), (eager, "eager@example.test")):
        people[email] = create_user("provider", provider=provider, provider_role="admin", email=email)
        create_vacancy(create_setting(provider, postcode="CV2 4GA"))
    db_session.commit()
    return officer, (first, second), (quiet, daily, eager), people


def test_off_digest_and_at_once_are_honoured(app, smtp, db_session):
    officer, requests, providers, people = _world(db_session)
    assert _choose(_signed_in(app, people["quiet@example.test"]), referral_received="off").status_code == 302
    assert _choose(_signed_in(app, people["daily@example.test"]), referral_received="digest").status_code == 302
    _refer(app, officer, requests, providers)

    sender = configured_sender(app.config)
    assert worker.send_due(sender).sent == 2  # at once: the eager provider's two referrals
    assert len(smtp.inbox.to("eager@example.test")) == 2
    assert smtp.inbox.to("quiet@example.test") == [] and smtp.inbox.to("daily@example.test") == []
    assert db_session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == people["quiet@example.test"].id)) == 0  # off: not even queued

    # At the digest hour the day's two referrals go as one email.
    digest_time = next_digest_at() + timedelta(minutes=1)
    assert worker.send_due(sender, digest_time).sent == 2  # two outbox rows ...
    (digest,) = smtp.inbox.to("daily@example.test")  # ... in one email
    assert digest["Subject"] == "Your daily summary from the West Midlands placement portal: 2 updates"
    text = body(digest)
    assert "New referral: Male, age 11" in text and "New referral: Female, age 9" in text
    assert text.count("https://portal.example.test/provider/referrals/") == 2
    assert worker.send_due(sender, digest_time + timedelta(days=1)).attempted == 0


def test_security_emails_cannot_be_turned_off(app, client, smtp, db_session):
    user = create_user("provider", provider=create_provider(), provider_role="admin", email="p@example.test")
    signed = _signed_in(app, user)
    page = signed.get("/account/emails").get_data(as_text=True)
    assert "Reset your password for the West Midlands placement portal" in page.split('data-testid="always-sent"')[1]
    assert 'name="password_reset"' not in page and 'name="referral_received"' in page
    assert _choose(signed, password_reset="off", invitation="off").status_code == 302
    assert db_session.scalar(select(func.count()).select_from(NotificationPreference)) == len(PROVIDER_KINDS)  # theirs only
    assert client.post("/forgot-password", data={"email": "p@example.test"}).status_code == 200
    worker.send_due(configured_sender(app.config))
    assert len(smtp.inbox.to("p@example.test")) == 1


def test_the_page_shows_saves_audits_and_refuses_bad_answers(app, db_session):
    user = create_user("provider", provider=create_provider(), provider_role="admin")
    signed = _signed_in(app, user)
    assert 'data-testid="email-choices"' in signed.get("/account").get_data(as_text=True)
    assert _choose(signed, offer_decision="digest").status_code == 302
    page = BeautifulSoup(signed.get("/account/emails").get_data(as_text=True), "html.parser")
    checked = {radio["name"]: radio["value"] for radio in page.select("input[type=radio][checked]")}
    assert checked == {kind: "digest" if kind == "offer_decision" else "immediately" for kind in PROVIDER_KINDS}
    bad = signed.post("/account/emails", data={"referral_received": "sometimes"})
    assert bad.status_code == 422
    assert "Select how you get emails about this" in bad.get_data(as_text=True)
    choices = dict(db_session.execute(select(NotificationPreference.kind, NotificationPreference.choice)).all())
    assert choices == {kind: "digest" if kind == "offer_decision" else "immediately" for kind in PROVIDER_KINDS}
    assert db_session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "change_email_choices")) == \
        ";".join(f"{kind}:{choices[kind]}" for kind in sorted(PROVIDER_KINDS))
    commissioner = _signed_in(app, create_user("commissioner"))
    assert 'data-testid="no-choices"' in commissioner.get("/account/emails").get_data(as_text=True)


def test_the_digest_hour(app):
    with app.app_context():
        app.config["NOTIFICATIONS_DIGEST_HOUR"] = 7
        morning = utcnow().replace(hour=6, minute=30)
        assert next_digest_at(morning) == morning.replace(hour=7, minute=0, second=0, microsecond=0)
        evening = morning.replace(hour=19)
        assert next_digest_at(evening) == (evening + timedelta(days=1)).replace(hour=7, minute=0, second=0,
                                                                                microsecond=0)
