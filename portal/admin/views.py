"""Administrators (regional hub): approve or reject provider registrations."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.auth.permissions import role_required
from portal.db import db
from portal.providers import queries
from portal.admin import services

bp = Blueprint("admin", __name__)


@bp.get("/")
@role_required("admin")
def home():
    return render_template("admin/home.html", providers=queries.list_pending_providers(), form=FlaskForm())


@bp.post("/providers/<provider_id>/decision")
@role_required("admin")
def decide_provider(provider_id: str):
    provider = queries.get_provider(provider_id)
    form = FlaskForm()
    decision = request.form.get("decision")
    reason = (request.form.get("reason") or "").strip()
    if not form.validate_on_submit() or decision not in ("approve", "reject"):
        flash("Choose approve or reject.", "error")
        return render_template("admin/home.html", providers=queries.list_pending_providers(), form=form), 400
    try:
        services.decide_provider(current_user, provider, approve=decision == "approve", reason=reason)
    except services.ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return render_template("admin/home.html", providers=queries.list_pending_providers(), form=form), 422
    db.session.commit()
    flash(f"{provider.name} {'approved' if decision == 'approve' else 'rejected'}.", "success")
    return redirect(url_for("admin.home"))
