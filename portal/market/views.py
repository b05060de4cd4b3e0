"""Commissioners' pages: aggregates only, small numbers suppressed (issue 6; docs/market.md).

    /market/                          overview
    /market/<page>                    demand, supply, gaps, allocation, prices, distance, outcomes, responses,
                                      declines, shape, summary, forecast
    /market/<page>/<table>.csv        any table of a page, exactly as shown (audited)
    /market/extract                   the data extract explained (commissioners with extract_access only)
    /market/extract.csv               the generalised Placements Data Standard extract (the same; audited)
    /market/whatif...                 what-if scenarios: saved, run, compared, exported; proposals (below)

Commissioners see aggregates only: nothing here gives them a row per child, referral, placement or request,
except the extract, which needs the separate permission (User.extract_access) and is k-anonymous (extract.py).

Every view takes the filters in the query string (filters.py): a bad value is a 400 page, another LA a 403, a
cohort too small to show a 422 page explaining why.
"""

from __future__ import annotations

from datetime import date
from functools import wraps

from flask import Blueprint, Response, abort, current_app, redirect, render_template, url_for
from flask import request as http_request
from flask_login import current_user

from portal.auth.permissions import audit_now, role_required
from portal.market import pages, queries, scenarios
from portal.market.cache import cached_page
from portal.market.extract import K, build_extract
from portal.market.forms import RunForm, ScenarioForm, item_records
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
from portal.formatting import la_name
from portal.matching import vocabulary as vocab
from portal.unit_of_work import unit_of_work

bp = Blueprint("market", __name__)

NAVIGATION = (("home", "Overview"), ("demand", "Demand"), ("supply", "Supply"), ("gaps", "Sufficiency gaps"),
              ("allocation", "Regional allocation"), ("prices", "Prices"), ("distance", "Distance and locality"),
              ("outcomes", "Outcomes"), ("responses", "Referrals and responses"),
              ("declines", "Declines and placement flags"), ("shape", "Market shape"), ("summary", "Region summary"),
              ("forecast", "Demand forecast"))
PAGE_NAMES = "demand,supply,gaps,allocation,prices,distance,outcomes,responses,declines,shape,summary,forecast"


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
    ctx = _context()
    return render_template("market/home.html", page=cached_page("home", f, ctx, lambda: pages.overview(f, ctx)), f=f)


def _built(name: str, f: MarketFilters):
    """The page as built once for this view and data version (portal/market/cache.py); its CSV files too."""
    ctx = _context()
    return cached_page(name, f, ctx, lambda: pages.build(name, f, ctx))


@bp.get(f"/<any({PAGE_NAMES}):name>")
@role_required("commissioner", "admin")
def page(name: str):
    f = _filters()
    built = _built(name, f)
    template = "market/summary.html" if name == "summary" else "market/page.html"
    return render_template(template, page=built, f=f, threshold=current_app.config["SUPPRESSION_THRESHOLD"])


@bp.get(f"/<any({PAGE_NAMES}):name>/<table>.csv")
@role_required("commissioner", "admin")
def table_download(name: str, table: str):
    f = _filters()
    built = _built(name, f)
    if table not in {t.key for t in built.tables}:
        abort(404)
    audit_now(current_user, "export_table_csv", "market_table", f"{name}/{table}", detail=f.audit_detail)
    return _csv(table_csv(built.table(table)), f"{name}-{table}-{f.la or 'region'}-{f.period.key}.csv")


def _extract_access_required(view):
    """Only a commissioner given the extract permission gets in: 403 for everyone else, audited as refused (issue
    15 §9). `required_permission` tells the URL walk (tests/test_url_map.py) which users the view is for."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.role != "commissioner" or not current_user.extract_access:
            audit_now(current_user, "download_extract", "market_extract", None, outcome="refused",
                      detail="no extract permission")
            abort(403)
        return view(*args, **kwargs)

    wrapped.required_permission = "extract_access"
    return wrapped


def _extract_filters() -> MarketFilters:
    """An LA commissioner's extract is their own LA's, never the region's (it holds a row per placement)."""
    f = _filters()
    if current_user.la_code and f.la != current_user.la_code:
        raise FilterForbidden("la", "The extract holds a row per placement: you can download your own local "
                                    "authority's, not the region's.")
    return f


