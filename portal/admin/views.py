"""Administrators (regional hub): review provider registrations and approve or reject them with a reason."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.admin import services
from portal.admin.forms import ProviderDecisionForm
from portal.auth.permissions import role_required
from portal.db import db
from portal.providers import queries

bp = Blueprint("admin", __name__)


@bp.get("/")
@role_required("admin")
def home():
    return render_template("admin/home.html", providers=queries.list_pending_providers(),
                           decided=queries.list_decided_providers())


def _render_provider(provider, form, status: int = 200):
    return render_template("admin/provider.html", provider=provider, form=form,
                           admins=queries.list_provider_admins(provider), settings=provider.settings), status


@bp.get("/providers/<provider_id>")
@role_required("admin")
def provider(provider_id: str):
    return _render_provider(queries.get_provider(provider_id), ProviderDecisionForm(formdata=None))


@bp.post("/providers/<provider_id>/decision")
@role_required("admin")
def decide_provider(provider_id: str):
    found = queries.get_provider(provider_id)
    form = ProviderDecisionForm()
    if not form.validate_on_submit():
        return _render_provider(found, form, 422)
    try:
        services.decide_provider(current_user, found, approve=form.decision.data == "approve", reason=form.reason.data)
    except services.ServiceError as error:
        db.session.rollback()
        form.decision.errors.append(str(error))
        return _render_provider(found, form, 409)
    db.session.commit()
    flash(f"{found.name} {'approved' if form.decision.data == 'approve' else 'rejected'}.", "success")
    return redirect(url_for("admin.home"))
