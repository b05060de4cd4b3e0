"""Placement officers' pages: their LA's requests, a new request, live matches, referrals, offers, decisions."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.permissions import audit, role_required
from portal.auth.queries import list_audit_events_for_record
from portal.db import db
from portal.requests import queries, services
from portal.requests.forms import DecisionForm, PlacementRequestForm, RequestFilterForm, SendReferralsForm
from portal.requests.matching import eligible_provider_ids, rank_request, record_match_run

bp = Blueprint("requests", __name__)


@bp.get("/")
@role_required("officer")
def index():
    form = RequestFilterForm(request.args)
    if request.args and not form.validate():
        return render_template("requests/index.html", rows=[], form=form, filtered=True), 400
    rows = queries.list_requests_for_officer(
        current_user, form.status.data or None, urgency=form.urgency.data or None, age_min=form.age_min.data,
        age_max=form.age_max.data, search=form.q.data,
    )
    return render_template("requests/index.html", rows=rows, form=form, filtered=bool(request.args))


@bp.route("/new", methods=["GET", "POST"])
@role_required("officer")
def new():
    form = PlacementRequestForm()
    if form.validate_on_submit():
        details = services.RequestDetails(
            child_reference=form.child_reference.data, first_name=form.first_name.data,
            last_name=form.last_name.data, date_of_birth=form.date_of_birth.data, sex=form.sex.data,
            home=form.home_postcode.lookup, school=form.school_postcode.lookup, keep_school=form.keep_school.data,
            urgency=form.urgency.data, needed_by=form.needed_by.data,
            suitability_foster=form.suitability_foster.data,
            suitability_residential=form.suitability_residential.data,
            suitability_supported=form.suitability_supported.data,
            needs=tuple(form.needs.data or ()), risks=tuple(form.risks.data or ()),
            budget_gbp_week=form.budget_gbp_week.data, notes=form.notes.data,
        )
        placement_request = services.create_request(current_user, details, submit=True)
        db.session.commit()
        return redirect(url_for("requests.detail", request_id=placement_request.id))
    return render_template("requests/new.html", form=form), 422 if form.is_submitted() else 200


def _render_detail(placement_request, *, form=None, status: int = 200, error: str | None = None):
    """The request page: the child, the live ranked matches, referrals sent, offers and the placement."""
    ranking = rank_request(placement_request)
    eligible = eligible_provider_ids(ranking)
    if form is None:
        form = SendReferralsForm()
    form.providers.choices = sorted(
        {(ranking.infos[m.option].provider_id, ranking.infos[m.option].provider_name)
         for m in ranking.result.matches if ranking.infos[m.option].provider_id},
        key=lambda c: c[1],
    )
    page = render_template(
        "requests/detail.html",
        req=placement_request,
        ranking=ranking,
        eligible=eligible,
        form=form,
        decision_form=DecisionForm(formdata=None),
        error=error,
        referrals=queries.list_referrals_for_request(current_user, placement_request),
        offers=queries.list_offers_for_request(current_user, placement_request),
        placement=queries.find_placement_for_request(current_user, placement_request),
    )
    return page, status, ranking, eligible


@bp.get("/<request_id>")
@role_required("officer")
def detail(request_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    audit(current_user, "view", "placement_request", placement_request.id)
    page, status, _ranking, _eligible = _render_detail(placement_request)
    db.session.commit()
    return page, status


@bp.post("/<request_id>/referrals")
@role_required("officer")
def send_referrals(request_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    form = SendReferralsForm()
    ranking = rank_request(placement_request)
    eligible = eligible_provider_ids(ranking)
    form.providers.choices = [(p, p) for p in sorted(eligible)]
    if not form.validate_on_submit():
        return _render_detail(placement_request, form=form, status=400)[:2]
    # Two buttons: send to the ticked providers, or to every provider that can meet the child's needs.
    chosen = set(eligible) if request.form.get("send_to") == "all" else set(form.providers.data or ())
    if not chosen:
        form.providers.errors = (
            ["Select at least one provider to send the referral to"] if eligible
            else ["No provider can meet this child's needs yet"]
        )
        return _render_detail(placement_request, form=form, status=422)[:2]
    try:
        sent = services.send_referrals(current_user, placement_request, chosen, eligible)
    except services.ServiceError as error:
        db.session.rollback()
        return _render_detail(placement_request, form=form, status=422, error=str(error))[:2]
    record_match_run(placement_request, current_user, "send_referrals", ranking)
    db.session.commit()
    flash(f"Referral sent to {len(sent)} provider{'s' if len(sent) != 1 else ''}.", "success")
    return redirect(url_for("requests.detail", request_id=placement_request.id))


@bp.post("/<request_id>/offers/<offer_id>/accept")
@role_required("officer")
def accept_offer(request_id: str, offer_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    offer = queries.get_offer_for_request(current_user, placement_request, offer_id)
    if not DecisionForm().validate_on_submit():
        return _render_detail(placement_request, status=400, error="Your form expired. Try again")[:2]
    try:
        services.accept_offer(current_user, placement_request, offer)
        db.session.commit()
    except services.NoLongerAvailable as error:
        db.session.rollback()
        return _render_detail(placement_request, status=409, error=str(error))[:2]
    flash("Offer accepted and placement recorded.", "success")
    return redirect(url_for("requests.detail", request_id=request_id))


@bp.post("/<request_id>/offers/<offer_id>/decline")
@role_required("officer")
def decline_offer(request_id: str, offer_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    offer = queries.get_offer_for_request(current_user, placement_request, offer_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_detail(placement_request, status=400, error="Your form expired. Try again")[:2]
    try:
        services.decline_offer(current_user, placement_request, offer, form.reason.data or "")
    except services.ServiceError as error:
        db.session.rollback()
        return _render_detail(placement_request, status=422, error=str(error))[:2]
    db.session.commit()
    flash("Offer declined. The provider can see your reason.", "success")
    return redirect(url_for("requests.detail", request_id=request_id))


@bp.get("/<request_id>/access")
@role_required("officer")
def access_log(request_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    events = list_audit_events_for_record("placement_request", placement_request.id)
    audit(current_user, "view_access_log", "placement_request", placement_request.id)
    db.session.commit()
    return render_template("requests/access_log.html", req=placement_request, events=events)


@bp.get("/<request_id>/matches")
@role_required("officer")
def matches_fragment(request_id: str):
    """The live match list, polled by the page. 204 when nothing changed since the version the page has.

    A short poll (not a held connection) so no server worker is tied up per open page (issue 4 §2).
    """
    placement_request = queries.get_request_for_officer(current_user, request_id)
    from portal.providers.queries import get_options_version

    if request.args.get("version") == str(get_options_version()):
        return "", 204
    ranking = rank_request(placement_request)
    fragment = render_template("requests/_matches.html", req=placement_request, ranking=ranking,
                               form=SendReferralsForm(formdata=None))
    return fragment, 200, {"X-Options-Version": str(ranking.version), "Cache-Control": "no-store"}
