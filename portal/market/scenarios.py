"""Commissioners' saved what-if scenarios (issue 13 §1; docs/market.md, "What-if sufficiency").

A scenario is named hypothetical provision (`ProvisionItem`s). Running it asks the region's own allocation (the
core's `whatif`: the same solver and validator as the daily allocation, medians pinned to today's) what the
provision would change, on today's open requests or on a replay of the last 12 months (portal/market/whatif.py),
and keeps the counts, by local authority and need, in the scenario (`WhatIfScenario.results`), with when they were
computed and against which options version. Pages and CSV files read those counts through `present`, which
suppresses small numbers as every market page does (suppression.py): the stored figures are aggregates, never a
row per child, and are only ever shown protected.

Proposals score a bounded set of candidates, one per type × LA × age band the gaps page shows as short.

Services here add and flush; the view commits once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache

import numpy as np
from flask import current_app
from sqlalchemy import select

from portal import geo, matching
from portal.db import db
from portal.errors import Invalid, NotFound
from portal.formatting import la_name
from portal.market.cube import ALL, Axis, Cube, fill_totals
from portal.market.dimensions import NEED_LABELS, REGION_TOTAL
from portal.market.filters import AGE_BAND_LOWER, AGE_BAND_UPPER, AGE_BANDS
from portal.market.gaps import open_request_facts
from portal.market.suppression import is_small, protect
from portal.market.tables import Cell, Row, Table, csv_document
from portal.market.whatif import PROVISION_KINDS, REPLAY_MONTHS, ProvisionItem, replay_months, scenario_options
from portal.matching import vocabulary as vocab
from portal.matching.scoring import distance_tenths
from portal.models import User, WhatIfScenario
from portal.options import current_options, open_problem

KIND_LABELS = {
    "la_foster": "Foster care: the local authority's own foster carers",
    "agency_foster": "Foster care: an independent fostering agency",
    "residential": "Children's home",
    "supported": "Supported accommodation (16 and 17 year olds)",
}
RUNS = {"open": "Today's open requests", "replay": f"Replay of the last {REPLAY_MONTHS} months"}
# Where the allocation places a child, in the order s22C of the Children Act 1989 prefers.
S22C_ORDER = {
    "connected": "Family and friends (connected persons)",
    "la_foster": "Local authority foster carers (903 PR1, PR2)",
    "other_foster": "Agency foster carers (903 PR4, PR5)",
    "residential": "Children's homes",
    "supported": "Supported accommodation",
}
NAME_MAX = 120
ITEMS_MAX = 20
PLACES_MAX = 200
FEE_MAX_GBP_WEEK = 50_000
# Proposals: at most this many candidates are scored (each one more solve of today's open requests), the
# largest gaps first, so the page answers in seconds on the whole region.
PROPOSAL_LIMIT = 8
COMPARE_MAX = 4
# Runs computed in the request (today's open requests: two allocations) and runs queued for the jobs service.
RUN_NOW = ("open",)
QUEUED = "queued"

# The counts kept per (LA, need): children asked about, placed, in their own LA, within 20 miles, placed in each
# s22C category; and the weekly fees of their places in pence.
COUNTS = ("asked", "placed", "own_la", "within_20", *(f"s22c:{k}" for k in S22C_ORDER))
FEE = "fee_pence"
NEAR_TENTHS = 200


# ------------------------------------------------------------------------------------------------ provision items

@lru_cache(maxsize=32)
def la_centre(la_code: str) -> tuple[str, int, int]:
    """The postcode nearest the middle (the median easting and northing) of an LA's postcodes: where an item given
    by LA alone is placed, a real place inside the LA."""
    points = geo.postcodes_in_la(la_code, limit=4000)
    eastings = np.array([p.easting for p in points])
    northings = np.array([p.northing for p in points])
    e, n = np.median(eastings), np.median(northings)
    nearest = points[int(np.argmin((eastings - e) ** 2 + (northings - n) ** 2))]
    return nearest.postcode, nearest.easting, nearest.northing


def item_record(*, places: int, kind: str, la: str, postcode: str | None, easting: int, northing: int,
                age_min: int, age_max: int, sexes: Iterable[str], needs_met: Iterable[str],
                risks_managed: Iterable[str], fee_gbp_week: float | None) -> dict:
    """One item as the scenario keeps it (plain values, in a stable order)."""
    return {"places": places, "kind": kind, "la": la, "postcode": postcode, "easting": easting,
            "northing": northing, "age_min": age_min, "age_max": age_max, "sexes": sorted(sexes),
            "needs_met": sorted(needs_met), "risks_managed": sorted(risks_managed), "fee_gbp_week": fee_gbp_week}


def provision_item(record: Mapping) -> ProvisionItem:
    return ProvisionItem(
        places=int(record["places"]), kind=record["kind"], la=record["la"],
        location=matching.GridPoint(int(record["easting"]), int(record["northing"])),
        age_min=int(record["age_min"]), age_max=int(record["age_max"]), sexes=frozenset(record["sexes"]),
        needs_met=frozenset(record["needs_met"]), risks_managed=frozenset(record["risks_managed"]),
        fee_gbp_week=record["fee_gbp_week"],
    )


def describe_item(record: Mapping, *, small: bool = False) -> str:
    """One line a commissioner reads: "2 places; children's home; Coventry (CV1 2AB); ages 10 to 15; ...".

    `small`: a proposal drawn from a gap of a few children, whose number of places and needs would describe them:
    both are left out."""
    places = int(record["places"])
    where = la_name(record["la"]) + (f" ({record['postcode']})" if record.get("postcode") else "")
    sexes = " and ".join(vocab.SEXES[s].lower() for s in record["sexes"])
    count = "c places (a few)" if small else f"{places} place{'s' if places != 1 else ''}"
    parts = [count, KIND_LABELS[record["kind"]], where, f"ages {record['age_min']} to {record['age_max']}", sexes]
    met = [NEED_LABELS[c] for c in (*record["needs_met"], *record["risks_managed"]) if c in NEED_LABELS]
    if small:
        parts.append("meets the needs and risks of the children in the gap (not listed for a few children)")
    else:
        parts.append("meets " + ", ".join(met) if met else "no particular needs or risks")
    fee = record.get("fee_gbp_week")
    parts.append(f"£{fee:,.0f} a week" if fee is not None else "no fee given")
    return "; ".join(parts)


# -------------------------------------------------------------------------------------------------- computing

def _category(option: matching.OptionSpec) -> str:
    if option.kind == "connected_person":
        return "connected"
    if option.kind == "foster":
        return "la_foster" if option.provider_code in ("PR1", "PR2") else "other_foster"
    return option.kind


def _tally(specs: Sequence[matching.RequestSpec], placed: Mapping[str, matching.OptionSpec], into: Counter) -> None:
    """Add one allocation's outcome to `into`, keyed (la, need, measure): `need` is "all" and each need and risk
    the child has (they overlap, so there is no total over needs)."""
    for r in specs:
        option = placed.get(r.id)
        measures = {"asked": 1}
        if option is not None:
            measures.update({"placed": 1, "own_la": int(option.la == r.la),
                             "within_20": int(distance_tenths(r.home, option.location)
                                              <= NEAR_TENTHS),
                             f"s22c:{_category(option)}": 1,
                             FEE: round(option.fee_gbp_week * 100) if option.fee_gbp_week is not None else 0})
        for need in (ALL, *sorted((r.needs | r.risks) & NEED_LABELS.keys())):
            for measure, value in measures.items():
                if value:
                    into[(r.la, need, measure)] += value


def _run(batches: Iterable[Sequence[matching.RequestSpec]], options: Sequence[matching.OptionSpec],
         added: Sequence[tuple]) -> tuple[Counter, list[Counter]]:
    """The baseline's counts and each added set's, over every batch of requests (a month each, for a replay)."""
    from portal.matching.whatif import Scenario, whatif

    index = matching.OptionIndex.build(options)
    base: Counter = Counter()
    withs = [Counter() for _ in added]
    for specs in batches:
        if not specs:
            continue
        baseline, results = whatif(specs, index, [Scenario(f"s{k}", a) for k, a in enumerate(added)])
        _tally(specs, baseline.placed, base)
        for into, (_scenario, outcome) in zip(withs, results):
            _tally(specs, outcome.placed, into)
    return base, withs


def _problem(run: str, today: date):
    if run == "open":
        specs, options = open_problem()
        return [specs], options
    _open, options = open_problem()
    options = [o for o in options if o.for_request is None]  # today's children's connected persons are not theirs
    return [specs for _month, specs in replay_months(today)], options


def compute(records: Sequence[Mapping], run: str, today: date | None = None) -> dict:
    """Run hypothetical provision on `run` ("open" or "replay"): the counts with and without it, as kept in
    `WhatIfScenario.results[run]`. Reads only."""
    today = today or date.today()
    started = time.perf_counter()
    version = current_options().version
    batches, options = _problem(run, today)
    added = scenario_options([provision_item(r) for r in records], today)
    base, (with_,) = _run(batches, options, [added])
    keys = sorted(set(base) | set(with_))
    return {"computed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "options_version": version,
            "day": today.isoformat(), "seconds": round(time.perf_counter() - started, 2),
            "cells": [[la, need, measure, base[(la, need, measure)], with_[(la, need, measure)]]
                      for la, need, measure in keys]}


# -------------------------------------------------------------------------------------------------- services

def create_scenario(user: User, name: str, records: Sequence[Mapping]) -> WhatIfScenario:
    """Save a named scenario (nothing computed yet). The form has checked the shape; this checks the limits."""
    name = name.strip()
    if not name:
        raise Invalid("Enter a name for the scenario", field="name")
    if not records:
        raise Invalid("Add at least one item of provision")
    if len(records) > ITEMS_MAX:
        raise Invalid(f"A scenario can have at most {ITEMS_MAX} items")
    scenario = WhatIfScenario(name=name[:NAME_MAX], created_by_id=user.id, items=[dict(r) for r in records],
                              results={})
    db.session.add(scenario)
    db.session.flush()
    return scenario


def save_result(scenario: WhatIfScenario, run: str, result: dict) -> None:
    """Keep the figures `compute` gave for `run` in the scenario (replacing that run's last ones); a queued request
    for that run is done."""
    if run not in RUNS:
        raise Invalid("Choose what to run the scenario on", field="run")
    results = {**(scenario.results or {}), run: result}
    queued = {k: v for k, v in results.get(QUEUED, {}).items() if k != run}
    results[QUEUED] = queued
    if not queued:
        del results[QUEUED]
    scenario.results = results
    db.session.flush()


def queue_run(user: User, scenario: WhatIfScenario, run: str) -> None:
    """Ask for `run` to be computed by the jobs service (`flask market whatif-run --queued`): the replay is a dozen
    allocations or more, longer than a web request may take at the region's scale."""
    if run not in RUNS:
        raise Invalid("Choose what to run the scenario on", field="run")
    results = dict(scenario.results or {})
    results[QUEUED] = {**results.get(QUEUED, {}),
                       run: {"requested_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                             "by": user.id}}
    scenario.results = results
    db.session.flush()


def list_queued() -> list[tuple[str, str]]:
    """(scenario id, run) for every queued run, oldest request first."""
    out = []
    for scenario in db.session.scalars(select(WhatIfScenario)):
        for run, asked in (scenario.results or {}).get(QUEUED, {}).items():
            out.append((asked["requested_at"], scenario.id, run))
    return [(sid, run) for _at, sid, run in sorted(out)]


def list_scenarios() -> list[WhatIfScenario]:
    """Every saved scenario, newest first (the region's commissioners share them)."""
    return list(db.session.scalars(select(WhatIfScenario).order_by(WhatIfScenario.created_at.desc(),
                                                                   WhatIfScenario.id)))


def get_scenario(scenario_id: str) -> WhatIfScenario:
    """The saved scenario; NotFound (404) for an unknown id."""
    scenario = db.session.get(WhatIfScenario, scenario_id) if len(scenario_id) <= 32 else None
    if scenario is None:
        raise NotFound("No such scenario")
    return scenario


def find_scenarios(ids: Sequence[str]) -> list[WhatIfScenario]:
    """The scenarios with these ids, in the order asked (unknown ids are left out)."""
    found = {s.id: s for s in db.session.scalars(select(WhatIfScenario).where(
        WhatIfScenario.id.in_([i for i in ids if len(i) <= 32])))}
    return [found[i] for i in ids if i in found]


def owner_names(scenarios: Iterable[WhatIfScenario]) -> dict[str, str]:
    ids = {s.created_by_id for s in scenarios if s.created_by_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


# -------------------------------------------------------------------------------------------------- presenting

@dataclass(frozen=True)
class Scope:
    """Who is looking: the suppression threshold, the region's LAs, and the LAs whose rows they may see (an LA
    commissioner: their own, and the region's totals)."""

    threshold: int
    la_codes: tuple[str, ...]
    viewer_la: str | None = None

    @property
    def where(self) -> str:
        return self.viewer_la or REGION_TOTAL

    def las(self) -> list[str]:
        return [self.viewer_la] if self.viewer_la else list(self.la_codes)


def _where_label(key: str) -> str:
    return "West Midlands region" if key == REGION_TOTAL else la_name(key)


@dataclass(frozen=True)
class Figures:
    """One run's counts, protected: cell(measure, la, need, side) with side "without", "with" or "difference"."""

    cells: dict
    scope: Scope

    @classmethod
    def build(cls, result: Mapping, scope: Scope) -> Figures:
        las = tuple(scope.la_codes)
        la_axis = Axis("la", las, ((REGION_TOTAL, tuple(range(len(las)))),))
        needs = (ALL, *NEED_LABELS)
        need_axis = Axis.leaves_only("need", needs)
        cat_axis = Axis.with_total("cat", tuple(S22C_ORDER), "placed")
        shape = (la_axis.size, len(needs))
        base = {m: np.zeros(shape, dtype=np.int64) for m in (*COUNTS, FEE)}
        with_ = {m: np.zeros(shape, dtype=np.int64) for m in (*COUNTS, FEE)}
        for la, need, measure, b, w in result.get("cells", ()):
            if la not in la_axis._positions or need not in needs or measure not in base:
                continue  # a child of an LA outside the region's list (never expected): not shown
            i, j = la_axis.position(la), needs.index(need)
            base[measure][i, j] += b
            with_[measure][i, j] += w
        for arrays in (base, with_):
            for array in arrays.values():
                array[len(las)] = array[:len(las)].sum(axis=0)
        cells: dict = {}

        def protected(values_b, values_w, axes, fixed=None):
            """The hidden cells without and with the provision; the with figures also kept away from a difference
            of a few children. `fixed`: (mask, hidden without, hidden with) of cells decided on another cube."""
            diff = values_w - values_b
            extra_b = extra_w = {}
            if fixed is not None:
                mask, hidden_b, hidden_w = fixed
                extra_b = {"initial": hidden_b, "frozen": mask}
                extra_w = {"initial": hidden_w, "frozen": mask}
            pb = protect(Cube(axes, values_b), scope.threshold, **extra_b)
            # The difference both ways (a few more placed, a few fewer not placed): each is kept out of 1..threshold,
            # alone and as the sum of a line's hidden cells.
            pw = protect(Cube(axes, values_w, (diff, -diff)), scope.threshold, **extra_w)
            return pb.hidden, pw.hidden

        # One cube for where the children are: the s22C categories and "not placed" (leaves), with the totals
        # children placed and children asked about, so that no subtraction gives back a few (not) placed children.
        leaves = (*S22C_ORDER, "unplaced")
        cat_axis = Axis("cat", leaves, (("placed", tuple(range(len(S22C_ORDER)))), (ALL, tuple(range(len(leaves))))))
        axes = (la_axis, need_axis, cat_axis)

        def stacked(arrays):
            out = np.zeros(shape + (cat_axis.size,), dtype=np.int64)
            for c, key in enumerate(S22C_ORDER):
                out[..., c] = arrays[f"s22c:{key}"]
            out[..., len(S22C_ORDER)] = arrays["asked"] - arrays["placed"]
            fill_totals(out, axes)
            return out

        stack_b, stack_w = stacked(base), stacked(with_)
        hb, hw = protected(stack_b, stack_w, axes)
        placed_at, asked_at = cat_axis.position("placed"), cat_axis.position(ALL)
        for key in S22C_ORDER:
            c = cat_axis.position(key)
            cells[f"s22c:{key}"] = (stack_b[..., c], stack_w[..., c], hb[..., c], hw[..., c])
        cells["placed"] = (stack_b[..., placed_at], stack_w[..., placed_at], hb[..., placed_at], hw[..., placed_at])
        cells["asked"] = (stack_b[..., asked_at], stack_w[..., asked_at], hb[..., asked_at], hw[..., asked_at])
        # In their own LA and within 20 miles: each a split of children placed (in / not), whose total keeps the
        # pattern decided above, so that placed less the split never gives back a few children either.
        for measure in ("own_la", "within_20"):
            split_axis = Axis("split", ("yes", "no"), (("placed", (0, 1)),))
            split_axes = (la_axis, need_axis, split_axis)
            arrays = []
            for values in (base, with_):
                out = np.zeros(shape + (split_axis.size,), dtype=np.int64)
                out[..., 0], out[..., 1] = values[measure], values["placed"] - values[measure]
                fill_totals(out, split_axes)
                arrays.append(out)
            mask = np.zeros(shape + (split_axis.size,), dtype=bool)
            mask[..., 2] = True
            fixed_b, fixed_w = np.zeros_like(mask), np.zeros_like(mask)
            fixed_b[..., 2], fixed_w[..., 2] = hb[..., placed_at], hw[..., placed_at]
            sb, sw = protected(arrays[0], arrays[1], split_axes, (mask, fixed_b, fixed_w))
            cells[measure] = (arrays[0][..., 0], arrays[1][..., 0], sb[..., 0], sw[..., 0])
        # Fees: shown where the number of children placed they are the fees of is shown.
        _b, _w, phb, phw = cells["placed"]
        cells[FEE] = (base[FEE], with_[FEE], phb, phw)
        positions = {key: la_axis.position(key) for key in la_axis.keys}
        return cls({"cells": cells, "la": positions, "needs": {n: j for j, n in enumerate(needs)}}, scope)

    def cell(self, measure: str, la: str, need: str, side: str) -> Cell:
        b, w, hb, hw = self.cells["cells"][measure]
        at = (self.cells["la"][la], self.cells["needs"][need])
        kind = "gbp" if measure == FEE else "count"
        scale = 100 if measure == FEE else 1

        def value(v):
            return round(int(v) / scale, 2) if measure == FEE else int(v)

        if side == "without":
            return Cell(value(b[at]), kind, bool(hb[at]))
        if side == "with":
            return Cell(value(w[at]), kind, bool(hw[at]))
        return Cell(value(w[at] - b[at]) if measure != FEE else round((int(w[at]) - int(b[at])) / 100, 2), kind,
                    bool(hb[at] or hw[at]))

    def line(self, measure: str, la: str, need: str = ALL) -> tuple[Cell, Cell, Cell]:
        return tuple(self.cell(measure, la, need, side) for side in ("without", "with", "difference"))


SIDES = ("Without the provision", "With the provision", "Difference")
FIGURES = (("asked", "Children asked about"), ("placed", "Children placed"),
           ("own_la", "Placed in their own local authority"), ("within_20", "Placed within 20 miles of home"),
           (FEE, "Weekly fee spend on their places"))


def present(result: Mapping, scope: Scope) -> tuple[Table, ...]:
    """The tables of one run of one scenario (baseline / with / difference), every figure protected."""
    fig = Figures.build(result, scope)
    where = scope.where
    tables = [Table("summary", f"Summary: {_where_label(where)}", "Figure", SIDES,
                    tuple(Row(words, fig.line(m, where), key=m) for m, words in FIGURES))]
    s22c = [Row(words, fig.line(f"s22c:{k}", where), key=k) for k, words in S22C_ORDER.items()]
    s22c.append(Row("All children placed", fig.line("placed", where), total=True, key="placed"))
    tables.append(Table("s22c", f"Where children are placed, in the s22C order: {_where_label(where)}",
                        "Placed with", SIDES, tuple(s22c),
                        note="The order of preference in section 22C of the Children Act 1989."))
    for measure, words in FIGURES[1:]:
        rows = [Row(la_name(la), fig.line(measure, la), key=la) for la in scope.las()]
        rows.append(Row("West Midlands region", fig.line(measure, REGION_TOTAL), total=True, key=REGION_TOTAL))
        key = "by-la-" + measure.replace("_", "-").replace("fee-pence", "fee")
        tables.append(Table(key, f"{words}, by the child's local authority", "Local authority", SIDES,
                            tuple(rows)))
    need_rows = [Row(words, fig.line("placed", where, code), key=code) for code, words in NEED_LABELS.items()]
    tables.append(Table("by-need", f"Children placed, by need and risk: {_where_label(where)}", "Need or risk",
                        SIDES, tuple(need_rows),
                        note="A child can have several needs and risks, so these do not add up to a total."))
    return tuple(tables)


def comparison(scenarios: Sequence[WhatIfScenario], run: str, scope: Scope) -> Table:
    """Scenarios side by side on one run: for each figure, each scenario's with and difference (and the baseline
    each was computed against, which moves when the options change between runs)."""
    columns = []
    figures = []
    for s in scenarios:
        result = (s.results or {}).get(run)
        figures.append(Figures.build(result, scope) if result else None)
        columns += [f"{s.name}: without", f"{s.name}: with", f"{s.name}: difference"]
    rows = []
    measures = [*FIGURES, *((f"s22c:{k}", f"Placed with {w[0].lower()}{w[1:]}") for k, w in S22C_ORDER.items())]
    for measure, words in measures:
        cells = []
        for fig in figures:
            cells += list(fig.line(measure, scope.where)) if fig else [Cell(None)] * 3
        rows.append(Row(words, tuple(cells), key=measure))
    return Table("comparison", f"Scenarios compared ({RUNS[run].lower()}): {_where_label(scope.where)}", "Figure",
                 tuple(columns), tuple(rows))


def tables_csv(tables: Sequence[Table], name: str, run: str) -> str:
    """One scenario's tables in one CSV file, each row as shown on the page (suppressed cells as "c"), with the
    scenario, the run and the table it comes from."""
    rows = [(name, RUNS[run], table.title, row.label, *(cell.csv_text for cell in row.cells))
            for table in tables for row in table.rows]
    return csv_document(("Scenario", "Run on", "Table", "Row", *SIDES), rows)


def run_info(scenario: WhatIfScenario, run: str) -> dict | None:
    result = (scenario.results or {}).get(run)
    if not result:
        return None
    return {"computed_at": datetime.fromisoformat(result["computed_at"]),
            "options_version": result["options_version"], "seconds": result.get("seconds")}


# -------------------------------------------------------------------------------------------------- proposals

@dataclass(frozen=True)
class Proposal:
    kind: str
    la: str
    age_band: str
    places: Cell  # places added: the cell's open requests with no eligible vacancy (protected)
    placed: Cell  # more children placed (protected)
    per_place: Cell  # children placed per place added (hidden where either count is)
    record: dict

    @property
    def description(self) -> str:
        return describe_item(self.record, small=self.places.hidden)


def _band(age: int) -> str:
    return "under_1" if age < 1 else "1_4" if age < 5 else "5_9" if age < 10 else "10_15" if age < 16 else "16_plus"


_KIND_FOR_TYPE = {"foster": "la_foster", "residential": "residential", "supported": "supported"}


def candidates(limit: int = PROPOSAL_LIMIT) -> tuple[list[tuple[str, str, str, int, dict]], int]:
    """The gaps page's short cells (type sought × LA × age band with an open request no vacancy can meet) as
    provision items: as many places as the cell is short, at the LA's centre, for the band's ages, meeting every
    need and risk of those children, at today's regional median fee for the type. The `limit` largest gaps
    (ties: in the order of the LAs' codes), and how many cells are short in all."""
    short: Counter = Counter()
    needs: dict[tuple, set] = {}
    for fact in open_request_facts():
        if fact.eligible or fact.type_sought not in _KIND_FOR_TYPE:
            continue
        key = (_KIND_FOR_TYPE[fact.type_sought], fact.la, _band(fact.age_years))
        short[key] += 1
        needs.setdefault(key, set()).update(fact.needs)
    medians = current_options().index.medians
    chosen = sorted(short, key=lambda k: (-short[k], k[1], k[0], k[2]))[:limit]
    out = []
    for key in chosen:
        kind, la, band = key
        postcode, easting, northing = la_centre(la)
        age_min, age_max = AGE_BAND_LOWER[band], AGE_BAND_UPPER[band]
        if kind == "supported":
            age_min = max(age_min, 16)
        median = medians.get(PROVISION_KINDS[kind][0])
        record = item_record(places=short[key], kind=kind, la=la, postcode=None, easting=easting,
                             northing=northing, age_min=age_min, age_max=age_max, sexes=vocab.SEXES,
                             needs_met=needs[key] & vocab.NEEDS.keys(), risks_managed=needs[key] & vocab.RISKS.keys(),
                             fee_gbp_week=round(median, 2) if median else None)
        out.append((kind, la, band, short[key], record))
    return out, len(short)


def _scored(limit: int) -> tuple[list[tuple], list[int], int]:
    """The candidates, each one's children placed over the baseline's, and the number of short cells: solved once
    per (options version, data version, day) in each process, as the market pages are kept (cache.py)."""
    from portal.options.versions import get_data_version

    today = date.today()
    key = (current_options().version, get_data_version(), today, limit)
    memo = current_app.extensions.setdefault("portal_whatif_proposals", {})
    if key in memo:
        return memo[key]
    found, total = candidates(limit)
    gains: list[int] = []
    if found:
        batches, options = _problem("open", today)
        added = [scenario_options([provision_item(record)], today, f"proposal-{k}")
                 for k, (*_rest, record) in enumerate(found)]
        base, withs = _run(batches, options, added)
        gains = [_placed(with_) - _placed(base) for with_ in withs]
    memo.clear()  # one key at a time: an older version's scores are of no use
    memo[key] = (found, gains, total)
    return memo[key]


def proposals(scope: Scope, limit: int = PROPOSAL_LIMIT) -> tuple[list[Proposal], int]:
    """Each candidate scored by the solver on today's open requests (children placed per place added), best first;
    and how many short cells there were in all (only `limit` are scored)."""
    found, gains, total = _scored(limit)
    out = []
    for (kind, la, band, _short, record), gain in zip(found, gains):
        # Places added (the cell's shortfall) and the gain are counts of children: hidden when small, as on the
        # gaps page; the ratio is shown only where both are.
        places = Cell(record["places"], "count", is_small(record["places"], scope.threshold))
        cell = Cell(gain, "count", is_small(abs(gain), scope.threshold))
        hidden = places.hidden or cell.hidden
        out.append(Proposal(kind, la, band, places, cell,
                            Cell(round(gain / record["places"], 2), "ratio", hidden), record))
    out.sort(key=lambda p: (-p.per_place.value, -p.record["places"], p.la, p.kind, p.age_band))
    return out, total


def _placed(counts: Counter) -> int:
    return sum(v for (_la, need, measure), v in counts.items() if need == ALL and measure == "placed")


def proposal_table(found: Sequence[Proposal]) -> Table:
    rows = tuple(Row(f"{KIND_LABELS[p.kind]}, {la_name(p.la)}, {AGE_BANDS[p.age_band]}",
                     (p.places, p.placed, p.per_place),
                     key=f"{p.kind}-{p.la}-{p.age_band}") for p in found)
    return Table("proposals", "Candidate additions, ranked by children placed per place added", "Candidate",
                 ("Places added", "More children placed", "Children placed per place added"), rows)
