"""Security headers on every response: CSP with a per-response nonce and no unsafe-inline scripts, nosniff,
referrer policy, no framing, HSTS in production only, and no caching of signed-in pages."""

from __future__ import annotations

import re
import secrets

from portal import create_app
from tests.factories import create_user


def _policy(response) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (p.strip() for p in response.headers["Content-Security-Policy"].split(";"))}


def test_every_page_sends_the_headers_and_the_inline_script_carries_the_nonce(client, auth, db_session):
    pages = [("/sign-in", None), ("/requests/", "officer"), ("/no-such-page", None)]
    for path, role in pages:
        if role:
            auth.sign_in(create_user(role))
        response = client.get(path)
        policy = _policy(response)
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
        assert "'unsafe-inline'" not in policy["style-src"]
        assert policy["object-src"] == "'none'" and policy["base-uri"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in response.headers  # development: plain HTTP on loopback
        nonce = re.search(r"'nonce-([^']+)'", policy["script-src"]).group(1)
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.get_data(as_text=True))
        assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline), path


def test_the_nonce_is_new_for_every_response(client, db_session):
    first = _policy(client.get("/sign-in"))["script-src"]
    assert first != _policy(client.get("/sign-in"))["script-src"]


def test_signed_in_pages_are_never_cached_and_public_ones_may_be(client, auth, db_session):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    auth.sign_in(create_user("officer"))
    assert client.get("/requests/").headers["Cache-Control"] == "no-store"


def test_production_sends_hsts():
    app = create_app({"PORTAL_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": "sqlite://"})
    response = app.test_client().get("/static/js/portal.js")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
