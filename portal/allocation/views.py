"""The region-wide allocation: run by the regional hub; shown as aggregates (no child is listed)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.allocation import queries, services
from portal.auth.permissions import role_required
from portal.forms import PortalForm
from portal.unit_of_work import unit_of_work

bp = Blueprint("allocation", __name__)


@bp.get("/")
@role_required("admin")
def index():
    run = queries.find_latest_run()
    reasons = services.unplaced_reasons(run) if run else []
    return render_template("allocation/index.html", run=run, reasons=reasons, form=PortalForm())


@bp.post("/run")
@role_required("admin")
def run():
    if not PortalForm().validate_on_submit():
        flash("Your form expired. Try again.", "error")
        return redirect(url_for("allocation.index"))
    try:
        computed = services.compute_allocation()
    except services.AllocationInvalid:
        flash("The allocation failed its independent check and was not saved. Nothing has changed.", "error")
        return redirect(url_for("allocation.index"))
    with unit_of_work():
        result = services.save_allocation(current_user, computed)
    flash(f"Allocation saved: {result.placed_count} of {result.requests_count} children placed.", "success")
    return redirect(url_for("allocation.index"))
