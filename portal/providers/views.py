"""Providers' pages: registration, the anonymised referral inbox, offers and outcomes, settings, vacancies and
the CSV bulk update, the dashboard, and the organisation's people.

Roles (issue 5 §1): provider admins manage the organisation's people and profile; managers (and admins) answer
referrals, keep settings and vacancies, and sign placement agreements; staff read only. Every write view says so
in its `role_required`; every read goes through a query scoped to the user's provider.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from portal import geo, listing
from portal.auth.permissions import role_required
from portal.errors import NotFound
from portal.matching.vocabulary import SETTING_TYPES
from portal.providers import queries, services
from portal.providers.csv_format import CSV_COLUMNS, parse_vacancy_csv, vacancies_csv
from portal.providers.forms import (
    ConfirmForm,
    DeclineReferralForm,
    InboxFilterForm,
    InviteForm,
    OfferForm,
    ProfileForm,
    RegistrationForm,
    SetPasswordForm,
    SettingForm,
    UploadForm,
    VacancyForm,
    split_list,
)
from portal.unit_of_work import unit_of_work

bp = Blueprint("providers", __name__)

WRITERS = ("admin", "manager")  # answer referrals, keep settings and vacancies, sign agreements
ADMINS = ("admin",)  # manage the organisation's people and profile


def _stale_days() -> int:
    return current_app.config["VACANCY_STALE_DAYS"]


def public(view):
    """Marks a page anyone may open without signing in (tests/test_architecture.py lists these endpoints)."""
    view.public = True
    return view


def _show_at(field, work) -> None:
    """These form pages have no error summary of their own: a refusal that names no field of the form (the unit
    of work has put any that does at its field) is shown at `field`."""
    if work.message:
        field.errors = [*field.errors, work.message]


def _form_status(form, work=None) -> int:
    """A form page's status: a refused change's own (422, or 409 for a conflict), 422 for input that did not
    validate, 200 for the blank form."""
    if work is not None and not work.ok:
        return work.status
    return 422 if form.is_submitted() else 200


# ------------------------------------------------------------------------------------------- registration

@bp.route("/register", methods=["GET", "POST"])
@public
def register():
    form = RegistrationForm()
    work = None
    if form.validate_on_submit():
        details = services.Registration(
            name=form.name.data, kind=form.kind.data, provider_code=form.provider_code.data,
            la_code=form.la_code.data or None, contract=form.contract.data, contact_name=form.contact_name.data,
            contact_email=form.contact_email.data, contact_phone=form.contact_phone.data,
            ofsted_urns=tuple(getattr(form.ofsted_urns, "urns", ())), password=form.password.data,
        )
        with unit_of_work(form) as work:
            services.register_provider(details)
        if work.ok:  # the same answer whether or not the email address already had an account
            flash("Registration received. Sign in with your email address and password to set up your "
                  "authenticator app. The regional hub will check your organisation: until it is approved, "
                  "placement officers cannot see it. If you already had an account, sign in with your existing "
                  "password.", "success")
            return redirect(url_for("auth.sign_in"))
        _show_at(form.contact_email, work)
    return render_template("providers/register.html", form=form), _form_status(form, work)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@public
def set_password(token: str):
    try:
        user = services.user_for_invite_token(token)
    except NotFound as error:  # an expired or used link; this check only reads, so there is nothing to roll back
        return _link_invalid(str(error))
    form = SetPasswordForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.set_password_with_token(token, form.password.data)  # checks the link again, in the write
        if work.ok:
            flash("Your password is set. Sign in with your email address and new password.", "success")
            return redirect(url_for("auth.sign_in"))
        return _link_invalid(work.message, work.status)  # used meanwhile, in another tab
    return render_template("providers/set_password.html", form=form, user=user), _form_status(form)


def _link_invalid(message: str | None, status: int = 404):
    return render_template("auth/link_invalid.html", message=message), status


# ---------------------------------------------------------------------------------- inbox and dashboard

@bp.get("/")
@role_required("provider")
def home():
    """The inbox: what needs the provider now, then the referrals, filtered, ordered and paged. A filter value that
    is not one of the page's choices is a 400 naming the filter, with the rest of the page as it is."""
    settings = queries.list_setting_names(current_user)
    form = InboxFilterForm(request.args)
    form.setting.choices = [("", "All settings")] + settings
    form.status.choices = [("", "Any"), *queries.INBOX_STATUSES.items()]
    filters = form.check()
    sort = listing.sort_choice(request.args.get("sort"), queries.INBOX_SORTS, queries.INBOX_DEFAULT_SORT)
    if form.errors:
        paged = listing.Paged([], 0, 1)
    else:
        paged = queries.list_inbox(current_user, urgency=filters["urgency"], setting_id=filters["setting"],
                                   status=filters["status"], age_band=filters["age_band"], need=filters["need"],
                                   sort=sort, page=listing.page_number(request.args.get("page")))
    referrals = listing.ListPage(paged, sort, "providers.home", default_sort=queries.INBOX_DEFAULT_SORT,
                                 args={"setting": filters["setting"], "urgency": filters["urgency"],
                                       "status": filters["status"], "age_band": filters["age_band"],
                                       "need": filters["need"]})
    stale = queries.list_stale_vacancies(current_user, _stale_days())
    now = queries.provider_needs_you_now(current_user, len(stale))
    return render_template("providers/home.html", referrals=referrals, filter_form=form, form=form, now=now,
                           filtered=any(filters.values()) or bool(form.errors), stale=stale,
                           sector=geo.postcode_sector, provider=current_user.provider,
                           action_form=ConfirmForm(formdata=None), can_write=current_user.provider_role in WRITERS,
                           stale_days=_stale_days()), 400 if form.errors else 200


