"""Sign in and out, and each role's landing page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth.forms import SignInForm
from portal.auth.navigation import nav_items
from portal.auth.passwords import verify_password
from portal.auth.permissions import audit, audit_now
from portal.auth.queries import find_user, find_user_by_email
from portal.db import utcnow
from portal.extensions import login_manager
from portal.unit_of_work import unit_of_work

bp = Blueprint("auth", __name__)
bp.app_context_processor(lambda: {"nav_items": nav_items})

HOME_FOR_ROLE = {
    "officer": "requests.index",
    "provider": "providers.home",
    "commissioner": "market.home",
    "admin": "admin.home",
}


@login_manager.user_loader
def _load_user(user_id: str):
    return find_user(user_id)


def _safe_next(target: str | None) -> str | None:
    """Only follow local redirects after sign-in (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(HOME_FOR_ROLE[current_user.role]))
    return render_template("auth/index.html")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        user = find_user_by_email(form.email.data)
        if user is None or not user.active or not verify_password(user, form.password.data):
            audit_now(None, "sign_in", "user", None, outcome="refused")
            form.password.errors.append("Enter a correct email address and password")
            return render_template("auth/sign_in.html", form=form), 400
        with unit_of_work():
            login_user(user)
            user.last_sign_in_at = utcnow()
            audit(user, "sign_in", "user", user.id)
        return redirect(_safe_next(request.args.get("next")) or url_for(HOME_FOR_ROLE[user.role]))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/sign-out")
@login_required
def sign_out():
    audit_now(current_user, "sign_out", "user", current_user.id)
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))
