"""Providers' pages: the referral inbox (anonymised), offers, vacancies."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from portal import geo
from portal.auth.permissions import role_required
from portal.db import db
from portal.providers import queries, services
from portal.providers.forms import OfferForm
from portal.requests.matching import rank_request
from portal.requests.models import PlacementRequest
from portal.requests.services import ServiceError

bp = Blueprint("providers", __name__)


@bp.get("/")
@role_required("provider")
def home():
    rows = queries.list_referrals_for_provider(current_user)
    return render_template("providers/home.html", rows=rows, sector=geo.postcode_sector)


def _fits(placement_request: PlacementRequest):
    """This provider's options that can meet the child's needs, from the matching core, best first."""
    ranking = rank_request(placement_request)
    mine = [m for m in ranking.result.matches if ranking.infos[m.option].provider_id == current_user.provider_id]
    return ranking, mine


@bp.route("/referrals/<referral_id>", methods=["GET", "POST"])
@role_required("provider")
def referral(referral_id: str):
    ref = queries.get_referral_for_provider(current_user, referral_id)
    placement_request = db.session.get(PlacementRequest, ref.request_id)
    ranking, mine = _fits(placement_request)
    offers = queries.list_offers_for_referral(current_user, ref)
    accepted = any(o.status == "accepted" for o in offers)
    form = OfferForm()
    form.vacancy_id.choices = [
        (m.option, f"{ranking.infos[m.option].setting_name}: {ranking.infos[m.option].places_free} place(s) from "
                   f"{ranking.infos[m.option].available_from:%d/%m/%Y}, £{ranking.infos[m.option].fee_gbp_week:,.0f} a week")
        for m in mine
    ]
    if not form.is_submitted() and mine:
        best = ranking.infos[mine[0].option]
        form.vacancy_id.data = best.option_id
        form.fee_gbp_week.data = best.fee_gbp_week
        form.start_date.data = max(best.available_from, placement_request.needed_by)
    status = 200
    if form.validate_on_submit():
        try:
            services.make_offer(
                current_user, ref, queries.find_vacancy_for_provider(current_user, form.vacancy_id.data),
                {m.option for m in mine}, fee_gbp_week=form.fee_gbp_week.data, start_date=form.start_date.data,
                message=form.message.data,
            )
        except ServiceError as error:
            db.session.rollback()
            form.vacancy_id.errors = [str(error)]
            status = 422
        else:
            db.session.commit()
            flash("Offer made. The placement officer has been told.", "success")
            return redirect(url_for("providers.referral", referral_id=ref.id))
    elif form.is_submitted():
        status = 422
    services.mark_referral_viewed(current_user, ref)
    db.session.commit()
    return render_template(
        "providers/referral.html", ref=ref, req=placement_request, age=placement_request.age_on(placement_request.needed_by),
        sector=geo.postcode_sector(placement_request.home_postcode), mine=mine, ranking=ranking, offers=offers,
        accepted=accepted, form=form,
    ), status


@bp.get("/vacancies")
@role_required("provider")
def vacancies():
    return render_template("providers/vacancies.html", rows=queries.list_vacancies_for_provider(current_user))