@bp.get("/dashboard")
@role_required("provider")
def dashboard():
    board = queries.provider_dashboard(current_user, _stale_days())
    return render_template("providers/dashboard.html", board=board, confirm_form=ConfirmForm(formdata=None),
                           sector=geo.postcode_sector, stale_days=_stale_days(),
                           can_write=current_user.provider_role in WRITERS)


# ------------------------------------------------------------------------------------ a referral, offers

def _render_referral(ref, *, offer_form=None, decline_form=None, error_form=None, error: str | None = None,
                     status: int = 200):
    """The referral page: anonymised until this provider's offer is accepted; which settings fit and why.

    The view is recorded (first viewed, and audited) in its own short unit of work before the page is ranked."""
    with unit_of_work():
        services.mark_referral_viewed(current_user, ref)
    placement_request = ref.request
    fit = queries.FitChecker(current_user).fit(placement_request)
    offers = queries.list_offers_for_referral(current_user, ref)
    accepted = any(o.status == "accepted" for o in offers)
    infos = {info.option_id: info for _m, info in fit.matches}
    if offer_form is None:
        offer_form = OfferForm(formdata=None)
        if fit.matches:
            best = fit.matches[0][1]
            offer_form.vacancy_id.data = best.option_id
            offer_form.fee_gbp_week.data = best.fee_gbp_week
            offer_form.start_date.data = _offer_start(best, placement_request)
            offer_form.prefilled_from.data = best.option_id
    # What each vacancy would offer, for the page's script to fill in when another vacancy is chosen.
    offer_defaults = {info.option_id: {"fee": f"{info.fee_gbp_week:.2f}",
                                       "start": _offer_start(info, placement_request).strftime("%-d %-m %Y")}
                      for _m, info in fit.matches}
    offer_form.vacancy_id.choices = [
        (info.option_id, f"{info.setting_name}: {info.places_free} place{'s' if info.places_free != 1 else ''} from "
                         f"{info.available_from:%-d %B %Y}, £{info.fee_gbp_week:,.0f} a week")
        for _m, info in fit.matches
    ]
    return render_template(
        "providers/referral.html", ref=ref, req=placement_request, children=queries.referral_children(placement_request),
        sector=geo.postcode_sector, fit=fit, infos=infos, offers=offers,
        accepted=accepted, decline=queries.find_decline(current_user, ref),
        placement=queries.find_placement_for_referral(current_user, ref) if accepted else None,
        offer_form=offer_form, offer_defaults=offer_defaults,
        # A change of circumstances since the referral was sent, and offers the child's needs now rule out.
        change_notice=queries.find_change_notice(current_user, ref),
        unfit={info.option_id: exclusion.reasons for exclusion, info in fit.misses},
        decline_form=decline_form or DeclineReferralForm(formdata=None),
        action_form=ConfirmForm(formdata=None), form=error_form, error=error,
        can_write=current_user.provider_role in WRITERS,
        is_open=ref.status != "closed" and placement_request.status in ("searching", "offers"),
    ), status


