"""Administrators (regional hub): review provider registrations and approve or reject them with a reason; search
and export the audit trail."""

from __future__ import annotations

import csv
import io
from datetime import timezone

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.admin import queries, services
from portal.admin.forms import AuditSearchForm, ProviderDecisionForm
from portal.auth.queries import organisation_names
from portal.auth.permissions import audit_now, role_required
from portal import listing
from portal.forms import validates_query_string
from portal.unit_of_work import unit_of_work

bp = Blueprint("admin", __name__)


@bp.get("/")
@role_required("admin")
def home():
    """Registrations waiting for a decision, and those decided: two lists, each paged (the other's page kept)."""
    pending = queries.list_pending_providers(page=listing.page_number(request.args.get("pending_page")))
    decided = queries.list_decided_providers(page=listing.page_number(request.args.get("page")))
    return render_template(
        "admin/home.html",
        pending=listing.ListPage(pending, endpoint="admin.home", args={"page": decided.page_arg},
                                 param="pending_page"),
        decided=listing.ListPage(decided, endpoint="admin.home", args={"pending_page": pending.page_arg}))


@bp.get("/notifications")
@role_required("admin")
def notifications():
    """Emails not sent: those whose last attempt failed (tried again later) and those given up (issue 17 §1)."""
    return _render_notifications()


def _render_notifications(code: int = 200):
    from portal.auth.forms import ConfirmForm
    from portal.notifications.queries import UNSENT_STATUSES, list_unsent

    status = listing.choice(request.args.get("status"), UNSENT_STATUSES)
    paged = list_unsent(status, page=listing.page_number(request.args.get("page")))
    return render_template("admin/notifications.html", statuses=UNSENT_STATUSES, status=status or "",
                           messages=listing.ListPage(paged, endpoint="admin.notifications", args={"status": status}),
                           send_again_form=ConfirmForm()), code


@bp.post("/notifications/<notification_id>/send-again")
@role_required("admin")
def send_notification_again(notification_id: str):
    """Queue a given-up email again (audited); 409 when it is no longer given up (issue 17 §2)."""
    from portal.auth.forms import ConfirmForm

    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("admin.notifications"))
    with unit_of_work(form) as work:
        services.send_notification_again(current_user, notification_id)
    if work.ok:
        flash("The email will be sent again in the next few seconds.", "success")
        return redirect(url_for("admin.notifications"))
    flash(work.message, "error")
    return _render_notifications(work.status)


@bp.get("/people")
@role_required("admin")
def people():
    """Everyone with an account, to find a person and manage their sign-in (reset MFA, a reset link)."""
    from portal.models import ROLES

    text = (request.args.get("q") or "")[:100]
    role = listing.choice(request.args.get("role"), ROLES) or ""
    status = listing.choice(request.args.get("status"), queries.PEOPLE_STATUSES)
    sort = listing.sort_choice(request.args.get("sort"), queries.PEOPLE_SORTS, queries.PEOPLE_DEFAULT_SORT)
    paged = queries.search_people(text, role, status=status, sort=sort,
                                  page=listing.page_number(request.args.get("page")))
    people_list = listing.ListPage(paged, sort, "admin.people", args={"q": text, "role": role, "status": status},
                                   default_sort=queries.PEOPLE_DEFAULT_SORT)
    return render_template("admin/people.html", people=people_list, q=text, role=role, roles=ROLES, status=status,
                           statuses=queries.PEOPLE_STATUSES)


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


# ------------------------------------------------------------------------------------------ the audit trail

AUDIT_EXPORT_MAX_ROWS = 100_000
AUDIT_CSV_COLUMNS = ("time_utc", "user_name", "user_id", "role", "organisation", "organisation_name", "action",
                     "record_type", "record_id", "record_name", "outcome", "source_address", "detail")


def _audit_search() -> tuple[AuditSearchForm, queries.AuditFilters | None]:
    """The search form read from the query string, and its filters (None when they are not valid)."""
    form = AuditSearchForm(request.args)
    form.organisation.choices = [("", "Any organisation"), *queries.list_audit_organisations()]
    if request.args and not form.validate():
        return form, None
    return form, queries.AuditFilters(
        user=form.user.data, record_type=form.record_type.data, record_id=form.record_id.data,
        organisation=form.organisation.data or None, action=form.action.data, outcome=form.outcome.data or None,
        date_from=form.date_from.data, date_to=form.date_to.data,
    )


def _audit_args() -> dict[str, list[str]]:
    """The search as the query string has it (without the page), for the pages' links and the CSV's."""
    return {key: request.args.getlist(key) for key in request.args if key != "page"}


@bp.get("/audit")
@role_required("admin")
@validates_query_string
def audit():
    """Who did what to which record: searched by user, record, organisation, action, outcome and date; newest
    first, 50 to a page (issue 15 §8). Bad filters are field errors (422), what was typed kept."""
    form, filters = _audit_search()
    if filters is None:
        return _audit_refused(form)
    paged = queries.list_audit_events(filters, page=listing.page_number(request.args.get("page")))
    events = listing.ListPage(paged, endpoint="admin.audit", args=_audit_args())
    return render_template("admin/audit.html", form=form, events=events, max_rows=AUDIT_EXPORT_MAX_ROWS,
                           org_names=organisation_names(), record_names=queries.record_names(paged.items),
                           csv_url=url_for("admin.audit_csv", **_audit_args()))


def _audit_refused(form):
    return render_template("admin/audit.html", form=form, events=None, csv_url=None,
                           max_rows=AUDIT_EXPORT_MAX_ROWS, org_names={}, record_names={}), 422


def _csv_cell(value) -> str:
    """A spreadsheet cell; text a spreadsheet would run as a formula is made inert."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/audit.csv")
@role_required("admin")
@validates_query_string
def audit_csv():
    """The events the same filters find, newest first, as CSV: streamed, at most AUDIT_EXPORT_MAX_ROWS. The export
    is itself audited (the names of the filters used, never the values searched for)."""
    form, filters = _audit_search()
    if filters is None:
        return _audit_refused(form)
    audit_now(current_user, "export_audit", "audit_event", None,
              detail=f"filters:{','.join(filters.used()) or 'none'};max_rows:{AUDIT_EXPORT_MAX_ROWS}")
    org_names = organisation_names()
    events = queries.iter_audit_events(filters, limit=AUDIT_EXPORT_MAX_ROWS)  # its own session: streams after

    def rows():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(AUDIT_CSV_COLUMNS)
        for count, (event, record_name) in enumerate(events, start=1):
            writer.writerow([
                event.at.astimezone(timezone.utc).isoformat(timespec="seconds"), _csv_cell(event.user_name),
                event.user_id or "", event.role or "", _csv_cell(event.organisation),
                _csv_cell(org_names.get(event.organisation, "")), _csv_cell(event.action),
                _csv_cell(event.record_type), _csv_cell(event.record_id), _csv_cell(record_name),
                _csv_cell(event.outcome), event.source_address or "", _csv_cell(event.detail),
            ])
            if count % 500 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return Response(rows(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=audit.csv", "Cache-Control": "no-store"})
