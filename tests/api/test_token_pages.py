"""The token management pages: the hub makes LA systems' tokens, a provider admin their own provider's; the token
is shown once, listed by prefix, and revoking it stops it at once (the API answers 401)."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.models import ApiToken
from tests.api.helpers import bearer
from tests.factories import COVENTRY, create_provider, create_request, create_user


def _shown_token(html: str) -> str:
    found = re.search(r"<code>(wmp_[a-z0-9]{8}_[A-Za-z0-9_-]{43})</code>", html)
    assert found, "the new token is not shown"
    return found.group(1)


def test_the_hub_makes_an_la_token_shown_once_and_revokes_it(client, auth, db_session):
    admin = create_user("admin", la_code=None)
    officer = create_user("officer")
    req = create_request(officer)
    auth.sign_in(admin)
    page = client.get("/admin/api-tokens")
    assert page.status_code == 200
    made = client.post("/admin/api-tokens", data={"la_code": COVENTRY, "name": "Coventry Mosaic",
                                                  "scopes": ["requests:read"], "days": "30"})
    assert made.status_code == 201
    token = _shown_token(made.get_data(as_text=True))
    row = db_session.scalar(select(ApiToken))
    assert row.la_code == COVENTRY and row.token_hash != token and token not in str(vars(row))
    assert client.get(f"/api/v1/requests/{req.id}", headers=bearer(token)).status_code == 200
    listed = client.get("/admin/api-tokens").get_data(as_text=True)
    assert f"wmp_{row.prefix}_" in listed and token not in listed
    assert client.post(f"/admin/api-tokens/{row.id}/revoke").status_code == 302
    assert client.get(f"/api/v1/requests/{req.id}", headers=bearer(token)).status_code == 401


def test_a_provider_admin_makes_only_provider_scopes_and_sees_only_their_tokens(client, auth, db_session):
    provider, other = create_provider(), create_provider()
    admin = create_user("provider", provider=provider, provider_role="admin")
    rival = create_user("provider", provider=other, provider_role="admin")
    auth.sign_in(admin)
    refused = client.post("/provider/api-tokens", data={"name": "Sneaky", "scopes": ["requests:read"], "days": "30"})
    assert refused.status_code == 422
    made = client.post("/provider/api-tokens", data={"name": "Our system", "scopes": ["referrals:read"],
                                                     "days": "30"})
    assert made.status_code == 201
    token = db_session.scalar(select(ApiToken))
    assert token.provider_id == provider.id
    auth.sign_out()
    auth.sign_in(rival)
    assert "Our system" not in client.get("/provider/api-tokens").get_data(as_text=True)
    assert client.post(f"/provider/api-tokens/{token.id}/revoke").status_code == 404
    assert db_session.scalar(select(ApiToken.revoked_at).where(ApiToken.id == token.id)) is None


def test_a_page_made_tokens_account_gets_no_email_and_ends_with_the_token(app, db_session):
    from portal.api import services
    from portal.models import Notification
    from portal.notifications.services import queue_notification

    admin = create_user("admin", la_code=None)
    issued = services.issue_la_system_token(admin, COVENTRY, name="Mosaic", scopes=["requests:read"], days=5)
    db_session.commit()
    account = issued.token.user
    assert account.name == "Mosaic (API)" and account.role == "officer" and account.la_code == COVENTRY
    queue_notification(account, "offer_received", provider="P", summary="s", link="/x")
    db_session.commit()
    assert db_session.scalar(select(Notification).where(Notification.user_id == account.id)) is None
    services.revoke_system_token(admin, issued.token)
    db_session.commit()
    assert issued.token.revoked_at is not None and account.active is False
