"""The integration API (issue 14): /api/v1, JSON, bearer tokens with scopes; its OpenAPI 3.1 document at
/api/v1/openapi.json and a reference page at /api/v1/, both generated from the views and schemas (flask-smorest,
marshmallow). It sits on top of the features (like the demo loader) and reuses their queries and services."""

from __future__ import annotations

from flask import Flask

PREFIX = "/api/v1"


def init_app(app: Flask) -> None:
    from portal.api import pages
    from portal.api.cli import api_token
    from portal.api.spec import api
    from portal.api.views import bp, docs
    from portal.extensions import csrf

    app.config.setdefault("API_TITLE", "West Midlands placement portal API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Placement requests, matches, referrals, offers, vacancies and placements for "
                                "LA and provider systems. Send `Authorization: Bearer <token>`. Errors are "
                                "`application/problem+json` naming the field at fault."},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    })
    # The portal's own error pages are registered after this (portal.errors answers the API with problem+json);
    # the Api's handlers for HTTP errors are replaced by them.
    api.init_app(app)
    api.register_blueprint(bp, url_prefix=PREFIX)
    app.register_blueprint(docs, url_prefix=PREFIX)
    csrf.exempt(bp)  # no cookies, no forms: a bearer token is not sent by a browser on its own
    app.register_blueprint(pages.bp)  # the token management pages
    app.cli.add_command(api_token)