@bp.get("/extract")
@role_required("commissioner")
@_extract_access_required
def extract():
    f = _extract_filters()
    built = build_extract(f)
    return render_template("market/extract.html", f=f, extract=built, k=K, extract_filters=True,
                           la_names={code: la_name(code) for code in built.levels})


@bp.get("/extract.csv")
@role_required("commissioner")
@_extract_access_required
def extract_download():
    f = _extract_filters()
    built = build_extract(f)
    audit_now(current_user, "download_extract", "market_extract", f.la or "region", detail=f"rows={len(built.rows)}")
    return _csv(csv_document(built.header, built.rows),
                f"placements-extract-{f.la or 'region'}-{f.period.key}.csv")


def _csv(document: str, filename: str) -> Response:
    return Response(document, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@bp.app_template_global("market_chart")
def _market_chart(table):
    """The SVG layout of a table's chart (portal/market/charts.py), for templates/macros/charts.html."""
    from portal.market.charts import layout

    return layout(table)


# --------------------------------------------------------------------------------------- what-if (issue 13 §1)
#
#     /market/whatif                          saved scenarios; choose two or more to compare
#     /market/whatif/new                      build one: provision items, added and removed as typed
#     /market/whatif/<scenario_id>            one scenario: its items, run it, its figures
#     /market/whatif/<scenario_id>/run        run it on today's open requests or the 12-month replay (POST)
#     /market/whatif/<scenario_id>.csv        its figures (one run) as CSV
#     /market/whatif/compare(.csv)            two or more side by side (?scenario=...&scenario=...&run=open)
#     /market/whatif/proposals                the gaps page's short cells, each scored by the solver

def _scope() -> scenarios.Scope:
    return scenarios.Scope(threshold=current_app.config["SUPPRESSION_THRESHOLD"],
                           la_codes=tuple(code for code, _ in _la_codes()),
                           viewer_la=current_user.la_code if current_user.role == "commissioner" else None)


def _run_choice(default: str | None = "open") -> str:
    run = http_request.args.get("run", default)
    if run not in scenarios.RUNS:
        raise FilterError("run", "Choose today's open requests (run=open) or the 12-month replay (run=replay).")
    return run


@bp.get("/whatif")
@role_required("commissioner", "admin")
def whatif_index():
    saved = scenarios.list_scenarios()
    return render_template("market/whatif_index.html", scenarios=saved, owners=scenarios.owner_names(saved),
                           runs=scenarios.RUNS)


@bp.route("/whatif/new", methods=["GET", "POST"])
@role_required("commissioner", "admin")
def whatif_new():
    form = ScenarioForm()
    action = http_request.form.get("action", "save")
    if http_request.method == "POST" and action == "add":
        if not form.add_item():
            form.form_errors.append(f"A scenario can have at most {scenarios.ITEMS_MAX} items")
    elif http_request.method == "POST" and action.startswith("remove-") and action[7:].isdigit():
        form.remove_item(int(action[7:]))
    elif http_request.method == "POST":
        if form.validate_on_submit():
            with unit_of_work(form) as work:
                saved = scenarios.create_scenario(current_user, form.name.data, item_records(form))
            if work.ok:
                return redirect(url_for("market.whatif_scenario", scenario_id=saved.id))
        return render_template("market/whatif_new.html", form=form, max_items=scenarios.ITEMS_MAX), 422
    return render_template("market/whatif_new.html", form=form, max_items=scenarios.ITEMS_MAX)


@bp.get("/whatif/<scenario_id>")
@role_required("commissioner", "admin")
def whatif_scenario(scenario_id: str):
    return _scenario_page(scenarios.get_scenario(scenario_id), RunForm())


def _scenario_page(scenario, form, status: int = 200):
    scope = _scope()
    results = {run: (scenarios.run_info(scenario, run), scenarios.present(scenario.results[run], scope))
               for run in scenarios.RUNS if run in (scenario.results or {})}
    queued = (scenario.results or {}).get(scenarios.QUEUED, {})
    return render_template("market/whatif_scenario.html", scenario=scenario, form=form, results=results,
                           runs=scenarios.RUNS, owners=scenarios.owner_names([scenario]), queued=queued,
                           describe=scenarios.describe_item, threshold=scope.threshold), status


@bp.post("/whatif/<scenario_id>/run")
@role_required("commissioner", "admin")
def whatif_run(scenario_id: str):
    scenario = scenarios.get_scenario(scenario_id)
    form = RunForm()
    if not form.validate_on_submit():
        return _scenario_page(scenario, form, 422)
    run = form.run.data
    # Today's open requests are solved here, before the write (no lock held meanwhile); the replay is queued.
    result = scenarios.compute(scenario.items, run) if run in scenarios.RUN_NOW else None
    with unit_of_work(form) as work:
        if result is None:
            scenarios.queue_run(current_user, scenarios.get_scenario(scenario_id), run)
        else:
            scenarios.save_result(scenarios.get_scenario(scenario_id), run, result)
    if not work.ok:
        return _scenario_page(scenario, form, work.status)
    return redirect(url_for("market.whatif_scenario", scenario_id=scenario_id, _anchor=f"run-{run}"))


@bp.get("/whatif/<scenario_id>.csv")
@role_required("commissioner", "admin")
def whatif_scenario_csv(scenario_id: str):
    scenario = scenarios.get_scenario(scenario_id)
    run = _run_choice()
    if run not in (scenario.results or {}):
        raise FilterError("run", "This scenario has not been run on that yet: run it first, then download.")
    tables = scenarios.present(scenario.results[run], _scope())
    audit_now(current_user, "export_whatif_csv", "whatif_scenario", scenario.id, detail=f"run={run}")
    return _csv(scenarios.tables_csv(tables, scenario.name, run), f"whatif-{scenario.id}-{run}.csv")


def _chosen_for_comparison() -> tuple[list, str]:
    ids = list(dict.fromkeys(http_request.args.getlist("scenario")))
    run = _run_choice()
    if len(ids) < 2:
        raise FilterError("scenario", "Choose two or more saved scenarios to compare.")
    if len(ids) > scenarios.COMPARE_MAX:
        raise FilterError("scenario", f"Compare at most {scenarios.COMPARE_MAX} scenarios at once.")
    found = scenarios.find_scenarios(ids)
    if len(found) != len(ids):
        raise FilterError("scenario", "One of the scenarios chosen does not exist (it may have been removed).")
    return found, run


@bp.get("/whatif/compare")
@role_required("commissioner", "admin")
def whatif_compare():
    if not http_request.args.getlist("scenario"):
        return whatif_index()  # nothing chosen yet: the list to choose from
    chosen, run = _chosen_for_comparison()
    return render_template("market/whatif_compare.html", scenarios=chosen, run=run, runs=scenarios.RUNS,
                           table=scenarios.comparison(chosen, run, _scope()),
                           infos={s.id: scenarios.run_info(s, run) for s in chosen},
                           threshold=current_app.config["SUPPRESSION_THRESHOLD"])


@bp.get("/whatif/compare.csv")
@role_required("commissioner", "admin")
def whatif_compare_csv():
    chosen, run = _chosen_for_comparison()
    table = scenarios.comparison(chosen, run, _scope())
    audit_now(current_user, "export_whatif_csv", "whatif_comparison", None,
              detail=f"run={run} scenarios={','.join(s.id for s in chosen)}")
    return _csv(table_csv(table), f"whatif-comparison-{run}.csv")


@bp.get("/whatif/proposals")
@role_required("commissioner", "admin")
def whatif_proposals():
    found, short = scenarios.proposals(_scope())
    return render_template("market/whatif_proposals.html", table=scenarios.proposal_table(found), short=short,
                           found=found, limit=scenarios.PROPOSAL_LIMIT,
                           threshold=current_app.config["SUPPRESSION_THRESHOLD"])
