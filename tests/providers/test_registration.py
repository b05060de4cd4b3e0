"""A provider registers (public page); nothing of it reaches officers until the regional hub approves it."""


from sqlalchemy import func, select

from portal.models import AuditEvent, Provider, User
from portal.requests.matching import eligible_provider_ids, rank_request
from tests.factories import create_provider, create_request, create_setting, create_user, create_vacancy
from tests.providers.helpers import fresh

REGISTRATION = {
    "name": "Bright Futures Fostering", "kind": "ifa", "provider_code": "PR4", "la_code": "", "contract": "spot",
    "ofsted_urns": "SC123456\nsc 654321, 2712345", "contact_name": "Rosa Lee", "contact_email": "Rosa@Bright.test",
    "contact_phone": "0121 496 0001", "password": "a-long-password", "password_confirm": "a-long-password",
}


def test_register_creates_a_pending_provider_and_its_first_admin(client, auth, db_session):
    assert client.get("/provider/register").status_code == 200
    response = client.post("/provider/register", data=REGISTRATION)
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    provider = db_session.scalar(select(Provider))
    assert (provider.name, provider.status, provider.kind, provider.provider_code) == (
        "Bright Futures Fostering", "pending", "ifa", "PR4")
    assert provider.ofsted_urns == ["SC123456", "SC654321", "2712345"]
    user = db_session.scalar(select(User))
    assert (user.email, user.role, user.provider_id, user.provider_role) == ("rosa@bright.test", "provider",
                                                                               provider.id, "admin")
    from portal.auth.passwords import verify_password

    assert verify_password(user, "a-long-password")
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "register")).record_id == provider.id
    # They sign in, set up their authenticator app, and are told the registration is waiting for approval.
    auth.sign_in(user, "a-long-password")
    assert user.mfa_secret is None  # this object was read before: the app saved the secret
    db_session.expire_all()
    assert db_session.get(User, user.id).mfa_enrolled_at is not None
    page = client.get("/provider/").get_data(as_text=True)
    assert 'data-testid="provider-pending"' in page


def test_registration_errors_keep_what_was_typed(client, db_session):
    response = client.post("/provider/register", data={**REGISTRATION, "provider_code": "PR1", "la_code": "",
                                                       "password_confirm": "different-password",
                                                       "ofsted_urns": "SC12", "contact_email": "not-an-email"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in ("Select the local authority that runs it", "The passwords do not match",
                    "SC12 is not an Ofsted URN", "Enter an email address in the correct format"):
        assert message in page
    assert 'value="Bright Futures Fostering"' in page and 'value="0121 496 0001"' in page
    assert db_session.scalar(select(func.count()).select_from(Provider)) == 0

    response = client.post("/provider/register", data={})
    assert response.status_code == 422
    assert "Enter your organisation&#39;s name" in response.get_data(as_text=True)

    response = client.post("/provider/register", data={**REGISTRATION, "kind": "la_fostering"})
    assert response.status_code == 422
    assert "run by a local authority (PR1)" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Provider)) == 0


def test_an_la_fostering_service_registers_with_its_la(client, db_session):
    response = client.post("/provider/register", data={**REGISTRATION, "kind": "la_fostering",
                                                       "provider_code": "PR1", "la_code": "E08000026"})
    assert response.status_code == 302
    assert db_session.scalar(select(Provider)).la_code == "E08000026"


def test_an_email_already_in_use_is_not_revealed_and_nothing_is_saved(client, db_session):
    """Registration never says whether an email address has an account (issue 15 §3): the same answer, nothing
    created, the existing account untouched, the refusal in the audit trail."""
    fresh_answer = client.post("/provider/register", data={**REGISTRATION, "contact_email": "new@bright.test"})
    existing = create_user("officer", email="rosa@bright.test")
    before = existing.password_hash
    response = client.post("/provider/register", data=REGISTRATION)
    assert response.status_code == fresh_answer.status_code == 302
    assert response.headers["Location"] == fresh_answer.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Registration received" in page and "already uses" not in page
    assert db_session.scalar(select(func.count()).select_from(Provider)) == 1  # only the first registration
    db_session.expire_all()
    assert db_session.get(User, existing.id).password_hash == before
    refused = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "register", AuditEvent.outcome == "refused"))
    assert refused is not None and refused.detail == "email_in_use" and "rosa" not in (refused.detail or "")


def test_a_pending_providers_settings_are_invisible_to_officers_until_approved(client, auth, db_session):
    officer = create_user("officer")
    pending = create_provider(name="Pending Care", status="pending")
    create_vacancy(create_setting(pending, name="Hidden household"))
    req = create_request(officer)
    assert pending.id not in eligible_provider_ids(rank_request(req))

    admin = create_user("admin", la_code=None)
    auth.sign_in(admin)
    response = client.post(f"/admin/providers/{pending.id}/decision", data={"decision": "approve"})
    assert response.status_code == 302
    assert pending.id in eligible_provider_ids(rank_request(fresh(type(req), req.id)))


def test_rejected_provider_sees_the_reason_and_stays_invisible(client, auth, db_session):
    officer = create_user("officer")
    provider = create_provider(name="Unlucky Ltd", status="pending")
    create_vacancy(create_setting(provider))
    user = create_user("provider", provider=provider)
    auth.sign_in(create_user("admin", la_code=None))
    response = client.post(f"/admin/providers/{provider.id}/decision",
                           data={"decision": "reject", "reason": "The URNs are not on the Ofsted register"})
    assert response.status_code == 302
    auth.sign_out()
    auth.sign_in(user)
    page = client.get("/provider/").get_data(as_text=True)
    assert "The URNs are not on the Ofsted register" in page
    assert provider.id not in eligible_provider_ids(rank_request(create_request(officer)))


def test_set_password_link_works_once(app, client, auth, db_session):
    from portal.providers import services

    provider = create_provider()
    admin = create_user("provider", provider=provider, provider_role="admin")
    auth.sign_in(admin)
    page = client.post("/provider/users/new", data={"name": "Nia Newcomer", "email": "nia@example.test",
                                                    "provider_role": "manager"}).get_data(as_text=True)
    link = page.split('data-testid="invite-link">')[1].split("<")[0]
    path = link.split("localhost", 1)[1]
    auth.sign_out()

    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": "short", "password_confirm": "short"})
    assert response.status_code == 422 and "12 characters or more" in response.get_data(as_text=True)
    response = client.post(path, data={"password": "nia-new-password", "password_confirm": "nia-new-password"})
    assert response.status_code == 302
    auth.sign_in(db_session.scalar(select(User).where(User.email == "nia@example.test")), "nia-new-password")
    assert client.get("/provider/").status_code == 200
    client.post("/sign-out")

    # Used once: the same link no longer works, and a tampered one never did.
    response = client.get(path)
    assert response.status_code == 404 and "already been used" in response.get_data(as_text=True)
    assert client.post(path, data={"password": "x" * 12, "password_confirm": "x" * 12}).status_code == 404
    assert client.get(path[:-3] + "abc").status_code == 404
    # An expired link says so.
    nia = db_session.scalar(select(User).where(User.email == "nia@example.test"))
    with app.test_request_context():
        token = services.invite_token(nia)
    from dataclasses import replace
    from datetime import timedelta

    from portal.auth import tokens

    original = tokens.INVITATION  # the one-time link mechanism invitations share with reset links
    tokens.INVITATION = replace(original, max_age=timedelta(days=-1))
    try:
        response = client.get(f"/provider/set-password/{token}")
    finally:
        tokens.INVITATION = original
    assert response.status_code == 404 and "expired" in response.get_data(as_text=True)
