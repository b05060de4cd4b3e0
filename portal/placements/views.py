"""Placement pages: the placement record and its agreement, signatures, ending a placement, connected-person
placements, and the list. Officers see their LA's placements; provider users the placements at their provider."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import geo, listing
from portal.access import get_request_for_officer
from portal.auth.permissions import audit_now, role_required
from portal.formatting import format_date
from portal.placement_records import create_agreement, deprivation_of_liberty_recorded
from portal.placements import queries, services
from portal.placements.forms import (
    ConnectedPlacementForm,
    EndPlacementForm,
    GenerateAgreementForm,
    PlacementFlagsForm,
    SignAgreementForm,
)
from portal.placements.services import SIGNING_PROVIDER_ROLES
from portal.unit_of_work import unit_of_work

bp = Blueprint("placements", __name__)


@bp.app_template_filter("iso_date")
def format_iso_date(value: str | None) -> str:
    """A date kept as ISO text in an agreement's terms, in the portal's date format."""
    return format_date(date.fromisoformat(value)) if value else ""


@bp.app_template_filter("area_name")
def area_name(code: str | None) -> str:
    """A West Midlands LA's name, or "outside the West Midlands" for any other district (a connected person
    can live anywhere)."""
    if not code:
        return ""
    la_code = code if geo.la_for_district(code) is None else geo.la_for_district(code)
    try:
        return geo.la_name(la_code)
    except KeyError:
        return "Outside the West Midlands"


def _audit_view(record: queries.PlacementRecord, page: str, outcome: str = "allowed") -> None:
    audit_now(current_user, "view_placement", "placement_request", record.placement.request_id, outcome=outcome,
          detail=f"placement:{record.placement.id};page:{page}")


@bp.get("/")
@role_required("officer", "provider")
def index():
    status = listing.choice(request.args.get("status"), queries.LIST_STATUSES)
    sort = listing.sort_choice(request.args.get("sort"), queries.PLACEMENT_SORTS, queries.PLACEMENT_DEFAULT_SORT)
    paged = queries.list_placements(current_user, status=status, sort=sort,
                                    page=listing.page_number(request.args.get("page")))
    placements = listing.ListPage(paged, sort, "placements.index", args={"status": status},
                                  default_sort=queries.PLACEMENT_DEFAULT_SORT)
    return render_template("placements/index.html", placements=placements, status=status)


def _render_detail(record: queries.PlacementRecord, *, form=None, flags_form=None, error: str | None = None,
                   status: int = 200):
    if flags_form is None:
        flags_form = PlacementFlagsForm(formdata=None, deprivation_of_liberty=record.placement.deprivation_of_liberty,
                                        unregistered_setting=record.placement.unregistered_setting)
    page = render_template(
        "placements/detail.html", record=record, p=record.placement, agreement=record.agreement,
        form=form or SignAgreementForm(formdata=None), generate_form=GenerateAgreementForm(formdata=None),
        flags_form=flags_form, can_correct_flags=current_user.role == "officer",
        can_sign=services.can_sign(current_user, record.placement, record.agreement),
        needs_provider_signature=services.needs_provider_signature(record.placement), error=error,
    )
    return page, status


@bp.get("/<placement_id>")
@role_required("officer", "provider")
def detail(placement_id: str):
    record = queries.get_placement_record(current_user, placement_id)
    _audit_view(record, "detail")
    return _render_detail(record)


@bp.post("/<placement_id>/agreement")
@role_required("officer")
def generate_agreement(placement_id: str):
    record = queries.get_placement_record(current_user, placement_id)
    if not GenerateAgreementForm().validate_on_submit():
        return _render_detail(record, error="Your form expired. Try again", status=400)
    offer = queries.find_offer_for_placement(current_user, record.placement)
    with unit_of_work() as work:
        create_agreement(record.placement, record.request, offer, user=current_user)
    if not work.ok:
        return _render_detail(record, error=work.message, status=work.status)
    flash("Placement agreement generated. It is ready to sign.", "success")
    return redirect(url_for("placements.detail", placement_id=placement_id))


def _refuse_signature(record: queries.PlacementRecord, form: SignAgreementForm, *, code: str, status: int,
                      message: str | None = None):
    """A refused signature is audited too (nothing was signed), and the page says why."""
    audit_now(current_user, "sign_agreement", "placement_request", record.placement.request_id, outcome="refused",
              detail=f"placement:{record.placement.id};{code}")
    return _render_detail(record, form=form, error=message, status=status)


@bp.post("/<placement_id>/flags")
@role_required("officer")
def flags(placement_id: str):
    record = queries.get_placement_record(current_user, placement_id)
    form = PlacementFlagsForm()
    if not form.validate_on_submit():
        problems = [message for field in form for message in field.errors]
        return _render_detail(record, flags_form=form, error=problems[0] if problems else "Try again", status=422)
    with unit_of_work(form) as work:
        changed = services.set_placement_flags(current_user, record.placement,
                                               deprivation_of_liberty=form.deprivation_of_liberty.data,
                                               unregistered_setting=form.unregistered_setting.data)
    if not work.ok:
        return _render_detail(record, flags_form=form, error=work.message, status=work.status)
    flash("Placement record corrected." if changed else "Nothing changed.", "success")
    return redirect(url_for("placements.detail", placement_id=placement_id))


@bp.post("/<placement_id>/sign")
@role_required("officer", "provider", provider_roles=SIGNING_PROVIDER_ROLES)
def sign(placement_id: str):
    record = queries.get_placement_record(current_user, placement_id)
    form = SignAgreementForm()
    if not form.validate_on_submit():
        return _refuse_signature(record, form, code="form_invalid", status=422)
    with unit_of_work(form) as work:
        locked = services.sign_agreement(current_user, record.placement, record.agreement, form.full_name.data)
    if not work.ok:
        return _refuse_signature(record, form, code=work.error.code, status=work.status, message=work.message)
    flash("You have signed the placement agreement." + (" Both sides have signed: it is now locked." if locked else ""),
          "success")
    return redirect(url_for("placements.detail", placement_id=placement_id))


@bp.route("/<placement_id>/end", methods=["GET", "POST"])
@role_required("officer")
def end(placement_id: str):
    record = queries.get_placement_record(current_user, placement_id)
    form = EndPlacementForm()
    status, error = 200, None
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.end_placement(current_user, record.placement, form.end_date.data, form.end_reason.data)
        error, status = work.message, work.status
        if work.ok:
            flash("The placement has ended. The request keeps it as history.", "success")
            return redirect(url_for("placements.detail", placement_id=placement_id))
    elif form.is_submitted():
        status = 409 if record.placement.end_date is not None else 422
    _audit_view(record, "end", outcome="allowed" if status == 200 else "refused")
    return render_template("placements/end.html", record=record, p=record.placement, form=form, error=error), status


@bp.route("/connected/<request_id>/<connected_person_id>", methods=["GET", "POST"])
@role_required("officer")
def connected(request_id: str, connected_person_id: str):
    placement_request = get_request_for_officer(current_user, request_id)
    person = queries.get_connected_person(current_user, placement_request, connected_person_id)
    form = ConnectedPlacementForm()
    if not form.is_submitted():  # prefilled from the request's needs; the officer confirms or corrects it
        form.deprivation_of_liberty.data = deprivation_of_liberty_recorded(placement_request.needs)
    status, error = 200, None
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            placement = services.record_connected_placement(
                current_user, placement_request, person, start_date=form.start_date.data,
                long_term=form.long_term.data, weekly_allowance_gbp=form.weekly_allowance_gbp.data,
                deprivation_of_liberty=form.deprivation_of_liberty.data,
            )
        error, status = work.message, work.status
        if work.ok:
            flash("Placement with a connected person recorded.", "success")
            return redirect(url_for("placements.detail", placement_id=placement.id))
    elif form.is_submitted():
        status = 422
    preview = services.preview_connected_placement(placement_request, person)
    audit_now(current_user, "view_connected_person", "placement_request", placement_request.id,
              outcome="allowed" if status == 200 else "refused", detail=f"connected_person:{person.id}")
    return render_template("placements/connected.html", req=placement_request, person=person, form=form,
                           preview=preview, error=error), status
