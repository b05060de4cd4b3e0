"""/api/v1: the integration API for LA and provider systems (issue 14; docs/api.md).

Thin views: a scope check, a scoped query, the web's own services inside the unit of work, a JSON answer. The
OpenAPI document is generated from these views and the schemas in portal.api.schemas (flask-smorest).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import date

from flask import Blueprint as FlaskBlueprint
from flask import Response, render_template, request, url_for
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from portal.access import get_request_for_officer
from portal.api import schemas
from portal.api.auth import current_api_user, scope_required
from portal.api.forms import validate_section
from portal.api.idempotency import write_once
from portal.api import queries as api_queries
from portal.auth.permissions import audit, audit_now
from portal.errors import Conflict, Invalid, NotFound, problem
from portal.geo import postcode_sector
from portal.providers import csv_format
from portal.providers import queries as provider_queries
from portal.providers import services as provider_services
from portal.requests import queries as request_queries
from portal.requests import services as request_services
from portal.requests.matching import rank_request
from portal.unit_of_work import unit_of_work

bp = Blueprint("api", __name__, description="The West Midlands placement portal's integration API")

PROBLEM = "application/problem+json"
READ_ERRORS = (400, 401, 403, 404, 422, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 422, 429)


class ApiInvalid(Invalid):
    """What was sent fails the web form's checks: every field's message, the first field named."""

    def __init__(self, errors: list[dict]):
        super().__init__(errors[0]["detail"], field=errors[0]["field"])
        self.api_errors = errors


def errors_documented(*statuses: int):
    """Declare the problem answers a view can give (schemathesis checks every answer against the document)."""

    def decorator(view):
        for status in reversed(statuses):
            view = bp.alt_response(status, schema=schemas.Problem, content_type=PROBLEM,
                                   description=_DESCRIPTIONS[status])(view)
        return view

    return decorator


_DESCRIPTIONS = {400: "Bad request", 401: "No live API token", 403: "The token lacks the scope",
                 404: "No such record for this token", 409: "Conflict with the record's state",
                 422: "What was sent cannot be accepted", 429: "Too many requests"}


# --------------------------------------------------------------------------------------- the document, errors

# The document and its reference page: a plain blueprint beside the API's, so they are not operations of it.
docs = FlaskBlueprint("api_docs", __name__)


@docs.get("/openapi.json")
def openapi_json():
    from portal.api.spec import api

    return api.spec.to_dict()


openapi_json.public = True


@docs.get("/")
def reference():
    """The reference page, drawn from the same document."""
    from portal.api.spec import api

    return render_template("api/reference.html", spec=api.spec.to_dict())


reference.public = True


@bp.errorhandler(HTTPException)
def _http_problem(error: HTTPException):
    """webargs' 422 (with every field's message), and any other HTTP error raised inside the API."""
    messages = (getattr(error, "data", None) or {}).get("messages") or {}
    errors = [{"field": field, "detail": detail} for field, detail in _flatten(messages)]
    return problem(error.code or 500, detail=errors[0]["detail"] if errors else None,
                   field=errors[0]["field"] if errors else None, errors=errors or None)


def _flatten(messages, prefix: str = ""):
    """webargs' nested messages ({"json": {"child": {"sex": [...]}}}) as (dotted field, message) pairs."""
    if isinstance(messages, dict):
        for name, value in messages.items():
            name = str(name)
            if not prefix and name in ("json", "query", "headers", "form", "files", "view_args"):
                yield from _flatten(value, "")
            else:
                yield from _flatten(value, f"{prefix}.{name}" if prefix else name)
    elif isinstance(messages, (list, tuple)):
        for value in messages:
            if isinstance(value, (dict, list, tuple)):
                yield from _flatten(value, prefix)
            else:
                yield (prefix or None), str(value)
    else:
        yield (prefix or None), str(messages)


# ----------------------------------------------------------------------------------------- shared helpers

