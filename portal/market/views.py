"""Commissioners' pages: aggregates only, small numbers suppressed (issue 6; docs/market.md).

    /market/                          overview
    /market/<page>                    demand, supply, gaps, prices, distance, outcomes, responses, shape, summary
    /market/<page>/<table>.csv        any table of a page, exactly as shown (audited)
    /market/exports                   the pseudonymised exports, explained
    /market/export/<name>.csv         referrals or placements, pseudonymised (audited)

Every view takes the filters in the query string (filters.py): a bad value is a 400 page, another LA a 403, a
cohort too small to show a 422 page explaining why.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from flask import request as http_request
from flask_login import current_user

from portal.auth.permissions import audit_now, role_required
from portal.market import pages, queries
from portal.market.export import EXPORTS
from portal.market.filters import (
    AGE_BANDS,
    PLACEMENT_TYPES,
    FilterError,
    FilterForbidden,
    MarketFilters,
    parse_filters,
    periods,
)
from portal.market.reports import CohortRefused, Context
from portal.market.tables import csv_document, table_csv
from portal.matching import vocabulary as vocab

bp = Blueprint("market", __name__)

NAVIGATION = (("home", "Overview"), ("demand", "Demand"), ("supply", "Supply"), ("gaps", "Sufficiency gaps"),
              ("prices", "Prices"), ("distance", "Distance and locality"), ("outcomes", "Outcomes"),
              ("responses", "Referrals and responses"), ("shape", "Market shape"), ("summary", "Region summary"))
PAGE_NAMES = "demand,supply,gaps,prices,distance,outcomes,responses,shape,summary"


def _la_codes() -> list[tuple[str, str]]:
    return queries.list_local_authorities()


def _filters() -> MarketFilters:
    user_la = current_user.la_code if current_user.role == "commissioner" else None
    return parse_filters(http_request.args, user_la=user_la, la_codes={c for c, _ in _la_codes()},
                         today=date.today())


def _context() -> Context:
    return Context(threshold=current_app.config["SUPPRESSION_THRESHOLD"],
                   la_codes=tuple(code for code, _ in _la_codes()),
                   stale_days=current_app.config.get("VACANCY_STALE_DAYS", 14))


@bp.context_processor
def _filter_choices():
    """What the filter form offers (an LA commissioner: their own LA and the region)."""
    if not current_user.is_authenticated:
        return {}
    mine = current_user.la_code if current_user.role == "commissioner" else None
    las = [(code, name) for code, name in _la_codes() if mine is None or code == mine]
    return {"market_nav": NAVIGATION, "filter_las": las, "filter_periods": periods(date.today()).values(),
            "filter_types": PLACEMENT_TYPES, "filter_ages": AGE_BANDS, "filter_needs": vocab.NEEDS,
            "filter_risks": vocab.RISKS}


@bp.errorhandler(FilterError)
def _bad_filter(error: FilterError):
    status = 403 if isinstance(error, FilterForbidden) else 400
    return render_template("market/filter_error.html", error=error, status=status), status


@bp.errorhandler(CohortRefused)
def _refused(error: CohortRefused):
    f = _filters()
    widen = [(words, url_for(http_request.endpoint, **{**http_request.view_args, **f.widen(name)}))
             for name, words in error.widen]
    return render_template("market/refused.html", error=error, widen=widen, f=f), 422


@bp.get("/")
@role_required("commissioner", "admin")
def home():
    f = _filters()
    return render_template("market/home.html", page=pages.overview(f, _context()), f=f)


@bp.get(f"/<any({PAGE_NAMES}):name>")
@role_required("commissioner", "admin")
def page(name: str):
    f = _filters()
    built = pages.build(name, f, _context())
    template = "market/summary.html" if name == "summary" else "market/page.html"
    return render_template(template, page=built, f=f, threshold=current_app.config["SUPPRESSION_THRESHOLD"])


@bp.get(f"/<any({PAGE_NAMES}):name>/<table>.csv")
@role_required("commissioner", "admin")
def table_download(name: str, table: str):
    f = _filters()
    built = pages.build(name, f, _context())
    if table not in {t.key for t in built.tables}:
        abort(404)
    audit_now(current_user, "export_table_csv", "market_table", f"{name}/{table}", detail=f.audit_detail)
    return _csv(table_csv(built.table(table)), f"{name}-{table}-{f.la or 'region'}-{f.period.key}.csv")


@bp.get("/exports")
@role_required("commissioner", "admin")
def exports():
    f = _filters()
    return render_template("market/exports.html", f=f, exports=EXPORTS)


@bp.get("/export/<any(referrals,placements):name>.csv")
@role_required("commissioner", "admin")
def export_download(name: str):
    f = _filters()
    if current_user.role == "commissioner" and current_user.la_code and f.la != current_user.la_code:
        raise FilterForbidden("la", "Pseudonymised exports hold one row per child: you can export your own local "
                                    "authority's, not the region's.")
    header, rows, _title = EXPORTS[name]
    audit_now(current_user, f"export_{name}", "market_export", name, detail=f.audit_detail)
    document = csv_document(header, rows(f, current_app.config["SECRET_KEY"]))
    return _csv(document, f"{name}-pseudonymised-{f.la or 'region'}-{f.period.key}.csv")


def _csv(document: str, filename: str) -> Response:
    return Response(document, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@bp.app_template_global("market_chart")
def _market_chart(table):
    """The SVG layout of a table's chart (portal/market/charts.py), for templates/macros/charts.html."""
    from portal.market.charts import layout

    return layout(table)
