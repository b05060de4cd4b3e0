"""Security headers on every response (OWASP ASVS 5.0 level 2, V3.4), in development as in production except
HSTS, which only production sends (development is served over plain HTTP on loopback).

The Content-Security-Policy allows scripts and styles only from the portal itself, plus the inline script of the
GOV.UK template (it marks the body `js-enabled`) and the market pages' print styles, by a nonce made afresh for
every response; no `unsafe-inline`.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request
from flask_login import current_user

# Public pages that must not be cached either: they carry one-time links or codes.
NO_STORE_ENDPOINTS = {"auth.reset_password", "auth.sign_in", "providers.set_password"}

HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    """This response's nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def init_app(app: Flask) -> None:
    # govuk-frontend-jinja's page template puts `cspNonce` on its inline script.
    app.context_processor(lambda: {"cspNonce": csp_nonce()})

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if app.config.get("PORTAL_ENV") == "production":
            headers["Strict-Transport-Security"] = HSTS
        # Pages for a signed-in person may hold a child's details, and the sign-in steps show MFA secrets and
        # recovery codes: never kept by the browser or a proxy.
        if (current_user and current_user.is_authenticated) or g.get("portal_session") is not None \
                or request.endpoint in NO_STORE_ENDPOINTS:
            headers["Cache-Control"] = "no-store"
            headers.pop("Expires", None)
        return response