def _offer_start(info, placement_request) -> date:
    """The start date an offer of this vacancy proposes: the later of when the child is needed, when the vacancy
    is free, and today (the same rule as services.make_offer's)."""
    return max(info.available_from, placement_request.needed_by or date.today(), date.today())


def _offer_terms(form, fit, placement_request):
    """The fee and start date to offer: as typed, except that a value left as it was prefilled for another
    vacancy than the one chosen follows the chosen one (None: the service uses the vacancy's own)."""
    fee, start = form.fee_gbp_week.data, form.start_date.data
    prefilled = next((info for _m, info in fit.matches if info.option_id == form.prefilled_from.data), None)
    if prefilled is not None and form.vacancy_id.data != prefilled.option_id:
        if fee is not None and fee == prefilled.fee_gbp_week:
            fee = None
        if start is not None and start == _offer_start(prefilled, placement_request):
            start = None
    return fee, start


@bp.get("/referrals/<referral_id>")
@role_required("provider")
def referral(referral_id: str):
    return _render_referral(queries.get_referral_for_provider(current_user, referral_id))


@bp.post("/referrals/<referral_id>")
@role_required("provider", provider_roles=WRITERS)
def make_offer(referral_id: str):
    ref = queries.get_referral_for_provider(current_user, referral_id)
    fit = queries.FitChecker(current_user).fit(ref.request, explain=False)
    form = OfferForm()
    form.vacancy_id.choices = [(info.option_id, info.setting_name) for _m, info in fit.matches]
    if not form.validate_on_submit():
        return _render_referral(ref, offer_form=form, error_form=form, status=422)
    vacancy = queries.find_vacancy_for_provider(current_user, form.vacancy_id.data)
    fee, start = _offer_terms(form, fit, ref.request)
    with unit_of_work(form) as work:
        services.make_offer(current_user, ref, vacancy, fit.vacancy_ids, fee_gbp_week=fee, start_date=start,
                            message=form.message.data)
    if work.ok:
        flash("Offer made. The placement officer has been told.", "success")
        return redirect(url_for("providers.referral", referral_id=ref.id))
    _show_at(form.vacancy_id, work)
    return _render_referral(ref, offer_form=form, error_form=form, status=work.status)


@bp.post("/referrals/<referral_id>/decline")
@role_required("provider", provider_roles=WRITERS)
def decline_referral(referral_id: str):
    ref = queries.get_referral_for_provider(current_user, referral_id)
    form = DeclineReferralForm()
    work = None
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.decline_referral(current_user, ref, form.reason.data, form.reason_other.data)
        if work.ok:
            flash("Answer sent: the placement officer can see you cannot offer a place, and why.", "success")
            return redirect(url_for("providers.referral", referral_id=ref.id))
        _show_at(form.reason, work)
    return _render_referral(ref, decline_form=form, error_form=form, status=_form_status(form, work))


@bp.get("/offers")
@role_required("provider")
def offers():
    """Every offer the provider has made, with its outcome; the children anonymised."""
    status = listing.choice(request.args.get("status"), queries.OFFER_LIST_STATUSES)
    sort = listing.sort_choice(request.args.get("sort"), queries.OFFER_SORTS, queries.OFFER_DEFAULT_SORT)
    paged = queries.list_offers_for_provider(current_user, status=status, sort=sort,
                                             page=listing.page_number(request.args.get("page")))
    rows = listing.ListPage(paged, sort, "providers.offers", args={"status": status},
                            default_sort=queries.OFFER_DEFAULT_SORT)
    return render_template("providers/offers.html", offers=rows, status=status,
                           statuses=queries.OFFER_LIST_STATUSES)


