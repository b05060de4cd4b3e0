"""The regional hub approves or rejects provider registrations, with a reason; only administrators can."""

from sqlalchemy import select

from portal.models import AuditEvent, Provider
from portal.options import get_options_version
from tests.factories import create_provider, create_user


def _pending():
    provider = create_provider(name="Hopeful Homes", kind="childrens_home", status="pending")
    provider.ofsted_urns = ["SC123456"]
    provider.contact_name = "Rosa Lee"
    from portal.db import db

    db.session.commit()
    return provider


def test_admin_sees_pending_registrations_and_approves_one(client, auth, db_session):
    provider = _pending()
    admin = create_user("admin", la_code=None)
    auth.sign_in(admin)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Hopeful Homes" in page and "No registrations are waiting" not in page
    page = client.get(f"/admin/providers/{provider.id}").get_data(as_text=True)
    assert "SC123456" in page and "Rosa Lee" in page
    version = get_options_version()
    db_session.rollback()
    response = client.post(f"/admin/providers/{provider.id}/decision", data={"decision": "approve", "reason": ""})
    assert response.status_code == 302
    db_session.expire_all()
    found = db_session.get(Provider, provider.id)
    assert found.status == "approved" and found.approved_at is not None
    assert get_options_version() == version + 1  # every web process rebuilds its matching index
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "approve_provider"))
    assert event.record_id == provider.id and event.user_id == admin.id
    page = client.get("/admin/").get_data(as_text=True)
    assert "No registrations are waiting" in page and 'data-testid="decided-providers"' in page


def test_rejecting_needs_a_reason_and_a_decided_provider_cannot_be_decided_again(client, auth, db_session):
    provider = _pending()
    auth.sign_in(create_user("admin", la_code=None))
    response = client.post(f"/admin/providers/{provider.id}/decision", data={"decision": "reject", "reason": "  "})
    assert response.status_code == 422
    assert "Enter the reason for rejecting the registration" in response.get_data(as_text=True)
    response = client.post(f"/admin/providers/{provider.id}/decision", data={})
    assert response.status_code == 422 and "Select approve or reject" in response.get_data(as_text=True)
    assert db_session.get(Provider, provider.id).status == "pending"
    db_session.rollback()

    response = client.post(f"/admin/providers/{provider.id}/decision",
                           data={"decision": "reject", "reason": "Not registered with Ofsted"})
    assert response.status_code == 302
    db_session.expire_all()
    found = db_session.get(Provider, provider.id)
    assert (found.status, found.status_reason) == ("rejected", "Not registered with Ofsted")
    db_session.rollback()
    response = client.post(f"/admin/providers/{provider.id}/decision", data={"decision": "approve"})
    assert response.status_code == 409 and "already been decided" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Provider, provider.id).status == "rejected"


def test_only_administrators_reach_the_admin_pages(client, auth, db_session):
    provider = _pending()
    for user in (create_user("officer"), create_user("provider", provider=provider), create_user("commissioner")):
        auth.sign_in(user)
        assert client.get("/admin/").status_code == 403
        assert client.get(f"/admin/providers/{provider.id}").status_code == 403
        assert client.post(f"/admin/providers/{provider.id}/decision", data={"decision": "approve"}).status_code == 403
        auth.sign_out()
    assert db_session.get(Provider, provider.id).status == "pending"
    response = client.get("/admin/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    auth.sign_in(create_user("admin", la_code=None))
    assert client.get("/admin/providers/0123456789abcdef0123456789abcdef").status_code == 404
