"""Sign-in: each role lands on its own home page after its security code; bad input is a 422 with the error
summary; pages check role."""

import pytest

from tests.conftest import AuthActions
from tests.factories import BIRMINGHAM, create_provider, create_user


def test_anonymous_user_is_sent_to_sign_in(client):
    response = client.get("/requests/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize(
    "role, home",
    [("officer", "/requests/"), ("provider", "/provider/"), ("commissioner", "/market/"), ("admin", "/admin/")],
)
def test_each_role_lands_on_its_own_home_page(client, db_session, role, home):
    provider = create_provider() if role == "provider" else None
    user = create_user(role, provider=provider)
    response = client.post("/sign-in", data={"email": user.email.upper(), "password": "password"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sign-in/security-code")
    assert client.get(home).status_code == 302  # not signed in until the code is given
    response = client.post("/sign-in/security-code", data={"code": AuthActions.code_for(user)})
    assert response.headers["Location"].endswith(home)
    assert client.get(home).status_code == 200


def test_wrong_password_is_refused_with_error_summary_and_keeps_email(client, db_session):
    user = create_user("officer")
    response = client.post("/sign-in", data={"email": user.email, "password": "wrong"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "Enter a correct email address and password" in page
    assert f'value="{user.email}"' in page
    assert client.get("/requests/").status_code == 302  # still signed out


@pytest.mark.parametrize("data, message", [
    ({"email": "", "password": ""}, "Enter your email address"),
    ({"email": "not-an-email", "password": "x"}, "Enter an email address in the correct format"),
    ({"email": "a@b.test", "password": ""}, "Enter your password"),
])
def test_sign_in_form_errors(client, db_session, data, message):
    response = client.post("/sign-in", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_deactivated_user_cannot_sign_in(client, db_session):
    user = create_user("officer")
    user.active = False
    db_session.commit()
    response = client.post("/sign-in", data={"email": user.email, "password": "password"})
    assert response.status_code == 422


@pytest.mark.parametrize("role, forbidden", [
    ("officer", ["/provider/", "/market/", "/admin/"]),
    ("provider", ["/requests/", "/requests/new", "/market/", "/admin/"]),
    ("commissioner", ["/requests/", "/provider/", "/admin/"]),
    ("admin", ["/requests/", "/provider/"]),
])
def test_every_page_checks_the_role(client, auth, db_session, role, forbidden):
    provider = create_provider() if role == "provider" else None
    auth.sign_in(create_user(role, provider=provider, la_code=BIRMINGHAM))
    for path in forbidden:
        assert client.get(path).status_code == 403, path


def test_open_redirect_after_sign_in_is_ignored(client, db_session):
    user = create_user("officer")
    client.post("/sign-in?next=https://evil.example/", data={"email": user.email, "password": "password"})
    response = client.post("/sign-in/security-code", data={"code": AuthActions.code_for(user)})
    assert response.headers["Location"].endswith("/requests/")


def test_next_is_followed_through_the_code_step(client, db_session):
    user = create_user("officer")
    client.post("/sign-in?next=/placements/", data={"email": user.email, "password": "password"})
    response = client.post("/sign-in/security-code", data={"code": AuthActions.code_for(user)})
    assert response.headers["Location"].endswith("/placements/")


def test_sign_out_needs_post_and_signs_out(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    assert client.get("/sign-out").status_code == 405
    assert auth.sign_out().status_code == 302
    assert client.get("/requests/").status_code == 302


def test_sign_in_and_out_are_audited(client, auth, db_session):
    from sqlalchemy import select

    from portal.models import AuditEvent

    user = create_user("officer")
    client.post("/sign-in", data={"email": user.email, "password": "wrong"})
    auth.sign_in(user)
    actions = [(e.action, e.outcome) for e in db_session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == [("sign_in", "refused"), ("sign_in_password", "allowed"), ("sign_in", "allowed")]


def test_passwords_are_hashed(db_session):
    user = create_user("officer")
    from portal.auth.passwords import set_password, verify_password

    set_password(user, "correct horse battery staple")
    assert "correct horse" not in user.password_hash and user.password_hash.startswith("$argon2id$")
    assert verify_password(user, "correct horse battery staple")
    assert not verify_password(user, "Correct horse battery staple")
