"""Commissioners' pages: aggregates only, small numbers suppressed."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from portal.auth.permissions import role_required
from portal.market import queries
from portal.market.suppression import suppress

bp = Blueprint("market", __name__)


@bp.get("/")
@role_required("commissioner", "admin")
def home():
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    figures = queries.overview(current_user.la_code)
    shown = {name: suppress(value, threshold) for name, value in vars(figures).items()}
    return render_template("market/home.html", figures=shown, threshold=threshold)
