"""Issue 15 §2-§5 from the outside: mandatory MFA, throttled sign-in, the password policy and its hashes, and
server-side sessions that really end. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select, update

from portal.db import utcnow
from portal.models import AuditEvent, RecoveryCode, SignInAttempt, User, UserSession
from tests.conftest import AuthActions, totp_code
from tests.factories import TEST_MFA_SECRET, create_provider, create_user

REFUSED = "Enter a correct email address and password"


def _password(client, email, password="password"):
    return client.post("/sign-in", data={"email": email, "password": password})


def _code(client, user):
    return client.post("/sign-in/security-code", data={"code": AuthActions.code_for(user)})


# ------------------------------------------------------------------------------------------------------- MFA

def test_no_page_past_sign_in_is_reachable_before_the_code(client, db_session):
    officer = create_user("officer")
    assert _password(client, officer.email).headers["Location"].endswith("/sign-in/security-code")
    for path in ("/requests/", "/requests/new", "/placements/", "/account"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in/security-code"), path
    assert client.post("/requests/new").status_code in (302, 403)
    assert db_session.scalar(select(func.count()).select_from(UserSession).where(UserSession.mfa_at.is_not(None))) == 0


def test_a_wrong_or_malformed_code_is_refused_with_the_field_error(client, db_session):
    officer = create_user("officer")
    _password(client, officer.email)
    wrong = "000000" if pyotp.TOTP(TEST_MFA_SECRET).now() != "000000" else "111111"
    for code, message in (("", "Enter the security code"), ("12345", "must be 6 digits"),
                          ("abcdef", "must be 6 digits"), (wrong, "not correct or has expired")):
        response = client.post("/sign-in/security-code", data={"code": code})
        assert response.status_code == 422 and message in response.get_data(as_text=True), code
    assert client.get("/requests/").status_code == 302
    assert _code(client, officer).status_code == 302
    assert client.get("/requests/").status_code == 200


def test_a_code_works_once(app, db_session):
    officer = create_user("officer")
    code = totp_code(TEST_MFA_SECRET)
    first, second = app.test_client(), app.test_client()
    _password(first, officer.email)
    assert first.post("/sign-in/security-code", data={"code": code}).status_code == 302
    _password(second, officer.email)
    response = second.post("/sign-in/security-code", data={"code": code})
    assert response.status_code == 422 and "not correct" in response.get_data(as_text=True)


def test_five_wrong_codes_end_the_pending_sign_in(client, db_session):
    officer = create_user("officer")
    _password(client, officer.email)
    for _ in range(4):
        assert client.post("/sign-in/security-code", data={"code": "999999"}).status_code in (422, 302)
    response = client.post("/sign-in/security-code", data={"code": "999998"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    assert _code(client, officer).status_code == 302  # no pending sign-in: back to the password
    assert client.get("/requests/").status_code == 302


def test_first_sign_in_enrols_with_a_qr_code_and_ten_hashed_recovery_codes(client, db_session):
    officer = create_user("officer")
    officer.mfa_secret = None
    db_session.commit()
    assert _password(client, officer.email).headers["Location"].endswith("/sign-in/set-up-authenticator-app")
    page = client.get("/sign-in/set-up-authenticator-app").get_data(as_text=True)
    assert "<svg" in page and "QR code for your authenticator app" in page and "http" not in page.split("<svg")[1].split("</svg>")[0].replace("http://www.w3.org", "")
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert client.get("/sign-in/set-up-authenticator-app").get_data(as_text=True).count(" ".join(
        secret[i:i + 4] for i in range(0, 32, 4))) == 1  # the same secret until it is proven
    response = client.post("/sign-in/set-up-authenticator-app", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(r"<code[^>]*>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code>", response.get_data(as_text=True))
    assert len(set(codes)) == 10
    stored = db_session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == officer.id)).all()
    assert len(stored) == 10 and not any(code.replace("-", "") in h or code in h for code in codes for h in stored)
    db_session.expire_all()
    assert db_session.get(User, officer.id).mfa_secret == secret
    assert client.get("/requests/").status_code == 200


def test_a_recovery_code_works_once(app, client, db_session):
    officer = create_user("officer")
    AuthActions(client).sign_in(officer)
    response = client.post("/account/recovery-codes", data={"password": "wrong"})
    assert response.status_code == 422 and "password is not correct" in response.get_data(as_text=True)
    page = client.post("/account/recovery-codes", data={"password": "password"}).get_data(as_text=True)
    codes = re.findall(r"<code[^>]*>([A-Z2-7-]{19})</code>", page)
    client.post("/sign-out")
    _password(client, officer.email)
    assert client.post("/sign-in/recovery-code", data={"code": codes[3].lower()}).status_code == 302
    assert "9 of 10 left" in client.get("/account").get_data(as_text=True)
    client.post("/sign-out")
    _password(client, officer.email)
    response = client.post("/sign-in/recovery-code", data={"code": codes[3]})
    assert response.status_code == 422 and "already been used" in response.get_data(as_text=True)


def _sign_in_as(app, user):
    client = app.test_client()
    AuthActions(client).sign_in(user)
    return client


def test_the_regional_administrator_resets_anyones_mfa_audited(app, db_session):
    admin = create_user("admin", la_code=None)
    officer = create_user("officer")
    theirs = _sign_in_as(app, officer)
    mine = _sign_in_as(app, admin)
    assert officer.name in mine.get("/admin/people?q=" + officer.email[:8]).get_data(as_text=True)
    assert mine.get(f"/people/{officer.id}/security").status_code == 200
    assert mine.post(f"/people/{officer.id}/reset-mfa").status_code == 302
    assert theirs.get("/requests/").headers["Location"].startswith("/signed-out?reason=ended")
    db_session.expire_all()
    assert db_session.get(User, officer.id).mfa_secret is None
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "reset_mfa"))
    assert (event.user_id, event.record_id) == (admin.id, officer.id)
    # Their next sign-in sets up a new app.
    assert _password(app.test_client(), officer.email).headers["Location"].endswith("/set-up-authenticator-app")


def test_a_provider_admin_resets_mfa_only_for_their_own_people(app, db_session):
    provider, other = create_provider(), create_provider(name="Other Care")
    admin = create_user("provider", provider=provider, provider_role="admin")
    colleague = create_user("provider", provider=provider, provider_role="staff")
    stranger = create_user("provider", provider=other, provider_role="staff")
    officer = create_user("officer")
    mine = _sign_in_as(app, admin)
    assert "Sign-in and security" in mine.get("/provider/users").get_data(as_text=True)
    assert mine.post(f"/people/{colleague.id}/reset-mfa").status_code == 302
    for person in (stranger, officer):
        assert mine.get(f"/people/{person.id}/security").status_code == 403
        assert mine.post(f"/people/{person.id}/reset-mfa").status_code == 403
    assert mine.get("/people/nobody/security").status_code == 404
    db_session.expire_all()
    assert db_session.get(User, stranger.id).mfa_secret == TEST_MFA_SECRET
    assert db_session.get(User, colleague.id).mfa_secret is None
    manager = create_user("provider", provider=provider, provider_role="manager")
    assert _sign_in_as(app, manager).post(f"/people/{colleague.id}/reset-mfa").status_code == 403


def test_demo_mfa_code_command(app, runner, db_session):
    from portal.demo.people import demo_mfa_secret

    create_user("officer", email="someone@demo.wmportal.test")
    user = db_session.scalar(select(User).where(User.email == "someone@demo.wmportal.test"))
    user.mfa_secret = demo_mfa_secret(user.email)
    db_session.commit()
    result = runner.invoke(args=["demo", "mfa-code", "Someone@demo.wmportal.test"])
    assert result.exit_code == 0 and re.fullmatch(r"\d{6}\n", result.output)
    assert pyotp.TOTP(demo_mfa_secret("someone@demo.wmportal.test")).verify(result.output.strip(), valid_window=1)
    assert runner.invoke(args=["demo", "mfa-code", "real.person@coventry.gov.uk"]).exit_code == 1
    assert runner.invoke(args=["demo", "mfa-code", "nobody@demo.wmportal.test"]).exit_code == 1
    app.config["PORTAL_ENV"] = "production"
    assert runner.invoke(args=["demo", "mfa-code", "someone@demo.wmportal.test"]).exit_code == 1


# -------------------------------------------------------------------------------------------- throttling

def test_more_than_ten_failures_lock_the_account_with_the_same_message(client, db_session):
    officer = create_user("officer")
    answers = [_password(client, officer.email, "wrong-password") for _ in range(11)]
    assert all(a.status_code == 422 and REFUSED in a.get_data(as_text=True) for a in answers)
    locked = _password(client, officer.email)  # the right password, now locked
    assert locked.status_code == 422 and REFUSED in locked.get_data(as_text=True)
    # the same page, word for word, as for an account that does not exist
    unknown = _password(client, "nobody@example.test", "wrong-password")
    strip = lambda r: re.sub(r'value="[^"]*"|nonce="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(locked) == strip(unknown)
    # 15 minutes later it opens again
    db_session.execute(update(SignInAttempt).values(at=utcnow() - timedelta(minutes=16)))
    db_session.commit()
    assert _password(client, officer.email).status_code == 302


def test_failures_for_an_unknown_account_are_counted_the_same_way(client, db_session):
    for _ in range(11):
        _password(client, "ghost@example.test", "wrong-password")
    keys = db_session.scalars(select(SignInAttempt.account_key)).all()
    assert len(set(keys)) == 1 and "ghost" not in keys[0]
    assert db_session.scalar(select(func.count()).select_from(SignInAttempt)) == 11


def test_one_address_is_limited_across_accounts(app, client, db_session):
    app.config["SIGN_IN_ADDRESS_FAILURES"] = 5
    officer = create_user("officer")
    for n in range(6):
        _password(client, f"spray{n}@example.test", "wrong-password")
    assert _password(client, officer.email).status_code == 422
    other_address = app.test_client()
    response = other_address.post("/sign-in", data={"email": officer.email, "password": "password"},
                                  environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 302


def test_unknown_accounts_are_checked_against_a_dummy_hash(client, db_session, monkeypatch):
    from portal.auth import passwords

    checked = []
    original = passwords._check_argon2
    monkeypatch.setattr(passwords, "_check_argon2", lambda ph, stored, pw: checked.append(stored) or original(ph, stored, pw))
    _password(client, "nobody@example.test", "a-guess-at-a-password")
    assert len(checked) == 1 and checked[0].startswith("$argon2id$")


# --------------------------------------------------------------------------------------------- passwords

@pytest.mark.parametrize("password, message", [
    ("short-pass", "12 characters or more"),
    ("x" * 257, "256 characters or fewer"),
    ("password1234", "most common passwords"),
    ("qwertyuiop123", "harder to guess"),
    ("westmidlands1", "harder to guess"),
])
def test_the_password_policy(client, db_session, password, message):
    officer = create_user("officer")
    AuthActions(client).sign_in(officer)
    response = client.post("/account/password", data={"current_password": "password", "password": password,
                                                      "password_confirm": password})
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_any_characters_are_allowed_up_to_256(db_session):
    from portal.auth.passwords import password_problem

    assert password_problem("ein Käsebrot mit 🥒 und Senf") is None
    assert password_problem("correct horse battery staple " * 8 + "zz"[:256 - 232]) is None


def test_an_old_hash_is_upgraded_to_argon2id_at_sign_in(client, db_session):
    from werkzeug.security import generate_password_hash

    officer = create_user("officer")
    officer.password_hash = generate_password_hash("password", method="scrypt")
    db_session.commit()
    AuthActions(client).sign_in(officer)
    db_session.expire_all()
    assert db_session.get(User, officer.id).password_hash.startswith("$argon2id$")


def test_changing_the_password_ends_every_session(app, db_session):
    officer = create_user("officer")
    other_browser = _sign_in_as(app, officer)
    client = _sign_in_as(app, officer)
    response = client.post("/account/password", data={"current_password": "wrong", "password": "a new long phrase",
                                                      "password_confirm": "a new long phrase"})
    assert response.status_code == 422 and "current password is not correct" in response.get_data(as_text=True)
    response = client.post("/account/password", data={"current_password": "password", "password": "a new long phrase",
                                                      "password_confirm": "a new long phrase"})
    assert response.status_code == 302
    for browser in (client, other_browser):
        assert browser.get("/requests/").status_code == 302
    assert _password(app.test_client(), officer.email).status_code == 422
    assert _password(app.test_client(), officer.email, "a new long phrase").status_code == 302


def test_a_reset_link_works_once_and_ends_sessions(app, db_session):
    admin = create_user("admin", la_code=None)
    officer = create_user("officer")
    theirs = _sign_in_as(app, officer)
    page = _sign_in_as(app, admin).post(f"/people/{officer.id}/reset-link").get_data(as_text=True)
    path = re.search(r'data-testid="reset-link-url">http://localhost([^<]+)<', page).group(1)
    anonymous = app.test_client()
    assert anonymous.get(path).status_code == 200
    assert anonymous.post(path, data={"password": "password1234", "password_confirm": "password1234"}).status_code == 422
    assert anonymous.post(path, data={"password": "lantern meadow copper", "password_confirm": "lantern meadow copper"}).status_code == 302
    assert theirs.get("/requests/").status_code == 302
    assert anonymous.get(path).status_code == 404
    assert anonymous.get(path[:-4] + "abcd").status_code == 404
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "issue_password_reset")).user_id == admin.id


# -------------------------------------------------------------------------------------------------- sessions

def test_a_replayed_cookie_after_sign_out_opens_nothing(app, client, db_session):
    officer = create_user("officer")
    AuthActions(client).sign_in(officer)
    name = app.config["SESSION_COOKIE_NAME"]
    stolen = client.get_cookie(name).value
    client.post("/sign-out")
    replay = app.test_client()
    replay.set_cookie(name, stolen)
    response = replay.get("/requests/")
    assert response.status_code == 302 and "/signed-out" in response.headers["Location"]


def _age(db_session, **delta):
    db_session.execute(update(UserSession).values(**delta))
    db_session.commit()


def test_thirty_idle_minutes_sign_you_out_with_a_clear_page(client, db_session):
    officer = create_user("officer")
    AuthActions(client).sign_in(officer)
    _age(db_session, last_seen_at=utcnow() - timedelta(minutes=31))
    response = client.get("/requests/new")
    assert response.status_code == 302 and "reason=idle" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "30 minutes" in page.get_data(as_text=True)
    assert "next=/requests/new" in page.get_data(as_text=True).replace("%2F", "/")
    assert db_session.scalar(select(UserSession.end_reason)) == "idle"


def test_activity_does_not_extend_the_twelve_hours(client, db_session):
    officer = create_user("officer")
    AuthActions(client).sign_in(officer)
    _age(db_session, created_at=utcnow() - timedelta(hours=11, minutes=59), last_seen_at=utcnow() - timedelta(minutes=2))
    assert client.get("/requests/").status_code == 200
    db_session.expire_all()
    assert utcnow() - db_session.scalar(select(UserSession.last_seen_at)) < timedelta(seconds=30)  # touched
    _age(db_session, created_at=utcnow() - timedelta(hours=12, minutes=1))
    response = client.get("/requests/")
    assert response.status_code == 302 and "reason=absolute" in response.headers["Location"]


def test_sign_out_everywhere_ends_every_session(app, db_session):
    officer = create_user("officer")
    phone, laptop = _sign_in_as(app, officer), _sign_in_as(app, officer)
    assert "This browser" in laptop.get("/account").get_data(as_text=True)
    assert laptop.post("/account/sign-out-everywhere").status_code == 302
    assert phone.get("/requests/").status_code == 302 and laptop.get("/requests/").status_code == 302
    assert db_session.scalar(select(func.count()).select_from(UserSession).where(UserSession.ended_at.is_(None))) == 0


def test_the_cookie_holds_only_a_random_token_and_the_table_its_hash(app, client, db_session):
    officer = create_user("officer")
    AuthActions(client).sign_in(officer)
    from itsdangerous import URLSafeTimedSerializer
    from flask.sessions import TaggedJSONSerializer

    raw = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    data = URLSafeTimedSerializer(app.secret_key, salt="cookie-session", serializer=TaggedJSONSerializer(),
                                  signer_kwargs={"key_derivation": "hmac", "digest_method": __import__("hashlib").sha1}).loads(raw)
    assert "_user_id" not in data and len(data["sid"]) >= 43
    assert db_session.scalar(select(UserSession.token_hash)) != data["sid"]


def test_production_cookies_are_host_only_secure_httponly_lax(database_url, sqlite_template):
    from portal import create_app
    from tests.conftest import TEST_PASSWORD_HASHING

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "PORTAL_ENV": "production",
                      "SECRET_KEY": "k" * 40, "WTF_CSRF_ENABLED": False, **TEST_PASSWORD_HASHING})
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-portal_session" and app.config["SESSION_COOKIE_SECURE"]
    with app.app_context():
        officer = create_user("officer")
    client = app.test_client()
    response = client.post("/sign-in", data={"email": officer.email, "password": "password"},
                           base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    app.extensions["portal_db"][0].dispose()
    assert cookie.startswith("__Host-portal_session=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_the_sign_in_steps_are_never_cached(client, db_session):
    officer = create_user("officer")
    officer.mfa_secret = None
    db_session.commit()
    _password(client, officer.email)
    assert client.get("/sign-in/set-up-authenticator-app").headers["Cache-Control"] == "no-store"
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"


def test_one_other_session_can_be_ended_and_an_admin_can_end_all(app, db_session):
    officer = create_user("officer")
    admin = create_user("admin", la_code=None)
    phone, laptop = _sign_in_as(app, officer), _sign_in_as(app, officer)
    phone_session = db_session.scalars(select(UserSession).order_by(UserSession.created_at)).first()
    assert laptop.post(f"/account/sessions/{phone_session.id}/end").status_code == 302
    assert phone.get("/requests/").status_code == 302 and laptop.get("/requests/").status_code == 200
    # someone else's session id does nothing
    other = _sign_in_as(app, admin)
    admin_session = db_session.scalar(select(UserSession).where(UserSession.user_id == admin.id))
    laptop.post(f"/account/sessions/{admin_session.id}/end")
    assert other.get("/admin/").status_code == 200
    assert other.post(f"/people/{officer.id}/sign-out").status_code == 302
    assert laptop.get("/requests/").status_code == 302
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "sign_out_person")).record_id == officer.id


def test_a_pages_own_background_requests_do_not_keep_the_session_alive(client, db_session):
    officer = create_user("officer")
    AuthActions(client).sign_in(officer)
    _age(db_session, last_seen_at=utcnow() - timedelta(minutes=10))
    status = client.get("/account/session").get_json()
    assert 19 * 60 < status["seconds_left"] <= 20 * 60 and status["reason"] == "idle"
    db_session.expire_all()
    assert utcnow() - db_session.scalar(select(UserSession.last_seen_at)) > timedelta(minutes=9)  # not touched
    assert client.post("/account/keep-alive").status_code == 204  # "Stay signed in" is activity
    db_session.expire_all()
    assert utcnow() - db_session.scalar(select(UserSession.last_seen_at)) < timedelta(seconds=30)
    _age(db_session, created_at=utcnow() - timedelta(hours=11, minutes=59))
    assert client.get("/account/session").get_json()["reason"] == "absolute"


def test_a_second_tab_after_a_timeout_is_told_the_same_reason(app, db_session):
    officer = create_user("officer")
    first = _sign_in_as(app, officer)
    cookie = first.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    second = app.test_client()
    second.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    _age(db_session, last_seen_at=utcnow() - timedelta(minutes=31))
    assert "reason=idle" in first.get("/requests/").headers["Location"]
    assert "reason=idle" in second.get("/requests/").headers["Location"]  # not "ended"