@bp.post("/offers/<offer_id>/withdraw")
@role_required("provider", provider_roles=WRITERS)
def withdraw_offer(offer_id: str):
    offer = queries.get_offer_for_provider(current_user, offer_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("providers.referral", referral_id=offer.referral_id))
    with unit_of_work() as work:
        services.withdraw_offer(current_user, offer)
    if work.ok:
        flash("Offer withdrawn. The placement officer has been told.", "success")
        return redirect(url_for("providers.referral", referral_id=offer.referral_id))
    return _render_referral(queries.get_referral_for_provider(current_user, offer.referral_id), error=work.message,
                            status=work.status)


# ---------------------------------------------------------------------------------------------- settings

@bp.get("/settings")
@role_required("provider")
def settings():
    status = listing.choice(request.args.get("status"), queries.SETTING_STATUSES)
    kind = listing.choice(request.args.get("kind"), SETTING_TYPES)
    sort = listing.sort_choice(request.args.get("sort"), queries.SETTING_SORTS, queries.SETTING_DEFAULT_SORT)
    paged = queries.list_setting_page(current_user, status=status, kind=kind, sort=sort,
                                      page=listing.page_number(request.args.get("page")))
    rows = listing.ListPage(paged, sort, "providers.settings", args={"status": status, "kind": kind},
                            default_sort=queries.SETTING_DEFAULT_SORT)
    return render_template("providers/settings.html", settings=rows, status=status, kind=kind, kinds=SETTING_TYPES,
                           statuses=queries.SETTING_STATUSES, can_write=current_user.provider_role in WRITERS)


@bp.get("/settings/<setting_id>")
@role_required("provider")
def setting(setting_id: str):
    found = queries.get_setting_for_provider(current_user, setting_id)
    sort = listing.sort_choice(request.args.get("sort"), queries.VACANCY_SORTS, "available")
    vacancies = _vacancy_list(queries.list_vacancy_page(current_user, setting_id=found.id, sort=sort,
                                                        page=listing.page_number(request.args.get("page"))),
                              sort, "providers.setting", {"setting_id": found.id}, "available")
    return render_template("providers/setting.html", setting=found, vacancies=vacancies, stale_days=_stale_days(),
                           can_write=current_user.provider_role in WRITERS, action_form=ConfirmForm(formdata=None))


def _vacancy_list(paged, sort, endpoint: str, args: dict, default_sort: str) -> listing.ListPage:
    """A page of vacancies as the provider's pages show them, each with how long since it was confirmed."""
    rows = listing.Paged(queries.vacancy_rows(paged.items, _stale_days()), paged.total, paged.page, paged.per_page)
    return listing.ListPage(rows, sort, endpoint, args=args, default_sort=default_sort)


def _setting_details(form: SettingForm) -> services.SettingDetails:
    rating = form.ofsted_rating.data if form.ofsted_rating.data != "none" else None
    return services.SettingDetails(
        name=form.name.data, kind=form.kind.data, postcode=form.postcode.lookup, ofsted_urn=form.ofsted_urn.data,
        ofsted_rating=rating, inspected_on=form.inspected_on.data, registered_places=form.registered_places.data,
        age_min=form.age_min.data, age_max=form.age_max.data, sexes=tuple(form.sexes.data or ()),
        needs_met=tuple(form.needs_met.data or ()), risks_managed=tuple(form.risks_managed.data or ()),
        languages=tuple(split_list(form.languages.data)), religions=tuple(split_list(form.religions.data)),
        has_pets=form.has_pets.data, takes_siblings=form.takes_siblings.data, solo_only=form.solo_only.data,
        fee_gbp_week=form.fee_gbp_week.data,
    )


@bp.route("/settings/new", methods=["GET", "POST"])
@role_required("provider", provider_roles=WRITERS)
def new_setting():
    from portal.models import SETTING_KIND_FOR_PROVIDER

    form = SettingForm(data=None if request.method == "POST" else {
        "kind": SETTING_KIND_FOR_PROVIDER.get(current_user.provider.kind), "sexes": ["female", "male"],
        "takes_siblings": True, "age_min": 0, "age_max": 17,
    })
    work = None
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            created = services.create_setting(current_user, _setting_details(form))
        if work.ok:
            flash(f"{created.name} added. Add its vacancies so placement officers can find it.", "success")
            return redirect(url_for("providers.setting", setting_id=created.id))
        _show_at(form.name, work)
    return render_template("providers/setting_form.html", form=form, setting=None), _form_status(form, work)


