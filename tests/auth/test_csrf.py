"""CSRF protection is on for every form (the other tests turn it off to keep them short)."""

import pytest

from portal import create_app
from tests.factories import create_user


@pytest.fixture
def csrf_client(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": True})
    yield app, app.test_client()
    app.extensions["portal_db"][0].dispose()


def test_post_without_csrf_token_is_refused(csrf_client):
    app, client = csrf_client
    with app.app_context():
        user = create_user("officer")
    response = client.post("/sign-in", data={"email": user.email, "password": "password"})
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    assert client.get("/requests/").status_code == 302


def test_sign_in_form_carries_a_csrf_token(csrf_client):
    _app, client = csrf_client
    assert 'name="csrf_token"' in client.get("/sign-in").get_data(as_text=True)
