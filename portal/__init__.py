"""The West Midlands placement portal: create_app() builds the Flask application."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is imported inside the functions: `import portal.matching` must not load the web stack.
    from flask import Flask


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Application factory: settings, database, extensions, blueprints, CLI and template filters."""
    from portal.config import PROJECT_ROOT, apply_mode_defaults, check_secrets, load_config

    app = _portal_flask_class()(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(load_config())
    if overrides:
        app.config.update(overrides)
    apply_mode_defaults(app.config)
    check_secrets(app.config, Path(app.instance_path))
    # Tests refuse any write a request makes outside the unit of work, so no view can forget it.
    app.config.setdefault("STRICT_UNIT_OF_WORK", bool(app.config.get("TESTING")))

    from portal import logs

    logs.init_app(app)  # first: the request id is set before anything else runs or logs
    register_templates(app)
    register_extensions(app)
    register_blueprints(app)
    register_cli(app)

    from portal import errors, forms, headers, idempotency

    forms.init_app(app)
    idempotency.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    if app.config.get("TRUSTED_PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["TRUSTED_PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    return app


def _portal_flask_class() -> type[Flask]:
    """Flask, with each view run again when its transaction lost a deadlock or serialization check (PostgreSQL):
    the retry reads fresh data, at most three runs in all, and the last loss is a 409 (portal.unit_of_work)."""
    from flask import Flask

    class PortalFlask(Flask):
        def dispatch_request(self):
            from portal.unit_of_work import retry_transient

            return retry_transient(super().dispatch_request)

        def log_exception(self, exc_info) -> None:
            """Flask's own error log, for an error no handler answered: without the exception's message, form
            values or query string (portal.logs)."""
            from portal.logs import log_unhandled

            log_unhandled(exc_info[1])

    return PortalFlask


def _testing_undefined(hint=None, obj=None, name=None, exc=None):
    """Undefined names in tests: where one of the portal's own templates prints, iterates, compares or reads into a
    name the view did not pass, it fails loudly (StrictUndefined) instead of printing nothing; `{% if name %}` may
    still test one. The GOV.UK Frontend packages' templates are written for Jinja's lenient default, so an
    undefined met inside them stays lenient."""
    import sys

    from jinja2 import StrictUndefined, Undefined
    from jinja2.exceptions import UndefinedError
    from jinja2.utils import missing

    class _Strict(StrictUndefined):
        __slots__ = ()

        def __bool__(self) -> bool:
            return False

    frame, template = sys._getframe(1), ""
    while frame is not None and not template:
        if frame.f_code.co_filename.endswith(".html"):
            template = frame.f_code.co_filename
        frame = frame.f_back
    kind = Undefined if "govuk_frontend" in template else _Strict
    return kind(hint=hint, obj=missing if obj is None else obj, name=name, exc=exc or UndefinedError)


def register_templates(app: Flask) -> None:
    from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

    from portal.config import PROJECT_ROOT

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    if app.config.get("TESTING"):
        app.jinja_env.undefined = _testing_undefined
    from portal import formatting

    formatting.init_app(app)


def register_extensions(app: Flask) -> None:
    from portal.db import db
    from portal.extensions import csrf, login_manager

    from govuk_frontend_wtf.main import WTFormsHelpers

    db.init_app(app)
    from portal import options
    from portal.unit_of_work import guard_writes

    guard_writes(app.extensions["portal_db"][1])
    options.init_app(app)
    csrf.init_app(app)
    WTFormsHelpers(app)
    login_manager.init_app(app)


def register_blueprints(app: Flask) -> None:
    from portal.admin.views import bp as admin_bp
    from portal.allocation.views import bp as allocation_bp
    from portal.auth.views import bp as auth_bp
    from portal.market.views import bp as market_bp
    from portal.placements.views import bp as placements_bp
    from portal.providers.views import bp as providers_bp
    from portal.public.views import bp as public_bp
    from portal.requests.views import bp as requests_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(requests_bp, url_prefix="/requests")
    app.register_blueprint(providers_bp, url_prefix="/provider")
    app.register_blueprint(market_bp, url_prefix="/market")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(placements_bp, url_prefix="/placements")
    app.register_blueprint(allocation_bp, url_prefix="/allocation")
    if app.config.get("PORTAL_ENV") == "development":
        from portal.notifications.views import bp as notifications_bp

        app.register_blueprint(notifications_bp)  # the mail viewer: what the development sender kept
    from portal import api, health

    api.init_app(app)  # /api/v1: the integration API for LA and provider systems (issue 14)
    health.init_app(app)  # /health/live and /health/ready, for the proxy and the container engine


def register_cli(app: Flask) -> None:
    from portal.allocation.cli import allocation
    from portal.cli import init_app as init_db_cli
    from portal.demo.cli import demo
    from portal.market.cli import market
    from portal.notifications.cli import notifications
    from portal.retention import retention

    init_db_cli(app)
    app.cli.add_command(demo)
    app.cli.add_command(allocation)
    app.cli.add_command(market)
    app.cli.add_command(retention)
    app.cli.add_command(notifications)