@bp.route("/settings/<setting_id>/edit", methods=["GET", "POST"])
@role_required("provider", provider_roles=WRITERS)
def edit_setting(setting_id: str):
    found = queries.get_setting_for_provider(current_user, setting_id)
    form = SettingForm(data=None if request.method == "POST" else {
        "name": found.name, "kind": found.kind, "postcode": found.postcode, "ofsted_urn": found.ofsted_urn,
        "ofsted_rating": found.ofsted_rating or "none", "inspected_on": found.inspected_on,
        "registered_places": found.registered_places, "age_min": found.age_min, "age_max": found.age_max,
        "sexes": found.sexes, "needs_met": found.needs_met, "risks_managed": found.risks_managed,
        "languages": ", ".join(found.languages), "religions": ", ".join(found.religions), "has_pets": found.has_pets,
        "takes_siblings": found.takes_siblings, "solo_only": found.solo_only, "fee_gbp_week": found.fee_gbp_week,
    })
    work = None
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.update_setting(current_user, found, _setting_details(form))
        if work.ok:
            flash(f"{found.name} saved.", "success")
            return redirect(url_for("providers.setting", setting_id=found.id))
        _show_at(form.name, work)
    return render_template("providers/setting_form.html", form=form, setting=found), _form_status(form, work)


@bp.post("/settings/<setting_id>/<any(close, reopen):action>")
@role_required("provider", provider_roles=WRITERS)
def close_setting(setting_id: str, action: str):
    found = queries.get_setting_for_provider(current_user, setting_id)
    if ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            withdrawn = services.set_setting_active(current_user, found, action == "reopen")
        if work.ok:
            flash(f"{found.name} reopened." if action == "reopen" else
                  f"{found.name} closed; {withdrawn} vacanc{'y' if withdrawn == 1 else 'ies'} withdrawn.", "success")
        else:
            flash(work.message, "error")
    return redirect(url_for("providers.setting", setting_id=found.id))


# --------------------------------------------------------------------------------------------- vacancies

@bp.get("/vacancies")
@role_required("provider")
def vacancies():
    """Open and held vacancies (what officers match against), or the filled and withdrawn ones (`show=closed`)."""
    show = listing.choice(request.args.get("show"), queries.VACANCY_VIEWS) or "live"
    default_sort = queries.VACANCY_DEFAULT_SORT if show == "live" else "-closed"
    sort = listing.sort_choice(request.args.get("sort"), queries.VACANCY_SORTS, default_sort)
    paged = queries.list_vacancy_page(current_user, queries.VACANCY_VIEWS[show], sort=sort,
                                      page=listing.page_number(request.args.get("page")))
    stale = queries.list_stale_vacancies(current_user, _stale_days())
    return render_template("providers/vacancies.html", show=show, stale_days=_stale_days(),
                           vacancies=_vacancy_list(paged, sort, "providers.vacancies",
                                                   {"show": None if show == "live" else show}, default_sort),
                           stale=stale, can_write=current_user.provider_role in WRITERS,
                           action_form=ConfirmForm(formdata=None))


def _vacancy_details(form: VacancyForm) -> services.VacancyDetails:
    return services.VacancyDetails(places_free=form.places.data, available_from=form.available_from.data,
                                   available_to=form.available_to.data, fee_gbp_week=form.fee_gbp_week.data,
                                   status=form.status.data)


