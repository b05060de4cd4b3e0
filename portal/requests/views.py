"""Placement officers' pages: their LA's requests, a new request, live matches, referrals, offers, decisions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import geo, listing
from portal.auth.permissions import audit_now, role_required
from portal.auth.queries import list_audit_events_for_record, organisation_names
from portal.errors import Invalid
from portal.options import get_options_version
from portal.requests import queries, sections, services
from portal.requests.forms import (
    ConnectedPersonForm,
    DecisionForm,
    ReEntryDecisionForm,
    RequestFilterForm,
    SendReferralsForm,
    SiblingForm,
    SplitSiblingGroupForm,
    WithdrawForm,
)
from portal.requests.matching import (
    eligible_provider_ids,
    explain_request_exclusions,
    offer_exclusions,
    rank_request,
    record_match_run,
)
from portal.unit_of_work import unit_of_work

bp = Blueprint("requests", __name__)


@bp.route("/", methods=["GET", "POST"])
@role_required("officer")
def index():
    """The LA's requests. Filters are POSTed, not put in the URL: a search holds a child's name, and no personal
    data may appear in URLs or access logs (DESIGN.md §5). Searching changes nothing, so no redirect follows.
    A filtered list pages and sorts with the form's own buttons; an unfiltered one with ?page= and ?sort=."""
    filters = request.form if request.method == "POST" else None
    form = RequestFilterForm(formdata=filters)
    params = filters or request.args
    if filters is not None and not form.validate():
        return render_template("requests/index.html", form=form, filtered=True,
                               requests=listing.ListPage(listing.Paged([], 0, 1), form="request-filters"),
                               now=queries.officer_needs_you_now(current_user)), 400
    asked = params.get("sort") or params.get("current_sort")
    # A search lists the best matches first, unless an order is asked for.
    sort = None if (form.q.data or "").strip() and not asked else \
        listing.sort_choice(asked, queries.REQUEST_SORTS, queries.REQUEST_DEFAULT_SORT)
    paged = queries.list_requests_for_officer(
        current_user, form.status.data or None, urgency=form.urgency.data or None, age_min=form.age_min.data,
        age_max=form.age_max.data, search=form.q.data, sort=sort, page=listing.page_number(params.get("page")),
    )
    requests_list = listing.ListPage(paged, sort, "requests.index", default_sort=queries.REQUEST_DEFAULT_SORT,
                                     form="request-filters" if filters is not None else None)
    return render_template("requests/index.html", form=form, filtered=filters is not None, requests=requests_list,
                           now=queries.officer_needs_you_now(current_user))


# The request page shows the best 100 matches (templates/macros/matches.html) and the number eligible.
PAGE_MATCHES = 100

# "Change" links on the check-your-answers page come back to it: ?next=check-answers (a fixed word, never data).
BACK_TO_CHECK = "check-answers"


def _rank_again(placement_request) -> None:
    """After a change of circumstances, once it is committed: rank again with no lock held, and keep the new
    ranking with the request (MatchRun "change"), as the officer sees it on the request page next."""
    if placement_request.status not in ("searching", "offers"):
        return
    ranking = rank_request(placement_request)
    with unit_of_work():
        record_match_run(placement_request, current_user, "change", ranking)


def _changed_message(title: str, change) -> str:
    told = " Providers with a live referral are told what changed." if change.notice else ""
    return f"{title}: changed. The matches have been ranked again.{told}"


@bp.route("/new", methods=["GET", "POST"])
@role_required("officer")
def new():
    """Start a request with 'About the child'; possible duplicates are shown before anything is saved."""
    section = sections.SECTIONS_BY_KEY["child"]
    form = sections.build_form(section)
    duplicates = []
    if form.validate_on_submit():
        values = sections.values_from_form(section, form)
        duplicates = [] if form.not_a_duplicate.data else services.find_possible_duplicates(current_user, values)
        if not duplicates:
            with unit_of_work(form) as work:
                placement_request = services.create_draft(current_user, values)
            if work.ok:
                return redirect(url_for("requests.task_list", request_id=placement_request.id))
    status = 409 if duplicates else (422 if form.is_submitted() else 200)
    return render_template("requests/section.html", form=form, section=section, req=None,
                           duplicates=duplicates, error=None), status


