"""Administrators (regional hub): review provider registrations and approve or reject them with a reason."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.admin import queries, services
from portal.admin.forms import ProviderDecisionForm
from portal.auth.permissions import role_required
from portal.unit_of_work import unit_of_work

bp = Blueprint("admin", __name__)


@bp.get("/")
@role_required("admin")
def home():
    return render_template("admin/home.html", providers=queries.list_pending_providers(),
                           decided=queries.list_decided_providers())


@bp.get("/people")
@role_required("admin")
def people():
    """Everyone with an account, to find a person and manage their sign-in (reset MFA, a reset link)."""
    from flask import request

    from portal.models import ROLES

    text = (request.args.get("q") or "")[:100]
    role = request.args.get("role") if request.args.get("role") in ROLES else ""
    try:
        page = max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        page = 1
    rows, total = queries.search_people(text, role, page=page)
    pages = max(1, -(-total // queries.PEOPLE_PAGE))
    return render_template("admin/people.html", rows=rows, total=total, q=text, role=role, roles=ROLES,
                           page=page, pages=pages)


@bp.post("/people/<user_id>/extract-access")
@role_required("admin")
def extract_access(user_id: str):
    """Grant or revoke a commissioner's regional data sharing permission (the generalised data extract)."""
    from flask import abort, request

    from portal.auth.forms import ConfirmForm
    from portal.auth.queries import find_user

    person = find_user(user_id)
    if person is None:
        abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.person_security", user_id=person.id))
    granted = request.form.get("grant") == "1"
    with unit_of_work(form) as work:
        services.set_extract_access(current_user, person, granted)
    if work.ok:
        flash(f"{person.name} {'may now download' if granted else 'may no longer download'} the data extract.",
              "success")
    else:
        flash(work.message, "error")
    return redirect(url_for("auth.person_security", user_id=person.id))


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
    with unit_of_work(form) as work:
        services.decide_provider(current_user, found, approve=form.decision.data == "approve", reason=form.reason.data)
    if work.ok:
        flash(f"{found.name} {'approved' if form.decision.data == 'approve' else 'rejected'}.", "success")
        return redirect(url_for("admin.home"))
    if work.message:  # the page has no error summary: a refusal that names no field is shown at the decision
        form.decision.errors = [*form.decision.errors, work.message]
    return _render_provider(found, form, work.status)  # 409 once decided