@bp.route("/vacancies/new", methods=["GET", "POST"])
@role_required("provider", provider_roles=WRITERS)
def new_vacancy():
    settings_open = queries.list_settings_for_provider(current_user, active_only=True)
    chosen = next((s for s in settings_open if s.id == request.args.get("setting")), None)
    form = VacancyForm(data=None if request.method == "POST" else {
        "setting_id": chosen.id if chosen else "", "places": 1, "available_from": date.today(),
        "fee_gbp_week": chosen.fee_gbp_week if chosen else None, "status": "open",
    })
    form.setting_id.choices = [("", "Choose a setting")] + [(s.id, s.name) for s in settings_open]
    work = None
    if form.validate_on_submit():
        # An edited setting_id that is not one of this provider's is "not found", like a guessed URL.
        target = queries.get_setting_for_provider(current_user, form.setting_id.data)
        with unit_of_work(form) as work:
            services.add_vacancy(current_user, target, _vacancy_details(form), date.today())
        if work.ok:
            flash(f"Vacancy added at {target.name}. Placement officers can see it now.", "success")
            return redirect(url_for("providers.vacancies"))
        _show_at(form.setting_id, work)
    return render_template("providers/vacancy_form.html", form=form, vacancy=None), _form_status(form, work)


@bp.route("/vacancies/<vacancy_id>/edit", methods=["GET", "POST"])
@role_required("provider", provider_roles=WRITERS)
def edit_vacancy(vacancy_id: str):
    vacancy = queries.get_vacancy_for_provider(current_user, vacancy_id)
    form = VacancyForm(data=None if request.method == "POST" else {
        "places": vacancy.places_free, "available_from": vacancy.available_from,
        "available_to": vacancy.available_to, "fee_gbp_week": vacancy.fee_gbp_week,
        "status": vacancy.status if vacancy.status in ("open", "held") else "open",
    })
    del form.setting_id
    work = None
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.change_vacancy(current_user, vacancy, _vacancy_details(form), date.today())
        if work.ok:
            flash(f"Vacancy at {vacancy.setting.name} saved and confirmed.", "success")
            return redirect(url_for("providers.vacancies"))
        _show_at(form.places, work)
    return render_template("providers/vacancy_form.html", form=form, vacancy=vacancy), _form_status(form, work)


