"""The token management pages (issue 14 §2): the regional administrator's for LA systems (/admin/api-tokens), a
provider administrator's for their own provider's (/provider/api-tokens). Create shows the token once; the list
shows each token's prefix, scopes, expiry and last use; revoke ends it at once."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.api import forms, services
from portal.auth.forms import ConfirmForm
from portal.auth.permissions import role_required
from portal.db import utcnow
from portal.unit_of_work import unit_of_work

bp = Blueprint("api_tokens", __name__)


def _render(form, *, issued=None, error=None, status: int = 200):
    hub = current_user.role == "admin"
    return render_template("api/tokens.html", form=form, tokens=services.list_tokens(current_user), issued=issued,
                           hub=hub, revoke_form=ConfirmForm(formdata=None), error=error, now=utcnow(),
                           revoke_endpoint="api_tokens.revoke_la_token" if hub else "api_tokens.revoke_provider_token",
                           token_arg="la_token_id" if hub else "provider_token_id",
                           create_endpoint="api_tokens.la_tokens" if hub else "api_tokens.provider_tokens"), status


@bp.route("/admin/api-tokens", methods=["GET", "POST"])
@role_required("admin")
def la_tokens():
    form = forms.la_token_form()
    if not form.validate_on_submit():
        return _render(form, status=422 if form.is_submitted() else 200)
    with unit_of_work(form) as work:
        issued = services.issue_la_system_token(current_user, form.la_code.data, name=form.name.data,
                                                scopes=list(form.scopes.data or ()), days=form.days.data)
    if not work.ok:
        return _render(form, error=work.message, status=work.status)
    return _render(forms.la_token_form(formdata=None), issued=issued.secret, status=201)


@bp.route("/provider/api-tokens", methods=["GET", "POST"])
@role_required("provider", provider_roles=("admin",))
def provider_tokens():
    form = forms.provider_token_form()
    if not form.validate_on_submit():
        return _render(form, status=422 if form.is_submitted() else 200)
    with unit_of_work(form) as work:
        issued = services.issue_provider_system_token(current_user, name=form.name.data,
                                                      scopes=list(form.scopes.data or ()), days=form.days.data)
    if not work.ok:
        return _render(form, error=work.message, status=work.status)
    return _render(forms.provider_token_form(formdata=None), issued=issued.secret, status=201)


def _revoke(token_id: str, back: str):
    token = services.get_token_for(current_user, token_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for(back))
    with unit_of_work(form) as work:
        services.revoke_system_token(current_user, token)
    flash(f"Token {token.prefix} revoked: it no longer works." if work.ok else work.message,
          "success" if work.ok else "error")
    return redirect(url_for(back))


@bp.post("/admin/api-tokens/<la_token_id>/revoke")
@role_required("admin")
def revoke_la_token(la_token_id: str):
    return _revoke(la_token_id, "api_tokens.la_tokens")


@bp.post("/provider/api-tokens/<provider_token_id>/revoke")
@role_required("provider", provider_roles=("admin",))
def revoke_provider_token(provider_token_id: str):
    return _revoke(provider_token_id, "api_tokens.provider_tokens")
