"""Every person has their own account; a provider's admins invite and remove their users; roles are enforced."""

import re

from sqlalchemy import select

from portal.models import AuditEvent, Provider, User
from tests.conftest import AuthActions
from tests.factories import create_provider, create_user


def _link_path(page: str) -> str:
    return re.search(r'data-testid="invite-link">http://localhost([^<]+)<', page).group(1)


def test_admin_invites_a_colleague_who_gets_the_role_chosen(client, auth, db_session):
    provider = create_provider()
    admin = create_user("provider", provider=provider, provider_role="admin")
    auth.sign_in(admin)
    assert "Users" in client.get("/provider/").get_data(as_text=True)  # in the admin's navigation
    response = client.post("/provider/users/new", data={"name": "Sam Staff", "email": "sam@example.test",
                                                       "provider_role": "staff"})
    assert response.status_code == 200
    path = _link_path(response.get_data(as_text=True))
    sam = db_session.scalar(select(User).where(User.email == "sam@example.test"))
    assert (sam.role, sam.provider_id, sam.provider_role, sam.active) == ("provider", provider.id, "staff", True)
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "invite_user")).record_id == sam.id
    page = client.get("/provider/users").get_data(as_text=True)
    assert "Sam Staff" in page and "Not signed in yet" in page
    auth.sign_out()

    client.post(path, data={"password": "sam-password-1", "password_confirm": "sam-password-1"})
    auth.sign_in(sam, "sam-password-1")  # and sets up an authenticator app at this first sign-in
    # Staff read, never write, and do not manage people.
    assert client.get("/provider/settings").status_code == 200
    assert client.get("/provider/users").status_code == 403
    assert client.post("/provider/users/new", data={"name": "X", "email": "x@example.test",
                                                    "provider_role": "admin"}).status_code == 403
    assert "Users" not in client.get("/provider/").get_data(as_text=True).split("</nav>")[0]


def test_invite_errors(client, auth, db_session):
    provider = create_provider()
    auth.sign_in(create_user("provider", provider=provider, provider_role="admin"))
    create_user("officer", email="taken@example.test")
    response = client.post("/provider/users/new", data={"name": "Dup", "email": "TAKEN@example.test",
                                                       "provider_role": "manager"})
    assert response.status_code == 422 and "already uses this email address" in response.get_data(as_text=True)
    response = client.post("/provider/users/new", data={"name": "", "email": "bad", "provider_role": "owner"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter their full name" in page and "correct format" in page and 'value="bad"' in page
    assert db_session.scalar(select(User).where(User.name == "Dup")) is None


def test_removing_a_user_stops_their_sign_in_and_their_link(client, auth, db_session):
    provider = create_provider()
    admin = create_user("provider", provider=provider, provider_role="admin")
    colleague = create_user("provider", provider=provider, provider_role="manager", email="col@example.test")
    auth.sign_in(admin)
    path = _link_path(client.post("/provider/users/new", data={
        "name": "Never Came", "email": "never@example.test", "provider_role": "staff"}).get_data(as_text=True))
    never_id = db_session.scalar(select(User.id).where(User.email == "never@example.test"))
    db_session.rollback()
    assert client.get(f"/provider/users/{colleague.id}/remove").status_code == 200
    assert client.post(f"/provider/users/{colleague.id}/remove").status_code == 302
    assert client.post(f"/provider/users/{never_id}/remove").status_code == 302
    # Not yourself.
    response = client.post(f"/provider/users/{admin.id}/remove")
    assert response.status_code == 409 and "cannot remove yourself" in response.get_data(as_text=True)
    auth.sign_out()
    response = client.post("/sign-in", data={"email": "col@example.test", "password": "password"})
    assert response.status_code == 422
    assert client.get(path).status_code == 404
    db_session.expire_all()
    assert db_session.get(User, colleague.id).active is False and db_session.get(User, admin.id).active is True


def test_a_new_link_replaces_the_old_one(client, auth, db_session):
    provider = create_provider()
    auth.sign_in(create_user("provider", provider=provider, provider_role="admin"))
    old = _link_path(client.post("/provider/users/new", data={
        "name": "Late Starter", "email": "late@example.test", "provider_role": "staff"}).get_data(as_text=True))
    late_id = db_session.scalar(select(User.id).where(User.email == "late@example.test"))
    db_session.rollback()
    response = client.post(f"/provider/users/{late_id}/new-link")
    assert response.status_code == 200
    new = _link_path(response.get_data(as_text=True))
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_admins_manage_only_their_own_organisations_people(client, auth, db_session):
    mine, theirs = create_provider(), create_provider()
    auth.sign_in(create_user("provider", provider=mine, provider_role="admin"))
    stranger = create_user("provider", provider=theirs, provider_role="manager", name="Stranger Danger")
    assert "Stranger Danger" not in client.get("/provider/users").get_data(as_text=True)
    assert client.get(f"/provider/users/{stranger.id}/remove").status_code == 404
    assert client.post(f"/provider/users/{stranger.id}/remove").status_code == 404
    assert client.post(f"/provider/users/{stranger.id}/new-link").status_code == 404
    db_session.expire_all()
    assert db_session.get(User, stranger.id).active is True


def test_managers_and_staff_cannot_manage_people_or_the_profile(client, auth, db_session):
    provider = create_provider()
    for role in ("manager", "staff"):
        auth.sign_in(create_user("provider", provider=provider, provider_role=role))
        for path in ("/provider/users", "/provider/users/new", "/provider/organisation/edit"):
            assert client.get(path).status_code == 403, (role, path)
        assert client.post("/provider/organisation/edit", data={"contact_name": "Hijack"}).status_code == 403
        assert client.get("/provider/organisation").status_code == 200
        auth.sign_out()
    db_session.expire_all()
    assert db_session.get(Provider, provider.id).contact_name != "Hijack"


def test_admin_changes_the_organisations_contact_details(client, auth, db_session):
    provider = create_provider(name="Arden Fostering")
    auth.sign_in(create_user("provider", provider=provider, provider_role="admin"))
    response = client.post("/provider/organisation/edit", data={
        "contact_name": "Rosa Lee", "contact_email": "bad", "contact_phone": "0121 496 0002", "contract": "spot"})
    assert response.status_code == 422 and 'value="Rosa Lee"' in response.get_data(as_text=True)
    response = client.post("/provider/organisation/edit", data={
        "contact_name": "Rosa Lee", "contact_email": "office@arden.test", "contact_phone": "0121 496 0002",
        "contract": "spot"})
    assert response.status_code == 302
    assert "office@arden.test" in client.get("/provider/organisation").get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Provider, provider.id).contract == "spot"


def test_a_removed_user_who_is_still_signed_in_is_signed_out(app, db_session):
    """Removing someone ends their sessions at once: their next page says they have been signed out."""
    provider = create_provider()
    admin = create_user("provider", provider=provider, provider_role="admin")
    colleague = create_user("provider", provider=provider, provider_role="manager")
    theirs, mine = app.test_client(), app.test_client()
    AuthActions(theirs).sign_in(colleague)
    AuthActions(mine).sign_in(admin)
    assert theirs.get("/provider/").status_code == 200
    assert mine.post(f"/provider/users/{colleague.id}/remove").status_code == 302
    response = theirs.get("/provider/")
    assert response.status_code == 302 and "/signed-out?reason=ended" in response.headers["Location"]
    assert theirs.get("/provider/dashboard").status_code == 302