def _cursor(args: dict) -> int:
    raw = args.get("cursor")
    if not raw:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)).decode().removeprefix("o:"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise Invalid("The cursor is not one this API gave", field="cursor") from None
    if offset < 0 or offset > 1_000_000:
        raise Invalid("The cursor is not one this API gave", field="cursor")
    return offset


def _next_cursor(offset: int, limit: int, more: bool) -> str | None:
    return base64.urlsafe_b64encode(f"o:{offset + limit}".encode()).decode().rstrip("=") if more else None


def _page(rows: list, args: dict) -> tuple[list, str | None]:
    offset, limit = _cursor(args), args["limit"]
    return rows[offset:offset + limit], _next_cursor(offset, limit, len(rows) > offset + limit)


def _with_etag(body) -> Response:
    """A JSON read with a strong ETag; a matching If-None-Match is a 304 with no body."""
    text = json.dumps(body, default=str, sort_keys=True)
    tag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
    if tag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = Response(status=304)
    else:
        response = Response(text, status=200, mimetype="application/json")
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _dump(schema, value) -> dict | list:
    return schema.dump(value)


def _iso(value):
    return value.isoformat() if value is not None else None


def _request_out(req) -> dict:
    from portal.requests import sections

    out = {"id": req.id, "status": req.status, "la_code": req.la_code, "created_at": _iso(req.created_at),
           "submitted_at": _iso(req.submitted_at), "completed_sections": list(req.completed_sections or [])}
    for section in sections.SECTIONS:
        values = sections.form_data(req, section)
        schema = schemas.SECTION_SCHEMAS[section.key]()
        values = {name: value for name, value in values.items() if name in schema.fields}
        if "budget_gbp_week" in values and values["budget_gbp_week"] is not None:
            values["budget_gbp_week"] = float(values["budget_gbp_week"])
        out[section.key] = schema.dump(values)
    return out


def _officer_request(request_id: str):
    return get_request_for_officer(current_api_user(), request_id)


# ------------------------------------------------------------------------------ LA systems: placement requests

@bp.route("/requests", methods=["GET"])
@scope_required("requests:read")
@bp.arguments(schemas.PageArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.page_of(schemas.PlacementRequestSummary, "PlacementRequestPage"))
@errors_documented(*READ_ERRORS)
def list_requests(**args):
    """The LA's placement requests, newest first (a page at a time: follow `next_cursor`)."""
    offset, limit = _cursor(args), args["limit"]
    rows = api_queries.list_requests(current_api_user(), offset=offset, limit=limit)
    more, rows = len(rows) > limit, rows[:limit]
    if rows:
        with unit_of_work():
            for req in rows:
                audit(current_api_user(), "api_list", "placement_request", req.id)
    items = [{"id": r.id, "status": r.status, "child_reference": r.child_reference, "urgency": r.urgency,
              "needed_by": _iso(r.needed_by), "created_at": _iso(r.created_at)} for r in rows]
    return _with_etag({"items": items, "next_cursor": _next_cursor(offset, limit, more)})


def _save_sections(user, req, body: dict, *, skip_child: bool = False) -> None:
    for key in schemas.SECTION_SCHEMAS:
        if key not in body or (skip_child and key == "child"):
            continue
        values, errors, _form = validate_section(key, body[key], req)
        if errors:
            raise ApiInvalid(errors)
        if key == "child" and not body[key].get("not_a_duplicate") and \
                request_services.find_possible_duplicates(user, values, exclude_id=req.id if req else None):
            raise Conflict("An open request of your LA may be the same child: check, then send "
                           "child.not_a_duplicate: true to save anyway", field="child.not_a_duplicate")
        request_services.save_section(user, req, key, values, complete=True)
    if body.get("submit"):
        request_services.submit_request(user, req)


def _check_sections(body: dict, req=None) -> None:
    """Every section's form checks, before anything is saved (every bad field is reported at once)."""
    errors = [error for key in schemas.SECTION_SCHEMAS if key in body
              for error in validate_section(key, body[key], req)[1]]
    if errors:
        raise ApiInvalid(errors)


@bp.route("/requests", methods=["POST"])
@scope_required("requests:write")
@bp.arguments(schemas.PlacementRequestCreate)
@bp.response(201, schemas.PlacementRequestOut)
@errors_documented(*WRITE_ERRORS)
def create_request(body):
    """Create a placement request from its sections (the web's task list in one go); `submit: true` submits it."""
    user = current_api_user()

    def run():
        _check_sections(body)
        values, _errors, _form = validate_section("child", body["child"])
        if not body["child"].get("not_a_duplicate") and request_services.find_possible_duplicates(user, values):
            raise Conflict("An open request of your LA may be the same child: check, then send "
                           "child.not_a_duplicate: true to save anyway", field="child.not_a_duplicate")
        req = request_services.create_draft(user, values)
        _save_sections(user, req, body, skip_child=True)
        return 201, _request_out(req), {"Location": url_for("api.get_request", request_id=req.id)}

    return write_once(run)


@bp.route("/requests/<request_id>", methods=["GET"])
@scope_required("requests:read")
@bp.response(200, schemas.PlacementRequestOut)
@errors_documented(*READ_ERRORS)
def get_request(request_id: str):
    """One placement request, every section (the child's record: the read is audited)."""
    req = _officer_request(request_id)
    audit_now(current_api_user(), "api_view", "placement_request", req.id)
    return _with_etag(_request_out(req))


@bp.route("/requests/<request_id>", methods=["PATCH"])
@scope_required("requests:write")
@bp.arguments(schemas.PlacementRequestUpdate)
@bp.response(200, schemas.PlacementRequestOut)
@errors_documented(*WRITE_ERRORS)
def update_request(body, request_id: str):
    """Save sections of a request (a change of circumstances once it is submitted), and optionally submit it."""
    user = current_api_user()
    req = _officer_request(request_id)

    def run():
        _check_sections(body, req)
        _save_sections(user, req, body)
        return 200, _request_out(req), {}

    return write_once(run)


@bp.route("/requests/<request_id>/matches", methods=["GET"])
@scope_required("requests:read")
@bp.arguments(schemas.PageArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.page_of(schemas.MatchOut, "MatchPage"))
@errors_documented(*READ_ERRORS)
def list_matches(request_id: str, **args):
    """The request's ranked matches, best first, each with its score's reasons (none until it is submitted)."""
    req = _officer_request(request_id)
    audit_now(current_api_user(), "api_view_matches", "placement_request", req.id)
    offset = _cursor(args)
    if req.status not in ("searching", "offers"):
        return _with_etag({"items": [], "next_cursor": None})
    ranking = rank_request(req, limit=offset + args["limit"] + 1)
    matches = list(ranking.result.matches)
    page = matches[offset:offset + args["limit"]]
    items = []
    for rank, match in enumerate(page, start=offset + 1):
        info = ranking.infos[match.option]
        items.append({"rank": rank, "option_id": match.option, "kind": info.kind, "provider_id": info.provider_id,
                      "provider_name": info.provider_name, "setting_id": info.setting_id,
                      "setting_name": info.setting_name, "score": match.score,
                      "distance_miles": match.distance_miles, "flags": sorted(match.flags),
                      "fee_gbp_week": info.fee_gbp_week, "reasons": [part.to_dict() for part in match.parts]})
    return _with_etag({"items": items,
                       "next_cursor": _next_cursor(offset, args["limit"], len(matches) > offset + args["limit"])})


@bp.route("/requests/<request_id>/referrals", methods=["GET"])
@scope_required("requests:read")
@bp.arguments(schemas.PageArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.page_of(schemas.ReferralOut, "ReferralPage"))
@errors_documented(*READ_ERRORS)
def list_request_referrals(request_id: str, **args):
    """The providers the request was referred to, and any "we cannot offer a place" answer."""
    user = current_api_user()
    req = _officer_request(request_id)
    audit_now(user, "api_view_referrals", "placement_request", req.id)
    rows = request_queries.list_referrals_for_request(user, req, page=1)
    every = list(rows.items)
    for number in range(2, rows.pages + 1):
        every += request_queries.list_referrals_for_request(user, req, page=number).items
    items = [{"id": r.id, "request_id": r.request_id, "provider_id": p.id, "provider_name": p.name,
              "status": r.status, "sent_at": _iso(r.sent_at), "declined_reason": d.reason if d else None}
             for r, p, d in every]
    page, cursor = _page(items, args)
    return _with_etag({"items": page, "next_cursor": cursor})


@bp.route("/requests/<request_id>/offers", methods=["GET"])
@scope_required("requests:read")
@bp.arguments(schemas.PageArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.page_of(schemas.OfferOut, "OfferPage"))
@errors_documented(*READ_ERRORS)
def list_request_offers(request_id: str, **args):
    """Offers received for the request (or its brothers and sisters placed together) and the decision on each."""
    user = current_api_user()
    req = _officer_request(request_id)
    audit_now(user, "api_view_offers", "placement_request", req.id)
    rows = request_queries.list_offers_for_request(user, req, page=1)
    every = list(rows.items)
    for number in range(2, rows.pages + 1):
        every += request_queries.list_offers_for_request(user, req, page=number).items
    items = [_offer_out(offer) for offer, _v, _s, _p in every]
    page, cursor = _page(items, args)
    return _with_etag({"items": page, "next_cursor": cursor})


def _offer_out(offer) -> dict:
    return {"id": offer.id, "referral_id": offer.referral_id, "request_id": offer.request_id,
            "provider_id": offer.provider_id, "vacancy_id": offer.vacancy_id, "status": offer.status,
            "fee_gbp_week": float(offer.fee_gbp_week), "start_date": _iso(offer.start_date),
            "decline_reason": offer.decision_reason, "created_at": _iso(offer.created_at)}


@bp.route("/requests/<request_id>/placement", methods=["GET"])
@scope_required("placements:read")
@bp.response(200, schemas.PlacementOut)
@errors_documented(*READ_ERRORS)
def get_placement(request_id: str):
    """The request's placement, once an offer is accepted (404 before)."""
    user = current_api_user()
    req = _officer_request(request_id)
    audit_now(user, "api_view_placement", "placement_request", req.id)
    placement = request_queries.find_placement_for_request(user, req)
    if placement is None:
        raise NotFound()
    return _with_etag({"id": placement.id, "request_id": placement.request_id, "offer_id": placement.offer_id,
                       "provider_id": placement.provider_id, "setting_id": placement.setting_id,
                       "start_date": _iso(placement.start_date), "end_date": _iso(placement.end_date),
                       "placement_type": placement.placement_type, "provider_code": placement.provider_code,
                       "distance_miles": float(placement.distance_miles), "inside_la": placement.inside_la,
                       "weekly_cost_gbp": float(placement.weekly_cost_gbp)
                       if placement.weekly_cost_gbp is not None else None})


# ----------------------------------------------------------------------------- provider systems: referrals

def _anonymised(referral, req) -> dict:
    """The referral as the provider's pages show it before an offer is accepted: no names, no date of birth, no
    full postcode (requests.services.as_providers_see is the same words)."""
    open_ = referral.status != "closed" and req.status in ("searching", "offers")
    return {"id": referral.id, "status": referral.status, "sent_at": _iso(referral.sent_at), "request_open": open_,
            "age_when_needed": req.age_on(req.needed_by) if req.needed_by and req.date_of_birth else None,
            "sex": req.sex, "postcode_sector": postcode_sector(req.home_postcode) if req.home_postcode else None,
            "urgency": req.urgency, "needed_by": _iso(req.needed_by), "needs": sorted(req.needs or ()),
            "risks": sorted(req.risks or ()), "pets": req.pets, "living_companions": req.living_companions,
            "notes": req.notes, "as_shown": request_services.as_providers_see(req)}


@bp.route("/referrals", methods=["GET"])
@scope_required("referrals:read")
@bp.arguments(schemas.PageArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.page_of(schemas.AnonymisedReferral, "AnonymisedReferralPage"))
@errors_documented(*READ_ERRORS)
def list_referrals(**args):
    """The referrals sent to the provider, anonymised, open ones first and most urgent first."""
    user = current_api_user()
    rows = provider_queries.list_referrals_for_provider(user)
    page, cursor = _page(rows, args)
    if page:
        with unit_of_work():
            for referral, _req in page:
                audit(user, "api_list_referral", "placement_request", referral.request_id,
                      detail=f"referral:{referral.id}")
    return _with_etag({"items": [_anonymised(r, q) for r, q in page], "next_cursor": cursor})


@bp.route("/referrals/<referral_id>", methods=["GET"])
@scope_required("referrals:read")
@bp.response(200, schemas.AnonymisedReferral)
@errors_documented(*READ_ERRORS)
def get_referral(referral_id: str):
    """One referral sent to the provider, anonymised."""
    user = current_api_user()
    referral = provider_queries.get_referral_for_provider(user, referral_id)
    audit_now(user, "api_view_referral", "placement_request", referral.request_id, detail=f"referral:{referral.id}")
    return _with_etag(_anonymised(referral, referral.request))


@bp.route("/referrals/<referral_id>/offers", methods=["POST"])
@scope_required("offers:write")
@bp.arguments(schemas.OfferCreate)
@bp.response(201, schemas.OfferOut)
@errors_documented(*WRITE_ERRORS)
def make_offer(body, referral_id: str):
    """Offer one of the provider's open vacancies that can meet the child's needs."""
    user = current_api_user()
    referral = provider_queries.get_referral_for_provider(user, referral_id)

    def run():
        fit = provider_queries.FitChecker(user).fit(referral.request, explain=False)
        vacancy = provider_queries.find_vacancy_for_provider(user, body["vacancy_id"])
        if vacancy is None:
            raise Invalid("Select one of your own vacancies", field="vacancy_id")
        from decimal import Decimal

        fee = body.get("fee_gbp_week")
        offer = provider_services.make_offer(
            user, referral, vacancy, fit.vacancy_ids,
            fee_gbp_week=Decimal(str(fee)).quantize(Decimal("0.01")) if fee is not None else None,
            start_date=body.get("start_date"), message=body.get("message"))
        return 201, _offer_out(offer), {}

    return write_once(run)


@bp.route("/offers/<offer_id>/withdraw", methods=["POST"])
@scope_required("offers:write")
@bp.response(200, schemas.OfferOut)
@errors_documented(*WRITE_ERRORS)
def withdraw_offer(offer_id: str):
    """Withdraw an offer the placement officer has not decided on (an accepted one is locked: 409)."""
    user = current_api_user()
    offer = provider_queries.get_offer_for_provider(user, offer_id)

    def run():
        provider_services.withdraw_offer(user, offer)
        return 200, _offer_out(offer), {}

    return write_once(run)


@bp.route("/vacancies/bulk", methods=["POST"])
@scope_required("vacancies:write")
@bp.arguments(schemas.VacanciesUpsert)
@bp.response(200, schemas.VacanciesResult)
@errors_documented(*WRITE_ERRORS)
def upsert_vacancies(body):
    """Add, change and withdraw vacancies: all or nothing, as the CSV upload (the same checks); every bad row is
    reported, as `vacancies.<index>.<field>`."""
    user = current_api_user()

    def run():
        import csv
        import io

        text = io.StringIO()
        writer = csv.writer(text)
        columns = ("vacancy_id", "setting_id", "ofsted_urn", "places", "available_from", "available_to",
                   "fee_gbp_week", "status")
        writer.writerow(columns)
        for row in body["vacancies"]:
            writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in columns])
        rows, problems = csv_format.parse_vacancy_csv(text.getvalue().encode())
        try:
            result = provider_services.bulk_update_vacancies(user, rows, problems, date.today())
        except provider_services.BulkUploadRejected as rejected:
            errors = [{"field": f"vacancies.{p.row - 2}.{p.column}" if p.row and p.row >= 2 and p.column
                       else (f"vacancies.{p.row - 2}" if p.row and p.row >= 2 else "vacancies"),
                       "detail": p.message} for p in rejected.problems]
            raise ApiInvalid(errors) from None
        return 200, {"added": result.added, "changed": result.changed, "withdrawn": result.withdrawn}, {}

    return write_once(run)
