"""One function per commissioner page: filters in, a Page of protected tables out (definitions: docs/market.md).

Each page runs one grouped query per dataset it counts (reports.load_view) and a few percentile queries, then
reads its tables off the protected cubes. A narrowed view whose cohort is hidden raises CohortRefused.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np

from portal.market import dimensions as dim
from portal.market import forecast as _forecast
from portal.market import queries
from portal.market.cube import ALL, Axis, Cube, Facts
from portal.market.dimensions import REGION_TOTAL
from portal.market.filters import AGE_BANDS, PLACEMENT_TYPES, MarketFilters
from portal.market.gaps import HAS_OPTIONS, RULES, open_request_facts
from portal.market.reports import (
    AXIS_HEADERS,
    Context,
    View,
    axis_allowed,
    line_table,
    load_view,
    percentile_cells,
    ratio,
    share,
)
from portal.market.suppression import Protected, protect
from portal.market.tables import Cell, Chart, Headline, Page, Row, Table
from portal.matching import vocabulary as vocab

SETTING_TYPE_KEYS = tuple(PLACEMENT_TYPES)
QUARTILES = ("p25", "median", "p75")


def _types(f: MarketFilters) -> list[str | None]:
    """The placement types a by-type table lists (just the chosen one when narrowed), then None for all."""
    return [k for k in SETTING_TYPE_KEYS if not f.type or k == f.type] + [None]


def _type_label(kind: str | None) -> str:
    return PLACEMENT_TYPES[kind] if kind else "All types"


# ------------------------------------------------------------------------------------------------- demand

def demand(f: MarketFilters, ctx: Context) -> Page:
    view = load_view(queries.requests_dataset(), f, ctx, "placement requests", ("urgency",), needs=True)
    view.refuse_if_hidden()
    total = view.cell()
    tables = [
        line_table("by-month", "Requests by month", view, "month", column="Requests", with_share=False),
        line_table("by-urgency", "Requests by urgency (when the placement was needed)", view, "urgency",
                   row_header="Needed", column="Requests"),
    ]
    for axis, title in (("type", "Requests by the placement type sought"), ("age", "Requests by age band"),
                        ("la", "Requests by local authority")):
        if axis_allowed(f, axis):
            tables.append(line_table(f"by-{axis}", title, view, axis, column="Requests"))
    tables += _need_tables(view, total, "Requests")
    return Page(
        "demand", "Demand",
        "Placement requests submitted in the period (drafts are not counted): by month, urgency, the type of "
        "placement sought, age band, and the needs and risks recorded.",
        headlines=(Headline("requests", "Placement requests submitted", total),),
        tables=tuple(tables),
        notes=("Type sought: the first type marked preferred, in the order foster care, residential care, supported "
               "accommodation (s22C); if none is preferred, the first marked suitable.",
               "Age: on the date the placement was needed by."),
    )


def _need_cube(view: View) -> Protected:
    """Records with each need and risk. A child can have several, so the need axis has no total."""
    facts, f = view.facts, view.f
    axes = tuple(facts.axes[name] for name in view.names) + (dim.need_axis(),)
    layers, wider = [], []
    for code in queries.NEED_AND_RISK_CODES:
        layer = facts.cube(view.names, f"nf:{code}" if f.need else f"n:{code}",
                           wider=f"n:{code}" if f.need else None)
        layers.append(layer.values)
        if f.need:
            wider.append(layer.companions[0])
    companions = (np.stack(wider, axis=-1),) if f.need else ()
    return protect(Cube(axes, np.stack(layers, axis=-1), companions), view.ctx.threshold)


def _need_tables(view: View, total: Cell, column: str) -> list[Table]:
    prot = _need_cube(view)
    out = []
    for key, title, codes in (("needs", "Needs recorded", vocab.NEEDS), ("risks", "Risks recorded", vocab.RISKS)):
        rows = []
        for code in codes:
            here = {**view.coords, "need": code}
            cell = Cell(prot.value(here), "count", prot.is_hidden(here))
            rows.append(Row(dim.NEED_LABELS[code], (cell, share(cell, total)), key=code))
        out.append(Table(key, title, "Need" if key == "needs" else "Risk", (column, f"Share of all {column.lower()}"),
                         tuple(rows), Chart("bar", 0, title),
                         "A child can have several needs and risks, so these do not add up to a total."))
    return out


# ------------------------------------------------------------------------------------------------- supply

DAYS_VACANT_LABELS = {"0_7": "Up to 7 days", "8_14": "8 to 14 days", "15_28": "15 to 28 days",
                      "29_56": "29 to 56 days", "over_56": "Over 56 days"}


class _Provision:
    """Open vacancies and registered places by setting LA and type (provision: shown in full)."""

    def __init__(self, f: MarketFilters, ctx: Context):
        self.la_codes = set(ctx.la_codes)
        self.vacancies = queries.supply_vacancies(f, ctx.stale_days)
        self.registered = queries.supply_registered(f)

    def la_of(self, code: str) -> str:
        return code if code in self.la_codes else "outside"

    def sum(self, rows, column: int, la: str | None = None, kind: str | None = None) -> Cell:
        return Cell(sum(int(r[column] or 0) for r in rows
                        if (la is None or self.la_of(r[0]) == la) and (kind is None or r[1] == kind)))

    def vacancy(self, column: int, la: str | None = None, kind: str | None = None) -> Cell:
        """column: 2 open vacancies, 3 free places, 4 stale, 5 not available yet."""
        return self.sum(self.vacancies, column, la, kind)

    def registered_places(self, la: str | None = None, kind: str | None = None) -> Cell:
        return self.sum(self.registered, 3, la, kind)


def _plain_percentiles(result: dict | None, names: Sequence[str], kind: str, threshold: int) -> list[Cell]:
    """Percentiles of provision: nothing to suppress, but still only over more than `threshold` vacancies."""
    return percentile_cells(result, Cell(int(result["n"]) if result else 0), names, kind, threshold)


def supply(f: MarketFilters, ctx: Context) -> Page:
    here = _Provision(f, ctx)
    vacant = queries.supply_percentiles(f, "days_vacant", ("median", "p90"))
    rows = []
    for kind in _types(f):
        days = vacant.get((kind,) if kind else ())
        rows.append(Row(_type_label(kind),
                        (here.vacancy(2, f.la, kind), here.vacancy(3, f.la, kind), here.vacancy(4, f.la, kind),
                         here.vacancy(5, f.la, kind), *_plain_percentiles(days, ("median", "p90"), "days",
                                                                          ctx.threshold)),
                        total=kind is None, key=kind or ALL))
    tables = [Table(
        "vacancies-by-type", "Open vacancies by placement type", "Placement type",
        ("Open vacancies", "Free places", "Stale", "Not available yet", "Median days vacant",
         "90th percentile days vacant"),
        tuple(rows), Chart("bar", 1, "Free places by placement type"),
        f"Stale: not confirmed by the provider for over {ctx.stale_days} days. Days vacant: since the vacancy became "
        "available, for vacancies available today.")]
    if f.la is None:
        kinds = [k for k in _types(f) if k]
        rows = []
        for la in list(ctx.la_codes) + ["outside", None]:
            cells = tuple(here.vacancy(3, la, k) for k in kinds) + (here.vacancy(3, la),)
            words = "West Midlands region" if la is None else (
                "Outside the West Midlands" if la == "outside" else dim.label("la", la))
            rows.append(Row(words, cells, total=la is None, key=la or REGION_TOTAL))
        tables.append(Table("places-by-la", "Free places by local authority and placement type",
                            "Where the setting is", tuple(PLACEMENT_TYPES[k] for k in kinds) + ("All types",),
                            tuple(rows), Chart("bar", len(kinds), "Free places by local authority")))
    bands = queries.supply_days_vacant(f)
    rows = [Row(DAYS_VACANT_LABELS[key], (Cell(sum(int(r[2]) for r in bands if r[1] == key)),), key=key)
            for key, _ in queries.DAYS_VACANT_BANDS]
    rows.append(Row("Total", (Cell(sum(int(r[2]) for r in bands)),), total=True, key="total"))
    tables.append(Table("days-vacant", "How long open vacancies have been vacant", "Days vacant", ("Open vacancies",),
                        tuple(rows), Chart("bar", 0, "Open vacancies by days vacant")))
    tables.append(_demand_against_supply(f, ctx, here))
    filled = queries.supply_percentiles(f, "days_to_fill", ("median", "p90"))
    rows = []
    for kind in _types(f):
        result = filled.get((kind,) if kind else ())
        rows.append(Row(_type_label(kind), (Cell(int(result["n"]) if result else 0),
                                            *_plain_percentiles(result, ("median", "p90"), "days", ctx.threshold)),
                        total=kind is None, key=kind or ALL))
    tables.append(Table("days-to-fill", "Vacancies filled in the period: days from available to filled",
                        "Placement type", ("Vacancies filled", "Median days", "90th percentile days"), tuple(rows)))
    return Page(
        "supply", "Supply",
        "Open vacancies and free places now, how long they have been vacant, and registered places against demand. "
        "Counts of provision describe organisations, not children, so they are shown in full.",
        headlines=(Headline("open_vacancies", "Open vacancies", here.vacancy(2, f.la)),
                   Headline("free_places", "Free places", here.vacancy(3, f.la)),
                   Headline("registered_places", "Registered places", here.registered_places(f.la))),
        tables=tuple(tables),
        notes=("Active settings of approved providers. The type, age band and need filters keep the settings of that "
               "type, whose age range overlaps the band, and that say they meet that need or manage that risk. The "
               "period applies to vacancies filled and to requests.",),
    )


def _demand_against_supply(f: MarketFilters, ctx: Context, here: _Provision) -> Table:
    view = load_view(queries.requests_dataset(), f, ctx, "placement requests")
    requests = dict(view.line("type")[0])
    rows = []
    for kind in _types(f):
        asked = requests[kind] if kind else view.cell()
        free = here.vacancy(3, f.la, kind)
        rows.append(Row(_type_label(kind), (here.registered_places(f.la, kind), free, asked, ratio(asked, free)),
                        total=kind is None, key=kind or ALL))
    return Table("demand-and-supply", "Registered places and free places against requests in the period",
                 "Placement type", ("Registered places", "Free places now", "Requests in the period",
                                    "Requests per free place"), tuple(rows), Chart("bar", 2, "Requests by type"),
                 "Requests: submitted in the period, by the type sought (see Demand), protected as there.")


# --------------------------------------------------------------------------------------------------- gaps

GAP_AXES = ("la", "age", "type", "rule")


def _age_band(age: int) -> str:
    """The DfE band of an age (as sql.age_band does in the database)."""
    return "under_1" if age < 1 else "1_4" if age < 5 else "5_9" if age < 10 else "10_15" if age < 16 else "16_plus"


def _gap_axes(la_codes: Sequence[str]) -> list[Axis]:
    leaves = tuple(RULES) + (HAS_OPTIONS,)
    return [
        Axis("la", tuple(la_codes), ((REGION_TOTAL, tuple(range(len(la_codes)))),)),
        dim.axis_for("age", AGE_BANDS),
        dim.axis_for("type", dim.TYPE_LABELS),
        Axis("rule", leaves, (("gap", tuple(range(len(RULES)))), (ALL, tuple(range(len(leaves)))))),
    ]


def _gap_view(facts, f: MarketFilters, ctx: Context) -> View:
    counts: Counter = Counter()
    with_need: Counter = Counter()
    for fact in facts:
        key = (fact.la, _age_band(fact.age_years), fact.type_sought, fact.rule or HAS_OPTIONS)
        counts[key] += 1
        if f.need and f.need in fact.needs:
            with_need[key] += 1
    rows = [key + (counts[key], with_need[key]) for key in counts]
    coords = {"la": f.la or REGION_TOTAL, "age": f.age or ALL, "type": f.type or ALL, "rule": ALL}
    return View(Facts.from_rows(_gap_axes(ctx.la_codes), ["count", "need"], rows), f, ctx,
                "open placement requests", names=GAP_AXES, coords=coords)


def gaps(f: MarketFilters, ctx: Context) -> Page:
    facts = open_request_facts()
    view = _gap_view(facts, f, ctx)
    view.refuse_if_hidden()
    total = view.cell(rule=ALL)
    gap_total = view.cell(rule="gap")
    tables = [_rule_table(view, f)]
    for axis, title in (("age", "by age band"), ("la", "by local authority")):
        if axis_allowed(f, axis):
            tables.append(_gap_cross(view, axis, f"gap-by-{axis}", f"Open requests with no eligible vacancy, {title}"))
    tables.append(_gap_needs(facts, f, ctx))
    tables.append(_allocation_trend(f, ctx))
    return Page(
        "gaps", "Sufficiency gaps",
        "Open placement requests that no open vacancy in the region can meet, the rule that stops them, and the "
        "needs and risks of the children concerned: what the region needs to commission.",
        headlines=(Headline("open_requests", "Open placement requests now", total),
                   Headline("gaps", "With no eligible vacancy in the region", gap_total),
                   Headline("gap_share", "Share with no eligible vacancy", share(gap_total, total))),
        tables=tuple(tables),
        notes=("Now: requests still looking for a placement today, ranked by the matching core against every open "
               "vacancy in the region (family and friends carers are not counted: this is about the market).",
               "Blocking rule: among the vacancies that fail just one rule for the child, the rule that fails most "
               "often; if each fails two or more, the rule that fails most often overall.",
               "The period applies only to the trend of regional allocations."),
        applies={"period": False},
    )


def _rule_table(view: View, f: MarketFilters) -> Table:
    kinds = [k for k in _types(f) if k]
    rows = []
    for rule in list(RULES) + ["gap"]:
        cells = tuple(view.cell(rule=rule, type=k) for k in kinds)
        if not f.type:
            cells += (view.cell(rule=rule, type=ALL),)
        if rule != "gap" and all(c.value == 0 for c in cells):
            continue  # a rule blocking no one: its zeros reveal nothing, and the table stays short
        rows.append(Row("All with no eligible vacancy" if rule == "gap" else RULES[rule], cells,
                        total=rule == "gap", key=rule))
    columns = tuple(PLACEMENT_TYPES[k] for k in kinds) + (() if f.type else ("All types",))
    return Table("gap-by-rule", "Open requests with no eligible vacancy, by blocking rule and placement type sought",
                 "Blocking rule", columns, tuple(rows), Chart("bar", len(columns) - 1, "Gaps by blocking rule"))


def _gap_cross(view: View, axis: str, key: str, title: str) -> Table:
    cells, total = view.line(axis, at={"rule": "gap"})
    opens = dict(view.line(axis)[0])
    everyone = view.cell(rule=ALL)
    rows = [Row(dim.label(axis, k), (opens[k], c, share(c, opens[k])), key=k) for k, c in cells]
    rows.append(Row("Total", (everyone, total, share(total, everyone)), total=True, key="total"))
    return Table(key, title, AXIS_HEADERS[axis], ("Open requests", "No eligible vacancy", "Share"), tuple(rows),
                 Chart("bar", 1, title))


def _gap_needs(facts, f: MarketFilters, ctx: Context) -> Table:
    """Open requests and gaps with each need or risk (overlapping categories: no total)."""
    counts: Counter = Counter()
    with_need: Counter = Counter()
    for fact in facts:
        for code in fact.needs & dim.NEED_LABELS.keys():
            key = (fact.la, _age_band(fact.age_years), fact.type_sought, code, "gap" if fact.rule else HAS_OPTIONS)
            counts[key] += 1
            if f.need and f.need in fact.needs:
                with_need[key] += 1
    axes = _gap_axes(ctx.la_codes)[:3] + [dim.need_axis(), Axis.with_total("gap", ("gap", HAS_OPTIONS))]
    need_facts = Facts.from_rows(axes, ["count", "need"], [key + (counts[key], with_need[key]) for key in counts])
    prot = protect(need_facts.cube(("la", "age", "type", "need", "gap"), "need" if f.need else "count",
                                   wider="count" if f.need else None), ctx.threshold)
    coords = {"la": f.la or REGION_TOTAL, "age": f.age or ALL, "type": f.type or ALL}
    rows = []
    for code, words in dim.NEED_LABELS.items():
        cells = []
        for gap in (ALL, "gap"):
            here = {**coords, "need": code, "gap": gap}
            cells.append(Cell(prot.value(here), "count", prot.is_hidden(here)))
        rows.append(Row(words, (cells[0], cells[1], share(cells[1], cells[0])), key=code))
    return Table("gap-by-need", "Open requests and gaps by need and risk", "Need or risk",
                 ("Open requests with it", "No eligible vacancy", "Share"), tuple(rows),
                 Chart("bar", 1, "Gaps by need"),
                 "A child can have several needs and risks, so these do not add up to a total.")


ALLOCATION_COLUMNS = ("Open requests", "Placed by the allocation", "Nothing eligible", "Eligible places all taken")


def _allocation_trend(f: MarketFilters, ctx: Context) -> Table:
    """The trend: the last saved regional allocation of each month in the period (the solver's unplaced list)."""
    title = "Regional allocation: children it could not place, by month"
    runs = queries.allocation_runs(f.period.start, f.period.end)
    if not runs:
        return Table("allocation-trend", title, "Month", ALLOCATION_COLUMNS, (), None,
                     "No regional allocation was saved in this period.")
    ids = set()
    for run in runs:
        ids.update(a["request"] for a in run.result.get("assignments", []))
        ids.update(u["request"] for u in run.result.get("unplaced", []))
    attributes = queries.request_attributes(sorted(ids))
    counts: Counter = Counter()
    months = []
    for run in runs:
        month = f"{run.created_at:%Y-%m}"
        months.append(month)
        outcome = [(a["request"], "placed") for a in run.result.get("assignments", [])]
        outcome += [(u["request"], _unplaced_kind(u["reason"])) for u in run.result.get("unplaced", [])]
        for rid, kind in outcome:
            if rid in attributes:
                la, age, sought = attributes[rid]
                counts[(month, la, _age_band(age), sought, kind)] += 1
    axes = [Axis.with_total("month", tuple(months)),
            Axis("la", tuple(ctx.la_codes), ((REGION_TOTAL, tuple(range(len(ctx.la_codes)))),)),
            dim.axis_for("age", AGE_BANDS), dim.axis_for("type", dim.TYPE_LABELS),
            Axis("outcome", ("placed", "nothing_eligible", "taken"), (("unplaced", (1, 2)), (ALL, (0, 1, 2))))]
    prot = protect(Facts.from_rows(axes, ["count"], [k + (v,) for k, v in counts.items()]).cube(
        ("month", "la", "age", "type", "outcome")), ctx.threshold)
    rows = []
    for month in months:
        cells = []
        for outcome in (ALL, "placed", "nothing_eligible", "taken"):
            here = {"month": month, "la": f.la or REGION_TOTAL, "age": f.age or ALL, "type": f.type or ALL,
                    "outcome": outcome}
            cells.append(Cell(prot.value(here), "count", prot.is_hidden(here)))
        rows.append(Row(dim.label("month", month), tuple(cells), key=month))
    return Table("allocation-trend", title, "Month", ALLOCATION_COLUMNS, tuple(rows),
                 Chart("column", 2, "Children with nothing eligible, by month"),
                 "The last allocation saved in each month; the children's LA, age and type sought as now. The need "
                 "or risk filter does not apply to this table.")


OUTCOMES = (("placed", "Placed by the allocation"), ("nothing_eligible", "Nothing eligible"),
            ("taken", "Eligible places all taken"))


def allocation(f: MarketFilters, ctx: Context) -> Page:
    """The region's daily allocation in view (issue 13 §3): the latest run in the period, placed and unplaced by
    LA, type sought, age and need, and the trend month by month."""
    runs = queries.allocation_runs(f.period.start, f.period.end)
    trend = _allocation_trend(f, ctx)
    intro = ("The region-wide allocation the portal runs every day: every open request matched to at most one open "
             "placement at once, the most urgent children first, family and friends first, then close to home. "
             "Officers see its recommendation on each of their requests; here, only totals.")
    latest = runs[-1] if runs else None
    result = latest.result if latest is not None else {}
    outcome = [(a["request"], "placed") for a in result.get("assignments", [])]
    outcome += [(u["request"], _unplaced_kind(u["reason"])) for u in result.get("unplaced", [])]
    attributes = queries.request_attributes(sorted(rid for rid, _ in outcome))
    needs = queries.request_needs_and_risks(sorted(rid for rid, _ in outcome))
    counts: Counter = Counter()
    need_counts: Counter = Counter()
    for rid, kind in outcome:
        if rid in attributes:
            la, age, sought = attributes[rid]
            counts[(la, _age_band(age), sought, kind)] += 1
            for code in needs.get(rid, frozenset()) & dim.NEED_LABELS.keys():
                need_counts[(la, _age_band(age), sought, code, kind)] += 1
    outcome_axis = Axis("outcome", tuple(k for k, _ in OUTCOMES), (("unplaced", (1, 2)), (ALL, (0, 1, 2))))
    axes = [Axis("la", tuple(ctx.la_codes), ((REGION_TOTAL, tuple(range(len(ctx.la_codes)))),)),
            dim.axis_for("age", AGE_BANDS), dim.axis_for("type", dim.TYPE_LABELS), outcome_axis]
    prot = protect(Facts.from_rows(axes, ["count"], [k + (v,) for k, v in counts.items()]).cube(
        ("la", "age", "type", "outcome")), ctx.threshold)
    here = {"la": f.la or REGION_TOTAL, "age": f.age or ALL, "type": f.type or ALL}

    def cells(at: dict) -> tuple[Cell, ...]:
        found = [Cell(prot.value({**at, "outcome": o}), "count", prot.is_hidden({**at, "outcome": o}))
                 for o in (ALL, "placed", "nothing_eligible", "taken")]
        return (*found, share(found[1], found[0]))

    columns = ("In the run",) + tuple(label for _, label in OUTCOMES) + ("Share placed",)
    tables = []
    for axis, keys, title in (("type", tuple(dim.TYPE_LABELS), "by placement type sought"),
                              ("age", tuple(AGE_BANDS), "by age band"),
                              ("la", ctx.la_codes, "by local authority")):
        if not axis_allowed(f, axis):
            continue
        rows = [Row(dim.label(axis, k), cells({**here, axis: k}), key=k) for k in keys]
        rows.append(Row("Total", cells(here), total=True, key="total"))
        tables.append(Table(f"allocation-by-{axis}", f"The latest allocation, {title}", AXIS_HEADERS[axis], columns,
                            tuple(rows), Chart("bar", 1, f"Placed by the latest allocation, {title}")))
    need_axes = axes[:3] + [dim.need_axis(), outcome_axis]
    need_prot = protect(Facts.from_rows(need_axes, ["count"], [k + (v,) for k, v in need_counts.items()]).cube(
        ("la", "age", "type", "need", "outcome")), ctx.threshold)
    need_rows = []
    for code, words in dim.NEED_LABELS.items():
        found = [Cell(need_prot.value({**here, "need": code, "outcome": o}), "count",
                      need_prot.is_hidden({**here, "need": code, "outcome": o}))
                 for o in (ALL, "placed", "unplaced")]
        need_rows.append(Row(words, (*found, share(found[1], found[0])), key=code))
    tables.append(Table("allocation-by-need", "The latest allocation, by need and risk", "Need or risk",
                        ("In the run", "Placed by the allocation", "Not placed", "Share placed"), tuple(need_rows),
                        Chart("bar", 1, "Placed by the latest allocation, by need"),
                        "A child can have several needs and risks, so these do not add up to a total."))
    tables.append(trend)
    total = cells(here)
    return Page(
        "allocation", "Regional allocation", intro,
        headlines=(Headline("allocation_requests", "Open requests in the latest run", total[0]),
                   Headline("allocation_placed", "Placed by it", total[1]),
                   Headline("allocation_share", "Share placed", total[4])),
        tables=tuple(tables),
        notes=((f"The latest run in the period: {latest.created_at:%d %B %Y %H:%M} UTC, over "
                f"{latest.options_count:,} open options." if latest is not None
                else "No regional allocation was saved in this period.")
               + " The children's LA, age, type sought, needs and risks as they are now recorded.",
               "Nothing eligible: no open option meets the child's needs at all. Eligible places all taken: every "
               "option the child could have went to children needed sooner or with a stronger claim.",
               "The need or risk filter does not apply to this page: the need table shows every need."),
        applies={"need": False},
    )


def _unplaced_kind(reason: str) -> str:
    """The solver's reasons (portal.matching.solver): nothing eligible at all, or every eligible place taken."""
    if reason.startswith(("No eligible option", "No setting can take", "No options")):
        return "nothing_eligible"
    return "taken"


# ------------------------------------------------------------------------------------------------- prices

def prices(f: MarketFilters, ctx: Context) -> Page:
    ds = queries.placements_dataset()
    view = load_view(ds, f, ctx, "placements", ("provider_kind", "budget", "high_cost"))
    view.refuse_if_hidden()
    by_type = queries.view_percentiles(ds, f, "fee", ("type",), QUARTILES, overall=True)
    type_cells = dict(view.line("type")[0])
    fee_columns = ("Placements", "Lower quartile", "Median", "Upper quartile")
    rows = []
    for kind in _types(f):
        count = type_cells[kind] if kind else view.cell()
        rows.append(Row(_type_label(kind), (count, *percentile_cells(by_type.get((kind,) if kind else ()), count,
                                                                     QUARTILES, "gbp", ctx.threshold)),
                        total=kind is None, key=kind or ALL))
    tables = [Table("fee-by-type", "Weekly fee by placement type", "Placement type", fee_columns, tuple(rows),
                    Chart("range", 2, "Weekly fee by placement type: quartiles and median"))]
    by_kind = queries.view_percentiles(ds, f, "fee", ("provider_kind",), QUARTILES)
    rows = [Row(dim.label("provider_kind", k), (c, *percentile_cells(by_kind.get((k,)), c, QUARTILES, "gbp",
                                                                      ctx.threshold)), key=k)
            for k, c in view.line("provider_kind")[0]]
    tables.append(Table("fee-by-provider", "Weekly fee by kind of provider", "Provider", fee_columns, tuple(rows),
                        Chart("range", 2, "Weekly fee by kind of provider: quartiles and median")))
    by_month = queries.view_percentiles(ds, f, "fee", ("month",), ("median",))
    rows = [Row(dim.label("month", k), (c, *percentile_cells(by_month.get((k,)), c, ("median",), "gbp",
                                                              ctx.threshold)), key=k)
            for k, c in view.line("month")[0]]
    tables.append(Table("fee-trend", "Median weekly fee of placements starting each month", "Month",
                        ("Placements", "Median weekly fee"), tuple(rows), Chart("column", 1, "Median weekly fee")))
    rows = []
    for kind in _types(f):
        at = {"type": kind or ALL}
        with_budget, over = view.cell({"budget": "with_budget"}, **at), view.cell({"budget": "over"}, **at)
        rows.append(Row(_type_label(kind), (with_budget, over, share(over, with_budget)), total=kind is None,
                        key=kind or ALL))
    tables.append(Table("over-budget", "Weekly fee over the request's budget", "Placement type",
                        ("Placements with a budget", "Fee over the budget", "Share"), tuple(rows),
                        Chart("bar", 2, "Share of placements over budget")))
    rows = []
    for kind in _types(f):
        at = {"type": kind or ALL}
        count, high = view.cell(**at), view.cell({"high_cost": "high"}, **at)
        rows.append(Row(_type_label(kind), (count, high, share(high, count)), total=kind is None, key=kind or ALL))
    tables.append(Table("high-cost", "High-cost placements: £10,000 a week or more", "Placement type",
                        ("Placements", "£10,000 a week or more", "Share"), tuple(rows),
                        Chart("bar", 1, "High-cost placements")))
    fees = queries.supply_percentiles(f, "fee", QUARTILES)
    rows = []
    for kind in _types(f):
        result = fees.get((kind,) if kind else ())
        rows.append(Row(_type_label(kind), (Cell(int(result["n"]) if result else 0),
                                            *_plain_percentiles(result, QUARTILES, "gbp", ctx.threshold)),
                        total=kind is None, key=kind or ALL))
    tables.append(Table("vacancy-fees", "Advertised weekly fee of open vacancies now", "Placement type",
                        ("Open vacancies", "Lower quartile", "Median", "Upper quartile"), tuple(rows)))
    total = view.cell()
    median = percentile_cells(by_type.get(()), total, ("median",), "gbp", ctx.threshold)[0]
    return Page(
        "prices", "Prices",
        "The weekly fee of placements that started in the period, by placement type and kind of provider, its trend, "
        "fees over the request's budget, and high-cost placements.",
        headlines=(Headline("placements", "Placements started", total),
                   Headline("median_fee", "Median weekly fee", median),
                   Headline("high_cost", "Placements at £10,000 a week or more", view.cell({"high_cost": "high"}))),
        tables=tuple(tables),
        notes=("Quartiles and medians as PostgreSQL's percentile_cont (linear interpolation), over the placements "
               "with a weekly cost, only where more than the suppression threshold are counted.",),
    )


# ----------------------------------------------------------------------------------------------- distance

def distance(f: MarketFilters, ctx: Context) -> Page:
    ds = queries.placements_dataset()
    view = load_view(ds, f, ctx, "placements", ("inside", "distance"))
    view.refuse_if_hidden()
    total = view.cell()
    by_type = queries.view_percentiles(ds, f, "miles", ("type",), ("median", "p90"), overall=True)
    median, p90 = percentile_cells(by_type.get(()), total, ("median", "p90"), "miles", ctx.threshold)
    rows = []
    for key in ("inside", "outside", ALL):
        cells = tuple(view.cell({"inside": key, "distance": d}) for d in ("up_to_20", "over_20", ALL))
        rows.append(Row("Total" if key == ALL else dim.label("inside", key), cells, total=key == ALL, key=key))
    tables = [Table("dfe-breakdown", "Placements inside or outside the child's local authority, up to or over 20 "
                    "miles from home", "Where", ("Up to 20 miles", "Over 20 miles", "Total"), tuple(rows), None,
                    "The DfE's breakdown (children looked after in England; SSDA903 PL_DISTANCE, the straight line "
                    "between the home and placement postcodes).")]
    tables.append(_locality(view, "type", by_type, ctx, "by-type", "Distance and locality by placement type"))
    if axis_allowed(f, "la"):
        by_la = queries.view_percentiles(ds, f, "miles", ("la",), ("median",))
        tables.append(_locality(view, "la", {**by_la, (): by_type.get(())}, ctx, "by-la",
                                "Distance and locality by local authority"))
    rows = []
    for key, count in view.line("month")[0]:
        over = view.cell({"distance": "over_20"}, month=key) if count.value else Cell(0)
        rows.append(Row(dim.label("month", key), (count, over, share(over, count)), key=key))
    tables.append(Table("far-trend", "Placements over 20 miles from home, by month started", "Month",
                        ("Placements", "Over 20 miles", "Share"), tuple(rows),
                        Chart("column", 2, "Share over 20 miles by month")))
    return Page(
        "distance", "Distance and locality",
        "How near home children are placed: inside or outside their own local authority, and how far from home.",
        headlines=(Headline("placements", "Placements started", total),
                   Headline("inside_share", "Inside the child's own local authority",
                            share(view.cell({"inside": "inside"}), total)),
                   Headline("far_share", "Over 20 miles from home", share(view.cell({"distance": "over_20"}), total)),
                   Headline("median_miles", "Median distance from home (miles)", median),
                   Headline("p90_miles", "90th percentile distance from home (miles)", p90)),
        tables=tuple(tables),
    )


def _locality(view: View, axis: str, medians: dict, ctx: Context, key: str, title: str) -> Table:
    cells, total = view.line(axis)
    whole = view.total_key(axis)
    rows = []
    for k, count in cells + [(whole, total)]:
        if axis == "type" and view.f.type and k not in (view.f.type, whole):
            continue
        inside = view.cell({"inside": "inside"}, **{axis: k})
        far = view.cell({"distance": "over_20"}, **{axis: k})
        result = medians.get(()) if k == whole else medians.get((k,))
        rows.append(Row("Total" if k == whole else dim.label(axis, k),
                        (count, share(inside, count), share(far, count),
                         *percentile_cells(result, count, ("median",), "miles", ctx.threshold)),
                        total=k == whole, key=k))
    return Table(key, title, AXIS_HEADERS[axis], ("Placements", "Inside own LA", "Over 20 miles", "Median miles"),
                 tuple(rows), Chart("bar", 2, "Share over 20 miles from home"))


# ----------------------------------------------------------------------------------------------- outcomes

def outcomes(f: MarketFilters, ctx: Context) -> Page:
    ds = queries.placements_dataset()
    view = load_view(ds, f, ctx, "placements", ("family", "siblings", "stability"))
    view.refuse_if_hidden()
    total = view.cell()
    in_group, together = view.cell({"siblings": "in_group"}), view.cell({"siblings": "together"})
    days = queries.view_percentiles(ds, f, "days_to_placement", ("type",), ("median", "p90"), overall=True)
    days_median, days_p90 = percentile_cells(days.get(()), total, ("median", "p90"), "days", ctx.threshold)
    endings = load_view(queries.endings_dataset(), f, ctx, "placement endings", ("end_reason",), by_period=True)
    requests = load_view(queries.requests_dataset(), f, ctx, "placement requests", ("reentry",))
    reentries = requests.cell({"reentry": "reentry"})
    tables = [
        line_table("family", "Placements with family and friends (connected persons)", view, "family",
                   row_header="Placement", column="Placements", chart=None),
        line_table("siblings", "Children in a sibling group: placed together or apart", view, "siblings",
                   group="in_group", row_header="Placement", column="Placements", chart=None,
                   total_label="In a sibling group"),
        _time_to_placement(view, days, ctx),
        line_table("stability", "Placements ending within 12 months of starting", view, "stability",
                   row_header="Placement", column="Placements", chart=None,
                   note="Placements that started in the period; the most recent have not had 12 months yet, so these "
                        "shares can only grow."),
        line_table("endings", "Placements that ended in the period, by reason", endings, "end_reason",
                   row_header="Reason", column="Placements ended"),
        Table("reentry", "Children coming back into care", "Requests", ("Requests", "Share"),
              (Row("The child had left care before (re-entry)", (reentries, share(reentries, requests.cell())),
                   key="reentry"),
               Row("All requests in the period", (requests.cell(), share(requests.cell(), requests.cell())),
                   total=True, key="total")),
              None, REENTRY_NOTE),
    ]
    for axis, title in (("la", "by local authority"), ("age", "by age band")):
        if axis_allowed(f, axis):
            tables.append(_reentry_by(requests, axis, f"reentry-by-{axis}", f"Re-entries into care, {title}"))
    return Page(
        "outcomes", "Outcomes",
        "What happened for the children placed: family and friends, brothers and sisters together, how long it took, "
        "how long placements lasted, returns home and children coming back into care. Referrals and providers' "
        "answers are on Referrals and responses.",
        headlines=(
            Headline("placements", "Placements started", total),
            Headline("family_share", "With family and friends", share(view.cell({"family": "family_friends"}), total)),
            Headline("siblings_together_share", "Children in a sibling group placed together",
                     share(together, in_group)),
            Headline("days_median", "Median days from request to placement", days_median),
            Headline("days_p90", "90th percentile days from request to placement", days_p90),
            Headline("ended_share", "Placements ending within 12 months",
                     share(view.cell({"stability": "within_12_months"}), total)),
            Headline("returned_home", "Returned home (placements that ended in the period)",
                     endings.cell({"end_reason": "returned_home"})),
            Headline("reentries", "Re-entries into care (requests in the period)", reentries),
        ),
        tables=tuple(tables),
    )


REENTRY_NOTE = ("Re-entry: an officer confirmed that an earlier placement in the local authority was this child's "
                "(found by the LA's child reference, or a similar name and the same date of birth), and it ended, "
                "for a reason other than a change of placement, before this request was submitted.")


def _reentry_by(requests: View, axis: str, key: str, title: str) -> Table:
    """Requests in the period, the re-entries among them and their share, for each LA or age band (one line of the
    requests cube, so its suppression holds here too)."""
    cells, total = requests.line(axis)
    whole = requests.total_key(axis)
    rows = []
    for k, count in cells + [(whole, total)]:
        reentries = requests.cell({"reentry": "reentry"}, **{axis: k})
        rows.append(Row("Total" if k == whole else dim.label(axis, k), (count, reentries, share(reentries, count)),
                        total=k == whole, key=k))
    return Table(key, title, AXIS_HEADERS[axis], ("Requests", "Re-entries", "Share"), tuple(rows),
                 Chart("bar", 2, "Share of requests that are re-entries"), REENTRY_NOTE)


def _time_to_placement(view: View, days: dict, ctx: Context) -> Table:
    names = ("median", "p90")
    cells = dict(view.line("type")[0])
    rows = []
    for kind in _types(view.f):
        count = cells[kind] if kind else view.cell()
        rows.append(Row(_type_label(kind), (count, *percentile_cells(days.get((kind,) if kind else ()), count, names,
                                                                     "days", ctx.threshold)),
                        total=kind is None, key=kind or ALL))
    return Table("time-to-placement", "Days from request to placement", "Placement type",
                 ("Placements", "Median days", "90th percentile days"), tuple(rows),
                 Chart("bar", 1, "Median days from request to placement"),
                 "From the day the request was submitted to the day the placement started.")


def responses(f: MarketFilters, ctx: Context) -> Page:
    ds = queries.referrals_dataset()
    refs = load_view(ds, f, ctx, "referrals", ("response", "provider"), sums=("offers",), by_period=True)
    refs.refuse_if_hidden()
    hours = queries.view_percentiles(queries.answers_dataset(), f, "response_hours", ("provider",), ("median",),
                                     overall=True)
    cells, total = refs.line("provider")
    rows = []
    for key, count in cells + [(ALL, total)]:
        answered = refs.cell({"response": "answered", "provider": key})
        offered = refs.cell({"response": "offered", "provider": key})
        rows.append(Row("All providers" if key == ALL else dim.label("provider", key),
                        (count, share(answered, count), share(offered, count),
                         *percentile_cells(hours.get(() if key == ALL else (key,)), answered, ("median",), "hours",
                                           ctx.threshold)),
                        total=key == ALL, key=key))
    offers = _sum_cell(refs, "offers", ctx.threshold)
    return Page(
        "responses", "Referrals and responses",
        "Referrals sent to providers in the period, how many offers they brought, and how often and how fast "
        "providers answered (part of Outcomes).",
        headlines=(Headline("referrals", "Referrals sent", refs.cell()),
                   Headline("offers_per_referral", "Offers per referral", ratio(offers, refs.cell())),
                   Headline("answered_share", "Answered by the provider", share(refs.cell({"response": "answered"}),
                                                                               refs.cell())),
                   Headline("response_hours", "Median hours to answer",
                            percentile_cells(hours.get(()), refs.cell({"response": "answered"}), ("median",), "hours",
                                             ctx.threshold)[0])),
        tables=(
            Table("responses", "Referrals and how providers answered, by kind of provider", "Provider",
                  ("Referrals", "Answered", "Offer made", "Median hours to answer"), tuple(rows),
                  Chart("bar", 1, "Share of referrals answered"),
                  "Answered: an offer or a decline. Hours to answer: from sending to the first offer, or to the "
                  "decline."),
            line_table("by-response", "Referrals by answer", refs, "response", row_header="Answer",
                       column="Referrals"),
        ),
    )


def _sum_cell(view: View, value: str, threshold: int) -> Cell:
    """A summed measure for the view (offers): hidden when 1..threshold, or when the view's count is hidden."""
    cube = view.facts.cube(view.names, f"sumf:{value}" if view.f.need else f"sum:{value}")
    amount = cube.value(view.coords)
    return Cell(amount, "count", 0 < amount <= threshold or view.cell().hidden)


# ---------------------------------------------------------------------------------- declines and placement flags

DECLINE_REASON_KEYS = tuple(vocab.DECLINE_REASONS)
DECLINE_NOTE = ("Each decline has one reason from the fixed list. Share: of the declines on that line. A decline of "
                "a sibling group's referral counts once.")


def declines(f: MarketFilters, ctx: Context) -> Page:
    """Why providers decline referrals, by kind of provider, placement type sought and need; and placements with a
    deprivation of liberty order or in a setting not registered with Ofsted (issue 13 §4)."""
    view = load_view(queries.declines_dataset(), f, ctx, "declines", ("decline_reason", "provider"), needs=True,
                     by_period=True)
    view.refuse_if_hidden()
    placements = load_view(queries.placements_dataset(), f, ctx, "placements", ("dol", "unregistered"))
    total = view.cell()
    tables = [
        line_table("by-reason", "Declines by reason", view, "decline_reason", row_header="Reason", column="Declines"),
        _decline_cross(view, "by-provider-kind", "Declines by reason and kind of provider", "Provider",
                       [(dim.label("provider", k), {"provider": k}, k) for k in dim.EXTRAS["provider"]]
                       + [("All providers", {"provider": ALL}, ALL)]),
    ]
    if axis_allowed(f, "type"):
        tables.append(_decline_cross(
            view, "by-type", "Declines by reason and the placement type sought", "Placement type sought",
            [(dim.label("type", k), {"type": k}, k) for k in dim.TYPE_LABELS] + [("All types", {"type": ALL}, ALL)]))
    tables.append(_decline_needs(view))
    for axis, title in (("la", "by local authority"), ("type", "by placement type")):
        if axis_allowed(f, axis):
            tables.append(_flags_by(placements, axis, f"flags-by-{axis}",
                                    f"Placements with a deprivation of liberty order or in an unregistered setting, "
                                    f"{title}"))
    return Page(
        "declines", "Declines and placement flags",
        "Why providers said they could not offer a place, by kind of provider, the type of placement sought and the "
        "child's needs; and placements started in the period with a deprivation of liberty order or in a setting "
        "not registered with Ofsted.",
        headlines=(
            Headline("declines", "Referrals declined", total),
            Headline("no_vacancy_share", "Declined for no vacancy at that date",
                     share(view.cell({"decline_reason": "no_vacancy"}), total)),
            Headline("dol", "Placements with a deprivation of liberty order", placements.cell({"dol": "dol"})),
            Headline("unregistered", "Placements in a setting not registered with Ofsted",
                     placements.cell({"unregistered": "unregistered"})),
        ),
        tables=tuple(tables),
        notes=(DECLINE_NOTE, FLAGS_NOTE),
    )


FLAGS_NOTE = ("Deprivation of liberty: the placing officer recorded that a court order authorises the restrictions in "
              "the placement. Unregistered: a children's home or supported accommodation with no Ofsted registration "
              "in the portal when the placement was recorded (fostering households are approved by their agency or "
              "local authority, which is registered). Both can be corrected by the officer on the placement record.")


def _decline_columns() -> tuple[str, ...]:
    columns = ["Declines"]
    for key in DECLINE_REASON_KEYS:
        words = vocab.DECLINE_REASONS[key]
        columns += [words, f"{words}: share"]
    return tuple(columns)


def _decline_row(label: str, cell_at, key: str, total: bool = False) -> Row:
    """One line of a decline table: its declines, then each reason's count and share of them. `cell_at(reason)`
    gives the protected cell for a reason (ALL: every reason)."""
    whole = cell_at(ALL)
    cells = [whole]
    for reason in DECLINE_REASON_KEYS:
        part = cell_at(reason)
        cells += [part, share(part, whole)]
    return Row(label, tuple(cells), total=total, key=key)


def _decline_cross(view: View, key: str, title: str, header: str,
                   lines: Sequence[tuple[str, dict[str, str], str]]) -> Table:
    """Declines by reason for each category of one axis (provider kind, or type): one protected cube, so the
    counts here agree with the one-way table and with every filter."""
    rows = []
    for words, at, row_key in lines:
        extras = {k: v for k, v in at.items() if k in view.extras}
        base = {k: v for k, v in at.items() if k not in view.extras}
        rows.append(_decline_row(words, lambda reason: view.cell({**extras, "decline_reason": reason}, **base),
                                 row_key, total=row_key == ALL))
    return Table(key, title, header, _decline_columns(), tuple(rows), None, DECLINE_NOTE)


def _decline_needs(view: View) -> Table:
    """Declines of children with each need or risk, by reason. A child can have several, so there is no total row;
    the need cube is protected on its own, as on the other pages' need tables."""
    facts, f = view.facts, view.f
    names = view.names + ("decline_reason",)
    axes = tuple(facts.axes[name] for name in names) + (dim.need_axis(),)
    layers, wider = [], []
    for code in queries.NEED_AND_RISK_CODES:
        layer = facts.cube(names, f"nf:{code}" if f.need else f"n:{code}", wider=f"n:{code}" if f.need else None)
        layers.append(layer.values)
        if f.need:
            wider.append(layer.companions[0])
    companions = (np.stack(wider, axis=-1),) if f.need else ()
    prot = protect(Cube(axes, np.stack(layers, axis=-1), companions), view.ctx.threshold)

    def cell_at(code: str):
        def at(reason: str) -> Cell:
            here = {**view.coords, "decline_reason": reason, "need": code}
            return Cell(prot.value(here), "count", prot.is_hidden(here))
        return at

    rows = [_decline_row(dim.NEED_LABELS[code], cell_at(code), code) for code in queries.NEED_AND_RISK_CODES]
    return Table("by-need", "Declines by reason and the child's needs and risks", "Need or risk", _decline_columns(),
                 tuple(rows), None, "A child can have several needs and risks, so these lines do not add up to a "
                                    "total. " + DECLINE_NOTE)


def _flags_by(placements: View, axis: str, key: str, title: str) -> Table:
    """Placements started in the period, and those with each flag with their share, for each LA or type (lines of
    the placements cube, so its suppression holds here as on every placements page)."""
    cells, total = placements.line(axis)
    whole = placements.total_key(axis)
    rows = []
    for k, count in cells + [(whole, total)]:
        dol = placements.cell({"dol": "dol"}, **{axis: k})
        unregistered = placements.cell({"unregistered": "unregistered"}, **{axis: k})
        rows.append(Row("Total" if k == whole else dim.label(axis, k),
                        (count, dol, share(dol, count), unregistered, share(unregistered, count)),
                        total=k == whole, key=k))
    return Table(key, title, AXIS_HEADERS[axis],
                 ("Placements", "Deprivation of liberty order", "Share", "Unregistered setting", "Share"), tuple(rows),
                 Chart("bar", 1, "Placements with a deprivation of liberty order"), FLAGS_NOTE)


# ------------------------------------------------------------------------------------------- market shape

def shape(f: MarketFilters, ctx: Context) -> Page:
    view = load_view(queries.placements_dataset(), f, ctx, "placements",
                     ("provider_code", "contract", "ofsted", "provider_kind"))
    view.refuse_if_hidden()
    tables = [
        line_table("by-provider-code", "Placements by SSDA903 provider code", view, "provider_code",
                   row_header="Provider", column="Placements"),
        line_table("by-provider-kind", "Placements by kind of provider", view, "provider_kind", row_header="Provider",
                   column="Placements"),
        line_table("by-contract", "Framework against spot purchase", view, "contract", row_header="Contract",
                   column="Placements"),
        line_table("by-ofsted", "Ofsted rating of the setting placed in", view, "ofsted", row_header="Rating",
                   column="Placements", note="The rating the setting holds now."),
        _supply_ofsted(f),
    ]
    total = view.cell()
    return Page(
        "shape", "Market shape",
        "Who provides the placements: own LA, other LAs, private and voluntary providers; framework against spot "
        "purchase; and the Ofsted ratings of the settings children live in.",
        headlines=(Headline("placements", "Placements started", total),
                   Headline("private_share", "With private providers (PR4)",
                            share(view.cell({"provider_code": "PR4"}), total)),
                   Headline("spot_share", "Spot purchased", share(view.cell({"contract": "spot"}), total))),
        tables=tuple(tables),
    )


def _supply_ofsted(f: MarketFilters) -> Table:
    ratings = queries.supply_ofsted(f)
    kinds = [k for k in _types(f) if k]
    rows = []
    for rating in list(vocab.OFSTED_RATINGS) + ["not_rated", None]:
        cells = tuple(Cell(sum(int(r[2]) for r in ratings if r[0] == k and (rating is None or r[1] == rating)))
                      for k in kinds)
        cells += (Cell(sum(int(c.value) for c in cells)),)
        rows.append(Row("All settings" if rating is None else dim.label("ofsted", rating), cells,
                        total=rating is None, key=rating or ALL))
    return Table("supply-ofsted", "Ofsted rating mix of the region's settings now", "Rating",
                 tuple(PLACEMENT_TYPES[k] for k in kinds) + ("All types",), tuple(rows),
                 Chart("bar", len(kinds), "Settings by Ofsted rating"),
                 "Active settings of approved providers (provision: shown in full).")


# ---------------------------------------------------------------------------------------- home and summary

def overview(f: MarketFilters, ctx: Context) -> Page:
    """The market home page: headline figures for the view. Never refused: it is where everyone starts."""
    requests = load_view(queries.requests_dataset(), f, ctx, "placement requests", ("outcome",))
    placements = load_view(queries.placements_dataset(), f, ctx, "placements", ("inside", "distance"))
    free = _Provision(f, ctx).vacancy(3, f.la)
    return Page("home", "Market overview", "The region's live picture, from the portal's own data.", headlines=(
        Headline("requests", "Placement requests submitted in the period", requests.cell()),
        Headline("open_requests", "of which still looking for a placement", requests.cell({"outcome": "open"})),
        Headline("open_vacancy_places", "Free places in open vacancies now", free),
        Headline("placements_12_months", "Placements started in the period", placements.cell()),
        Headline("placements_inside_la", "of which inside the child's own local authority",
                 placements.cell({"inside": "inside"})),
        Headline("placements_over_20_miles", "of which over 20 miles from home",
                 placements.cell({"distance": "over_20"})),
    ))


def summary(f: MarketFilters, ctx: Context) -> Page:
    """One printable page for a director: the key figure of each page and three charts."""
    requests = load_view(queries.requests_dataset(), f, ctx, "placement requests")
    requests.refuse_if_hidden()
    ds = queries.placements_dataset()
    placements = load_view(ds, f, ctx, "placements", ("inside", "distance", "family", "high_cost"))
    placements.refuse_if_hidden()
    facts = open_request_facts()
    gap_view = _gap_view(facts, f, ctx)
    fees = queries.view_percentiles(ds, f, "fee", ("type",), QUARTILES, overall=True)
    miles = queries.view_percentiles(ds, f, "miles", (), ("median",))
    days = queries.view_percentiles(ds, f, "days_to_placement", (), ("median",))
    total = placements.cell()
    free = _Provision(f, ctx).vacancy(3, f.la)
    type_cells = dict(placements.line("type")[0])
    rows = []
    for kind in _types(f):
        count = type_cells[kind] if kind else total
        rows.append(Row(_type_label(kind), (count, *percentile_cells(fees.get((kind,) if kind else ()), count,
                                                                     QUARTILES, "gbp", ctx.threshold)),
                        total=kind is None, key=kind or ALL))
    headline = [
        ("demand", "Demand", "requests", "Placement requests submitted", requests.cell()),
        ("gaps", "Sufficiency gaps", "open_requests", "Open placement requests now", gap_view.cell(rule=ALL)),
        ("gaps", "Sufficiency gaps", "gaps", "With no eligible vacancy in the region", gap_view.cell(rule="gap")),
        ("supply", "Supply", "free_places", "Free places in open vacancies now", free),
        ("prices", "Prices", "median_fee", "Median weekly fee",
         percentile_cells(fees.get(()), total, ("median",), "gbp", ctx.threshold)[0]),
        ("prices", "Prices", "high_cost", "Placements at £10,000 a week or more",
         placements.cell({"high_cost": "high"})),
        ("distance", "Distance and locality", "inside_share", "Placed inside the child's own local authority",
         share(placements.cell({"inside": "inside"}), total)),
        ("distance", "Distance and locality", "far_share", "Placed over 20 miles from home",
         share(placements.cell({"distance": "over_20"}), total)),
        ("distance", "Distance and locality", "median_miles", "Median distance from home (miles)",
         percentile_cells(miles.get(()), total, ("median",), "miles", ctx.threshold)[0]),
        ("outcomes", "Outcomes", "family_share", "Placed with family and friends",
         share(placements.cell({"family": "family_friends"}), total)),
        ("outcomes", "Outcomes", "days_median", "Median days from request to placement",
         percentile_cells(days.get(()), total, ("median",), "days", ctx.threshold)[0]),
    ]
    return Page(
        "summary", "Region summary", "The market at a glance, for a meeting.",
        headlines=tuple(Headline(f"{page}.{key}", words, cell, title) for page, title, key, words, cell in headline),
        tables=(
            line_table("by-month", "Placement requests by month", requests, "month", column="Requests",
                       with_share=False),
            line_table("gap-by-rule", "Open requests with no eligible vacancy, by blocking rule", gap_view, "rule",
                       group="gap", row_header="Blocking rule", column="Open requests", with_share=False,
                       total_label="All with no eligible vacancy", skip_zero=True),
            Table("fee-by-type", "Weekly fee by placement type", "Placement type",
                  ("Placements", "Lower quartile", "Median", "Upper quartile"), tuple(rows),
                  Chart("range", 2, "Weekly fee by placement type: quartiles and median")),
        ),
    )


PAGES = {
    "demand": demand,
    "supply": supply,
    "gaps": gaps,
    "allocation": allocation,
    "prices": prices,
    "distance": distance,
    "outcomes": outcomes,
    "responses": responses,
    "declines": declines,
    "shape": shape,
    "summary": summary,
    "forecast": _forecast.page,
}


def build(page: str, f: MarketFilters, ctx: Context) -> Page:
    """The page `page` for filters `f` (raises CohortRefused for a too-narrow view)."""
    return PAGES[page](f, ctx)
