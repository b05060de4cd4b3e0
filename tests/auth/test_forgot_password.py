"""Issue 17 §3: "Forgot your password?" emails a one-time link (30 minutes, single use); the answer is the same
whether or not the address has an account; using the link ends every session and the next sign-in still asks for
the security code; requests are throttled. A real SMTP server on loopback receives the email. Both databases."""

from __future__ import annotations

import re
import time

from sqlalchemy import func, select

from portal.models import AuditEvent, Notification, User
from portal.notifications import worker
from portal.notifications.senders import configured_sender
from tests.conftest import AuthActions
from tests.factories import create_user
from tests.smtp import body, smtp  # noqa: F401  (the loopback SMTP server fixture)

NEW_PASSWORD = "lantern meadow copper"


def _ask(client, email: str):
    return client.post("/forgot-password", data={"email": email})


def _deliver(app) -> None:
    worker.send_due(configured_sender(app.config))


def _emailed_path(smtp, address: str) -> str:
    (message,) = smtp.inbox.to(address)
    assert message["Subject"] == "Reset your password for the West Midlands placement portal"
    return re.search(r"https://portal\.example\.test(/reset-password/\S+)", body(message)).group(1)


def _answer(response) -> str:
    """The page without what differs by design between any two pages (the per-response CSP nonce, form keys)."""
    text = response.get_data(as_text=True)
    return re.sub(r'nonce="[^"]+"|name="form_key"[^>]*', "", text)


def test_the_sign_in_page_offers_it(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert 'href="/forgot-password"' in page and "Forgot your password?" in page
    assert client.get("/forgot-password").status_code == 200


def test_the_same_answer_for_an_address_with_and_without_an_account(app, client, smtp, db_session):
    create_user("officer", email="olu@example.test")
    known, unknown = _ask(client, "olu@example.test"), _ask(client, "nobody@example.test")
    assert known.status_code == unknown.status_code == 200
    assert _answer(known).replace("olu@example.test", "X") == _answer(unknown).replace("nobody@example.test", "X")
    assert "If <strong>olu@example.test</strong> is the address of an account" in known.get_data(as_text=True)
    # Both requests did the same work: a throttle row and an audit row each; only the real one queued an email,
    # which the worker sends later (the mail server's time is never part of the answer).
    assert db_session.scalar(select(func.count()).select_from(Notification)) == 1
    assert smtp.inbox.messages == []
    actions = {(e.record_id is not None, e.outcome) for e in db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "request_password_reset"))}
    assert actions == {(True, "allowed"), (False, "refused")}
    _deliver(app)
    assert len(smtp.inbox.to("olu@example.test")) == 1 and len(smtp.inbox.messages) == 1


def test_every_answer_is_held_to_the_same_time(app, client, db_session):
    """A registered address's request does a little more work (its email's row): every answer is given
    PASSWORD_RESET_ANSWER_MS after the request arrived, so timing cannot tell the two apart."""
    create_user("officer", email="olu@example.test")
    app.config["PASSWORD_RESET_ANSWER_MS"] = 400
    for email in ("olu@example.test", "nobody@example.test"):
        started = time.monotonic()
        assert _ask(client, email).status_code == 200
        assert time.monotonic() - started >= 0.4, email


def test_the_emailed_link_sets_a_password_once_ends_every_session_and_mfa_still_asked(app, client, smtp, db_session):
    officer = create_user("officer", email="olu@example.test")
    elsewhere = app.test_client()
    AuthActions(elsewhere).sign_in(officer)
    assert elsewhere.get("/requests/").status_code == 200

    _ask(client, "OLU@example.test")  # any case
    _deliver(app)
    path = _emailed_path(smtp, "olu@example.test")
    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")

    assert elsewhere.get("/requests/").status_code == 302  # every session ended
    assert client.get(path).status_code == 404  # single use
    assert client.post(path, data={"password": "another good passphrase", "password_confirm":
                                   "another good passphrase"}).status_code == 404
    # The new password works, and the security code is still asked for.
    signed = client.post("/sign-in", data={"email": "olu@example.test", "password": NEW_PASSWORD})
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/sign-in/security-code")
    assert client.get("/requests/").status_code == 302  # not in before the code
    assert client.post("/sign-in/security-code", data={"code": AuthActions.code_for(officer)}).status_code == 302
    assert client.get("/requests/").status_code == 200
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "reset_password")).record_id == officer.id


def test_the_link_expires_after_30_minutes(app, client, smtp, db_session, monkeypatch):
    create_user("officer", email="olu@example.test")
    _ask(client, "olu@example.test")
    _deliver(app)
    path = _emailed_path(smtp, "olu@example.test")
    later = time.time() + 31 * 60
    monkeypatch.setattr("portal.auth.tokens.time.time", lambda: later)
    response = client.get(path)
    assert response.status_code == 404 and "This link has expired" in response.get_data(as_text=True)
    db_session.rollback()
    assert db_session.scalar(select(User).where(User.email == "olu@example.test")).password_changed_at is None


def test_requests_are_throttled_with_the_same_answer(app, client, smtp, db_session):
    create_user("officer", email="olu@example.test")
    answers = [_ask(client, "olu@example.test") for _ in range(5)]
    assert {a.status_code for a in answers} == {200}
    assert len({_answer(a) for a in answers}) == 1
    assert db_session.scalar(select(func.count()).select_from(Notification)) == 3  # PASSWORD_RESET_ACCOUNT_REQUESTS
    refused = db_session.scalars(select(AuditEvent.detail).where(
        AuditEvent.action == "request_password_reset", AuditEvent.outcome == "refused")).all()
    assert refused == ["throttled", "throttled"]
    # The sign-in lock is not touched: reset requests are not failed sign-ins.
    assert client.post("/sign-in", data={"email": "olu@example.test", "password": "password"}).status_code == 302


def test_a_deactivated_account_gets_no_email_and_the_same_answer(app, client, smtp, db_session):
    gone = create_user("officer", email="gone@example.test")
    gone.active = False
    db_session.commit()
    assert _ask(client, "gone@example.test").status_code == 200
    assert db_session.scalar(select(func.count()).select_from(Notification)) == 0


def test_bad_input_is_shown_and_kept(client, db_session):
    response = client.post("/forgot-password", data={"email": "not an address"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "correct format" in page and 'value="not an address"' in page
    assert client.post("/forgot-password", data={}).status_code == 422
    assert db_session.scalar(select(func.count()).select_from(Notification)) == 0