@bp.get("/<request_id>/edit")
@role_required("officer")
def task_list(request_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    audit_now(current_user, "view", "placement_request", placement_request.id)
    return render_template("requests/task_list.html", req=placement_request, sections=sections,
                           form=DecisionForm(formdata=None), error=None,
                           care=queries.get_earlier_care(current_user, placement_request))


@bp.route("/<request_id>/edit/<key>", methods=["GET", "POST"])
@role_required("officer")
def section(request_id: str, key: str):
    """One section of the request. On a submitted request saving it is a change of circumstances: the matches
    are ranked again and providers with a live referral are told what changed (anonymised)."""
    placement_request = queries.get_request_for_officer(current_user, request_id)
    section_ = sections.SECTIONS_BY_KEY.get(key) or abort(404)
    back_to_check = request.args.get("next") == BACK_TO_CHECK
    if request.method == "GET" and placement_request.status not in services.EDITABLE_STATUSES:
        flash(services.closed_message(placement_request.status), "error")
        return redirect(url_for("requests.detail", request_id=placement_request.id))
    form = sections.build_form(section_, placement_request, formdata=request.form if request.method == "POST" else None)
    duplicates, error, work = [], None, None
    if form.validate_on_submit():
        values = sections.values_from_form(section_, form)
        if key == "child" and not form.not_a_duplicate.data:
            duplicates = services.find_possible_duplicates(current_user, values, exclude_id=placement_request.id)
        if not duplicates:
            with unit_of_work(form) as work:
                change = services.save_section(current_user, placement_request, key, values,
                                               complete=request.form.get("action") != "draft")
            if work.ok:
                if change is not None:
                    _rank_again(placement_request)
                flash(_changed_message(section_.title, change) if change else f"{section_.title}: saved.", "success")
                if back_to_check:
                    return redirect(url_for("requests.check_answers", request_id=placement_request.id))
                if placement_request.status != "draft":
                    return redirect(url_for("requests.detail", request_id=placement_request.id))
                return redirect(url_for("requests.task_list", request_id=placement_request.id))
            error = work.message
    elif request.method == "GET":
        audit_now(current_user, "view", "placement_request", placement_request.id)
    status = 409 if duplicates else _form_status(form, work)
    return render_template("requests/section.html", form=form, section=section_, req=placement_request,
                           duplicates=duplicates, error=error, back_to_check=back_to_check), status


@bp.get("/<request_id>/check-answers")
@role_required("officer")
def check_answers(request_id: str):
    """GOV.UK "Check your answers": every section with a Change link back to it; a draft is submitted from here.
    On a submitted request the same page is where a change of circumstances starts."""
    placement_request = queries.get_request_for_officer(current_user, request_id)
    audit_now(current_user, "view", "placement_request", placement_request.id)
    return _render_check_answers(placement_request)


def _render_check_answers(placement_request, *, form=None, errors=(), status: int = 200):
    return render_template(
        "requests/check_answers.html", req=placement_request, answers=sections.answers(placement_request),
        missing=sections.missing_required(placement_request), back=BACK_TO_CHECK,
        siblings=queries.list_siblings(current_user, placement_request), errors=list(errors),
        form=form or DecisionForm(formdata=None), editable=placement_request.status in services.EDITABLE_STATUSES,
        care=queries.get_earlier_care(current_user, placement_request),
    ), status


@bp.post("/<request_id>/submit")
@role_required("officer")
def submit(request_id: str):
    """The check-your-answers page's button. Incomplete sections are refused, each linked from the error summary."""
    placement_request = queries.get_request_for_officer(current_user, request_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_check_answers(placement_request, form=form, status=422,
                                     errors=[{"text": _refused_decision(form), "href": "#submit-request"}])
    with unit_of_work(form) as work:
        services.submit_request(current_user, placement_request)
    if work.ok:
        flash("Request submitted. These are the placements that can meet the child's needs, best first.", "success")
        return redirect(url_for("requests.detail", request_id=placement_request.id))
    if work.error.code == "incomplete":
        errors = [{"text": f"Complete ‘{s.title}’ before you submit the request",
                   "href": url_for("requests.section", request_id=placement_request.id, key=s.key, next=BACK_TO_CHECK)}
                  for s in sections.missing_required(placement_request)]
    else:
        errors = [{"text": work.message, "href": "#submit-request"}]
    return _render_check_answers(placement_request, form=form, errors=errors, status=work.status)


def _refused_decision(form) -> str:
    """What a refused decision button says: its field's own error (a control character in a reason), else that the
    form expired (its CSRF token)."""
    errors = [message for name, messages in form.errors.items() if name != "csrf_token" for message in messages]
    return errors[0] if errors else "Your form expired. Try again"


def _render_detail(placement_request, *, form=None, status: int = 200, error: str | None = None):
    """The request page: the child, the live ranked matches, referrals sent, offers and the placement."""
    searching = placement_request.status in ("searching", "offers")
    offers = queries.list_offers_for_request(current_user, placement_request,
                                             page=listing.page_number(request.args.get("offers_page")))
    # The page shows the best PAGE_MATCHES and the number eligible; the offers' homes keep their match for the
    # comparison even when further down; the providers to choose from are every eligible option's.
    # The region's daily allocation: its answer for this child, and that place's match even if further down.
    recommendation = queries.allocation_recommendation(current_user, placement_request) if searching else None
    recommended = (recommendation.option_id,) if recommendation and recommendation.option_id else ()
    ranking = rank_request(placement_request, limit=PAGE_MATCHES,
                           include=tuple(offer.vacancy_id for offer, *_ in offers) + recommended) if searching else None
    eligible = eligible_provider_ids(ranking) if searching else set()
    if form is None:
        form = SendReferralsForm()
    form.providers.choices = sorted(
        {(ranking.infos[o].provider_id, ranking.infos[o].provider_name)
         for o in ranking.eligible_options if ranking.infos[o].provider_id},
        key=lambda c: c[1],
    ) if searching else []
    live = [offer for offer, *_ in offers if offer.status in ("made", "shortlisted")] if searching else []
    unfit_by_vacancy = offer_exclusions(placement_request, [offer.vacancy_id for offer in live])
    matches_by_option = {m.option: m for m in ranking.result.matches} if ranking else {}
    compare = {
        offer.id: (
            geo.distance_miles(placement_request.home_easting, placement_request.home_northing,
                               setting.easting, setting.northing),
            matches_by_option.get(offer.vacancy_id),
        )
        for offer, _vacancy, setting, _provider in offers
    }
    siblings = queries.list_siblings(current_user, placement_request)
    referrals = queries.list_referrals_for_request(current_user, placement_request,
                                                   page=listing.page_number(request.args.get("referrals_page")))
    # Two lists on one page: each pages by its own number, keeps the other's, and comes back to its heading.
    here = {"request_id": placement_request.id}
    page = render_template(
        "requests/detail.html",
        siblings=siblings,
        sibling_placements=queries.sibling_placements(current_user, siblings),
        compare=compare,
        req=placement_request,
        ranking=ranking,
        eligible=eligible,
        form=form,
        decision_form=DecisionForm(formdata=None),
        error=error,
        referrals=listing.ListPage(referrals, endpoint="requests.detail", param="referrals_page", anchor="referrals",
                                   args={**here, "offers_page": offers.page_arg}),
        offers=listing.ListPage(offers, endpoint="requests.detail", param="offers_page", anchor="offers",
                                args={**here, "referrals_page": referrals.page_arg}),
        referred=queries.referred_provider_ids(current_user, placement_request),
        unfit={offer.id: unfit_by_vacancy[offer.vacancy_id] for offer in live if offer.vacancy_id in unfit_by_vacancy},
        changes=queries.list_changes_for_request(current_user, placement_request),
        change_titles=sections.CHANGE_TITLES,
        placement=queries.find_placement_for_request(current_user, placement_request),
        care=queries.get_earlier_care(current_user, placement_request),
        recommendation=recommendation,
        recommended_match=matches_by_option.get(recommended[0]) if recommended else None,
    )
    return page, status, ranking, eligible


@bp.get("/<request_id>")
@role_required("officer")
def detail(request_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    if placement_request.status == "draft":
        return redirect(url_for("requests.task_list", request_id=placement_request.id))
    audit_now(current_user, "view", "placement_request", placement_request.id)
    page, status, _ranking, _eligible = _render_detail(placement_request)
    return page, status


@bp.post("/<request_id>/referrals")
@role_required("officer")
def send_referrals(request_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    if placement_request.status not in ("searching", "offers"):
        return _render_detail(placement_request, status=409, error="Referrals can only be sent while the request is searching")[:2]
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
    with unit_of_work(form) as work:
        sent = services.send_referrals(current_user, placement_request, chosen, eligible)
        record_match_run(placement_request, current_user, "send_referrals", ranking)
    if not work.ok:  # 422, or 409 when the same referral was sent a moment ago from another tab
        return _render_detail(placement_request, form=form, status=work.status, error=work.message)[:2]
    if sent:
        flash(f"Referral sent to {len(sent)} provider{'s' if len(sent) != 1 else ''}.", "success")
    else:
        flash("The referral had already been sent to every provider you chose: nothing new was sent.", "info")
    return redirect(url_for("requests.detail", request_id=placement_request.id))


@bp.post("/<request_id>/offers/<offer_id>/accept")
@role_required("officer")
def accept_offer(request_id: str, offer_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    offer = queries.get_offer_for_request(current_user, placement_request, offer_id)
    decision = DecisionForm()
    if not decision.validate_on_submit():
        return _render_detail(placement_request, status=400, error=_refused_decision(decision))[:2]
    # The ranking the officer acted on is captured before the write: nothing read after it decides what is saved.
    ranking = rank_request(placement_request) if placement_request.status in ("searching", "offers") else None
    with unit_of_work() as work:
        if ranking is not None:
            record_match_run(placement_request, current_user, "accept_offer", ranking)
        placement = services.accept_offer(current_user, placement_request, offer)
    if not work.ok:
        return _render_detail(placement_request, status=work.status, error=work.message)[:2]
    together = placement.siblings_placed_together
    flash(f"Offer accepted: all {together} brothers and sisters are placed together, one placement record each."
          if together > 1 else "Offer accepted and placement recorded.", "success")
    return redirect(url_for("requests.detail", request_id=request_id))


@bp.post("/<request_id>/offers/<offer_id>/shortlist")
@role_required("officer")
def shortlist_offer(request_id: str, offer_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    offer = queries.get_offer_for_request(current_user, placement_request, offer_id)
    decision = DecisionForm()
    if not decision.validate_on_submit():
        return _render_detail(placement_request, status=400, error=_refused_decision(decision))[:2]
    with unit_of_work() as work:
        services.shortlist_offer(current_user, placement_request, offer)
    if not work.ok:
        return _render_detail(placement_request, status=work.status, error=work.message)[:2]
    flash("Offer shortlisted.", "success")
    return redirect(url_for("requests.detail", request_id=request_id) + "#offers")


@bp.post("/<request_id>/offers/<offer_id>/decline")
@role_required("officer")
def decline_offer(request_id: str, offer_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    offer = queries.get_offer_for_request(current_user, placement_request, offer_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_detail(placement_request, status=400, error=_refused_decision(form))[:2]
    with unit_of_work(form) as work:
        services.decline_offer(current_user, placement_request, offer, form.reason.data or "")
    if not work.ok:
        return _render_detail(placement_request, status=work.status, error=work.message)[:2]
    flash("Offer declined. The provider can see your reason.", "success")
    return redirect(url_for("requests.detail", request_id=request_id))


@bp.get("/<request_id>/access")
@role_required("officer")
def access_log(request_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    audit_now(current_user, "view_access_log", "placement_request", placement_request.id)
    paged = list_audit_events_for_record("placement_request", placement_request.id,
                                         page=listing.page_number(request.args.get("page")))
    return render_template("requests/access_log.html", req=placement_request, org_names=organisation_names(),
                           events=listing.ListPage(paged, endpoint="requests.access_log",
                                                   args={"request_id": placement_request.id}))


# What the officer is told after answering on an earlier placement.
RE_ENTRY_DONE = {
    "confirm": "Recorded: the same child. If that placement ended with the child leaving care, this request is a "
               "re-entry to care.",
    "dismiss": "Recorded: not the same child.",
    "undo": "Answer taken back: the placement is to check again.",
}


@bp.route("/<request_id>/earlier-placements", methods=["GET", "POST"])
@role_required("officer")
def earlier_placements(request_id: str):
    """Re-entry to care: earlier placements in the officer's LA that may be this child's (the same child reference,
    or rapidfuzz on the name with the same date of birth). The officer answers each; a confirmed one that ended
    with the child leaving care makes the request a re-entry, which commissioners count (never who)."""
    placement_request = queries.get_request_for_officer(current_user, request_id)
    form = ReEntryDecisionForm()
    error, work = None, None
    if form.validate_on_submit():
        candidate = queries.get_earlier_placement(current_user, placement_request, form.placement_id.data)
        with unit_of_work(form) as work:
            services.decide_re_entry(current_user, placement_request, candidate, form.action.data)
        if work.ok:
            flash(RE_ENTRY_DONE[form.action.data], "success")
            return redirect(url_for("requests.earlier_placements", request_id=placement_request.id)
                            + f"#earlier-{candidate.placement.id}")
        error = work.message
    elif form.is_submitted():
        error = _refused_decision(form)
    else:
        audit_now(current_user, "view", "placement_request", placement_request.id)
    care = queries.get_earlier_care(current_user, placement_request)
    return render_template("requests/earlier_placements.html", req=placement_request, care=care,
                           form=ReEntryDecisionForm(formdata=None), error=error), _form_status(form, work)


@bp.get("/<request_id>/matches")
@role_required("officer")
def matches_fragment(request_id: str):
    """The live match list, polled by the page. 204 when nothing changed since the version the page has.

    A short poll (not a held connection) so no server worker is tied up per open page (issue 4 §2).
    """
    placement_request = queries.get_request_for_officer(current_user, request_id)
    if placement_request.status not in ("searching", "offers") or request.args.get("version") == str(get_options_version()):
        return "", 204
    ranking = rank_request(placement_request, limit=PAGE_MATCHES)
    referred = {provider.id for _r, provider, _d in queries.list_referrals_for_request(current_user, placement_request)}
    fragment = render_template("requests/_matches.html", req=placement_request, ranking=ranking,
                               form=SendReferralsForm(formdata=None), referred=referred)
    return fragment, 200, {"X-Options-Version": str(ranking.version), "Cache-Control": "no-store"}


@bp.route("/<request_id>/connected-persons", methods=["GET", "POST"])
@role_required("officer")
def connected_persons(request_id: str):
    """Family and friends who could care for the child; a registered foster carer with a similar name is suggested."""
    placement_request = queries.get_request_for_officer(current_user, request_id)
    form = ConnectedPersonForm()
    error, work = None, None
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            person = services.add_connected_person(current_user, placement_request, _person_values(form))
        if work.ok:
            _rank_again(placement_request)
            flash(f"{person.name} added as a connected person.", "success")
            return redirect(url_for("requests.connected_persons", request_id=placement_request.id))
        error = work.message
    audit_now(current_user, "view", "placement_request", placement_request.id)
    suggestions = services.suggest_registered_carers(list(placement_request.connected_persons))
    people = [(person, suggestions[person.id]) for person in placement_request.connected_persons]
    return render_template("requests/connected_persons.html", req=placement_request, form=form, people=people,
                           error=error, editable=placement_request.status in services.EDITABLE_STATUSES), \
        _form_status(form, work)


def _person_values(form: ConnectedPersonForm) -> dict:
    return {"name": form.name.data, "relationship_to_child": form.relationship_to_child.data,
            "postcode": form.postcode.lookup, "stage": form.stage.data, "capacity": form.capacity.data,
            "source": form.source.data}


def _form_status(form, work=None) -> int:
    """A form page's status: a refused change's own (422, or 409 when the request is closed or someone got there
    first), 422 for input that did not validate, 200 for the blank form."""
    if work is not None and not work.ok:
        return work.status
    return 422 if form.is_submitted() else 200


@bp.route("/<request_id>/connected-persons/<connected_person_id>", methods=["GET", "POST"])
@role_required("officer")
def connected_person(request_id: str, connected_person_id: str):
    """Change what is known of a connected person: their assessment stage above all (an approved person is ranked
    first from now on, s22C)."""
    placement_request = queries.get_request_for_officer(current_user, request_id)
    person = queries.get_connected_person(current_user, placement_request, connected_person_id)
    if request.method == "POST":
        form = ConnectedPersonForm()
    else:
        form = ConnectedPersonForm(formdata=None, obj=person)
    error, work = None, None
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.update_connected_person(current_user, placement_request, person, _person_values(form))
        if work.ok:
            _rank_again(placement_request)
            flash(f"{person.name}: changes saved. The matches have been ranked again.", "success")
            return redirect(url_for("requests.connected_persons", request_id=placement_request.id))
        error = work.message
    else:
        audit_now(current_user, "view", "placement_request", placement_request.id)
    return render_template("requests/connected_person.html", req=placement_request, person=person, form=form,
                           error=error, editable=placement_request.status in services.EDITABLE_STATUSES), \
        _form_status(form, work)


@bp.route("/<request_id>/siblings", methods=["GET", "POST"])
@role_required("officer")
def siblings(request_id: str):
    placement_request = queries.get_request_for_officer(current_user, request_id)
    form = SiblingForm()
    error, work = None, None
    if request.form.get("action") == "unlink" and form.is_submitted():
        with unit_of_work(form) as work:
            services.unlink_sibling(current_user, placement_request)
        if work.ok:
            _rank_again(placement_request)
            flash("Removed from the sibling group.", "success")
            return redirect(url_for("requests.siblings", request_id=placement_request.id))
        error = work.message
    elif form.validate_on_submit():
        other = queries.find_request_by_reference(current_user, form.child_reference.data)
        with unit_of_work(form) as work:
            if other is None:
                raise Invalid("There is no placement request with that reference in your local authority",
                              field="child_reference")
            services.link_sibling(current_user, placement_request, other, together=form.together.data)
        if work.ok:
            _rank_again(placement_request)
            flash("Brother or sister linked.", "success")
            return redirect(url_for("requests.siblings", request_id=placement_request.id))
        if work.message:
            form.child_reference.errors = [work.message]
    audit_now(current_user, "view", "placement_request", placement_request.id)
    return render_template("requests/siblings.html", req=placement_request, form=form, error=error,
                           siblings=queries.list_siblings(current_user, placement_request)), \
        _form_status(form, work)


@bp.route("/<request_id>/siblings/split", methods=["GET", "POST"])
@role_required("officer")
def split_siblings(request_id: str):
    """The plan allows separate placements: stop matching the group as one unit, with a recorded reason."""
    placement_request = queries.get_request_for_officer(current_user, request_id)
    group = placement_request.sibling_group
    if group is None:
        abort(404)
    form = SplitSiblingGroupForm()
    error = None
    if group.together and form.validate_on_submit():
        with unit_of_work(form) as work:
            services.split_group(current_user, placement_request, form.reason.data)
        if work.ok:
            flash("The brothers and sisters will now be matched one by one. Providers holding referrals for them "
                  "together have been told.", "success")
            return redirect(url_for("requests.siblings", request_id=placement_request.id))
        error = work.message
        status = work.status
    elif form.is_submitted() and not group.together:
        error, status = "These brothers and sisters are already to be matched one by one", 409
    else:
        status = 422 if form.is_submitted() else 200
    audit_now(current_user, "view", "placement_request", placement_request.id)
    return render_template("requests/split_siblings.html", req=placement_request, form=form, error=error,
                           siblings=queries.list_siblings(current_user, placement_request)), status


@bp.get("/<request_id>/not-eligible")
@role_required("officer")
def not_eligible(request_id: str):
    """'Why not this home?': every other open home's failed rules, nearest first, searchable by name."""
    placement_request = queries.get_request_for_officer(current_user, request_id)
    if placement_request.status not in ("searching", "offers"):
        abort(404)
    search = (request.args.get("q") or "")[:100]
    audit_now(current_user, "view", "placement_request", placement_request.id)
    counts, rows = explain_request_exclusions(placement_request, search=search)
    homes = listing.ListPage(listing.paginate_rows(rows, page=listing.page_number(request.args.get("page"))),
                             endpoint="requests.not_eligible", args={"request_id": placement_request.id, "q": search})
    return render_template("requests/not_eligible.html", req=placement_request, counts=counts, homes=homes,
                           search=search)


@bp.route("/<request_id>/withdraw", methods=["GET", "POST"])
@role_required("officer")
def withdraw(request_id: str):
    """Withdraw a request the child no longer needs: live referrals and open offers are closed, providers told the
    reason's category. Once only: a second try (another tab, a double click) is a 409 that changes nothing."""
    placement_request = queries.get_request_for_officer(current_user, request_id)
    if request.method == "GET" and placement_request.status not in services.EDITABLE_STATUSES:
        flash(services.closed_message(placement_request.status), "error")
        return redirect(url_for("requests.detail", request_id=placement_request.id))
    form = WithdrawForm()
    error, work = None, None
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            closed = services.withdraw_request(current_user, placement_request, form.reason.data,
                                               form.reason_other.data)
        if work.ok:
            flash(f"Request withdrawn. {closed} provider{'s were' if closed != 1 else ' was'} told.", "success")
            return redirect(url_for("requests.detail", request_id=placement_request.id))
        error = work.message
    elif not form.is_submitted():
        audit_now(current_user, "view", "placement_request", placement_request.id)
    return render_template("requests/withdraw.html", req=placement_request, form=form, error=error,
                           editable=placement_request.status in services.EDITABLE_STATUSES), _form_status(form, work)


@bp.route("/<request_id>/new-sibling", methods=["GET", "POST"])
@role_required("officer")
def new_sibling(request_id: str):
    """"Start a request for a brother or sister": the shared sections are copied, the two linked in one sibling
    group; the new child's own details start empty (this page asks for them, duplicates shown before saving)."""
    source = queries.get_request_for_officer(current_user, request_id)
    if request.method == "GET" and source.status not in services.EDITABLE_STATUSES:
        flash(f"{services.closed_message(source.status)}. Start a new request for the brother or sister instead.",
              "error")
        return redirect(url_for("requests.detail", request_id=source.id))
    section_ = sections.SECTIONS_BY_KEY["child"]
    form = sections.build_form(section_)
    duplicates, error, work = [], None, None
    if form.validate_on_submit():
        values = sections.values_from_form(section_, form)
        duplicates = [] if form.not_a_duplicate.data else services.find_possible_duplicates(current_user, values)
        if not duplicates:
            with unit_of_work(form) as work:
                sibling, copied = services.start_sibling_request(current_user, source, values)
            if work.ok:
                _rank_again(source)
                flash(f"Request started for {sibling.child_name}, linked with {source.child_name} as brothers and "
                      f"sisters. Copied from {source.child_name}'s request: {', '.join(copied).lower() or 'nothing'}.",
                      "success")
                return redirect(url_for("requests.task_list", request_id=sibling.id))
            error = work.message
    elif not form.is_submitted():
        audit_now(current_user, "view", "placement_request", source.id)
    status = 409 if duplicates else _form_status(form, work)
    return render_template("requests/section.html", form=form, section=section_, req=None, source=source,
                           copies=services.SIBLING_COPY, duplicates=duplicates, error=error), status