@bp.route("/vacancies/<vacancy_id>/withdraw", methods=["GET", "POST"])
@role_required("provider", provider_roles=WRITERS)
def withdraw_vacancy(vacancy_id: str):
    vacancy = queries.get_vacancy_for_provider(current_user, vacancy_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work() as work:
            services.withdraw_vacancy(current_user, vacancy)
        if work.ok:
            flash(f"Vacancy at {vacancy.setting.name} withdrawn.", "success")
            return redirect(url_for("providers.vacancies"))
        return render_template("providers/vacancy_withdraw.html", vacancy=vacancy, action_form=form,
                               error=work.message), work.status
    return render_template("providers/vacancy_withdraw.html", vacancy=vacancy, action_form=form, error=None)


@bp.post("/vacancies/<vacancy_id>/confirm")
@role_required("provider", provider_roles=WRITERS)
def confirm_vacancy(vacancy_id: str):
    vacancy = queries.get_vacancy_for_provider(current_user, vacancy_id)
    return _confirm([vacancy])


@bp.post("/vacancies/confirm-all")
@role_required("provider", provider_roles=WRITERS)
def confirm_all_vacancies():
    return _confirm(queries.list_vacancies_for_provider(current_user, ("open", "held")))


def _confirm(vacancies):
    if ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            count = services.confirm_vacancies(current_user, vacancies)
        if work.ok:
            flash(f"{count} vacanc{'y' if count == 1 else 'ies'} confirmed as still available.", "success")
        else:
            flash(work.message, "error")
    return redirect(request.form.get("next") if request.form.get("next") in (
        url_for("providers.dashboard"), url_for("providers.home")) else url_for("providers.vacancies"))


@bp.get("/vacancies.csv")
@role_required("provider")
def download_vacancies():
    rows = queries.list_vacancies_for_provider(current_user, ("open", "held"))
    return Response(vacancies_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=vacancies.csv", "Cache-Control": "no-store"})


@bp.route("/vacancies/upload", methods=["GET", "POST"])
@role_required("provider", provider_roles=WRITERS)
def upload_vacancies():
    try:
        form = UploadForm()
        submitted = form.is_submitted()
    except RequestEntityTooLarge:
        form = UploadForm(formdata=None)
        form.file.errors = [f"The file must be smaller than {current_app.config['MAX_CONTENT_LENGTH'] // 1048576} MB"]
        return _render_upload(form, status=413)
    if not submitted:
        return _render_upload(form)
    if not form.validate():
        return _render_upload(form, status=400)
    rows, problems = parse_vacancy_csv(form.file.data.read())
    with unit_of_work(form) as work:
        result = services.bulk_update_vacancies(current_user, rows, problems, date.today())
    if work.ok:
        flash(f"File saved: {result.added} vacanc{'y' if result.added == 1 else 'ies'} added, {result.changed} "
              f"changed and confirmed, {result.withdrawn} withdrawn.", "success")
        return redirect(url_for("providers.vacancies"))
    if isinstance(work.error, services.BulkUploadRejected):  # a ServiceError (422) listing every bad row
        found = work.error.problems
        form.file.errors = [f"The file has {len(found)} problem{'s' if len(found) != 1 else ''}."
                            " Nothing has been saved. Correct the rows below and upload the file again"]
        return _render_upload(form, problems=found, status=work.status)
    _show_at(form.file, work)
    return _render_upload(form, status=work.status)


def _render_upload(form, *, problems=(), status: int = 200):
    return render_template("providers/upload.html", form=form, problems=problems, columns=CSV_COLUMNS,
                           settings=queries.list_settings_for_provider(current_user, active_only=True)), status


# --------------------------------------------------------------------------------- organisation and people

@bp.get("/organisation")
@role_required("provider")
def organisation():
    return render_template("providers/organisation.html", provider=current_user.provider,
                           can_edit=current_user.provider_role in ADMINS)


@bp.route("/organisation/edit", methods=["GET", "POST"])
@role_required("provider", provider_roles=ADMINS)
def edit_organisation():
    provider = current_user.provider
    form = ProfileForm(obj=None if request.method == "POST" else provider)
    work = None
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.update_profile(current_user, provider, services.Profile(
                contact_name=form.contact_name.data, contact_email=form.contact_email.data,
                contact_phone=form.contact_phone.data, contract=form.contract.data))
        if work.ok:
            flash("Your organisation's details are saved.", "success")
            return redirect(url_for("providers.organisation"))
        _show_at(form.contact_name, work)
    return render_template("providers/organisation_form.html", form=form), _form_status(form, work)


def _render_users(error: str | None = None, status: int = 200):
    paged = queries.list_users_for_provider(current_user, page=listing.page_number(request.args.get("page")))
    return render_template("providers/users.html", users=listing.ListPage(paged, endpoint="providers.users"),
                           action_form=ConfirmForm(formdata=None), error=error), status


@bp.get("/users")
@role_required("provider", provider_roles=ADMINS)
def users():
    return _render_users()


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("provider", provider_roles=ADMINS)
def invite_user():
    form = InviteForm()
    work = None
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            user = services.invite_user(current_user, name=form.name.data, email=form.email.data,
                                        provider_role=form.provider_role.data)
        if work.ok:
            return _render_link(user)
        _show_at(form.email, work)
    return render_template("providers/invite.html", form=form), _form_status(form, work)


def _render_link(user):
    """The one-time set-password link, shown to the admin once (no email is sent from the portal)."""
    link = url_for("providers.set_password", token=services.invite_token(user), _external=True)
    return render_template("providers/invite_link.html", user=user, link=link, days=services.INVITE_DAYS)


@bp.post("/users/<user_id>/new-link")
@role_required("provider", provider_roles=ADMINS)
def renew_invite(user_id: str):
    user = queries.get_user_for_provider(current_user, user_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("providers.users"))
    with unit_of_work() as work:
        services.renew_invite(current_user, user)
    if work.ok:
        return _render_link(user)
    return _render_users(work.message, work.status)


@bp.route("/users/<user_id>/remove", methods=["GET", "POST"])
@role_required("provider", provider_roles=ADMINS)
def remove_user(user_id: str):
    user = queries.get_user_for_provider(current_user, user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work() as work:
            services.remove_user(current_user, user)
        if work.ok:
            flash(f"{user.name} can no longer sign in.", "success")
            return redirect(url_for("providers.users"))
        return render_template("providers/remove_user.html", user=user, action_form=form,
                               error=work.message), work.status
    return render_template("providers/remove_user.html", user=user, action_form=form, error=None)
