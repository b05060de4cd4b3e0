"""What-if sufficiency (issue 13 §1): the region's allocation with and without hypothetical provision.

`python -m portal.matching whatif FILE` reads a problem as for `allocate` plus

    "scenarios": [{"id": "four-more-in-wolverhampton", "add_options": [option, ...]}, ...]

and prints `{"baseline": SUMMARY, "scenarios": [{"id": ..., **SUMMARY, "delta": SUMMARY}, ...]}`, where SUMMARY is
`{"children_placed", "placed_own_la", "placed_within_20_miles", "fee_gbp_week"}` and `delta` is the scenario's
summary less the baseline's. Every scenario is allocated by the same core (`allocate`) and checked by the same
validator as the daily allocation, so a what-if says what the region's own allocation would do.

Two choices make the comparison fair:

* the regional median fees are pinned to the baseline's, so hypothetical provision changes what is available and
  nothing else (a new home's fee does not move every other option's median part);
* each scenario's index is the baseline's patched with the added options (`OptionIndex.patched`), the same index a
  rebuild makes, at a fraction of the cost.

The allocation is deterministic (work limits, not the clock), so the same file gives the same answer anywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .problem import ProblemError, _hint, _option, parse_problem
from .rank import OptionIndex
from .scoring import distance_tenths
from .solver import SAFETY_TIME_LIMIT_S, allocate
from .types import Allocation, OptionSpec, RequestSpec
from .validation import validate_allocation

__all__ = ["Outcome", "Scenario", "parse_scenarios", "summarise", "whatif", "whatif_problem"]

NEAR_TENTHS = 200  # the DfE's "20 miles or less" from home, in tenths of a mile
SUMMARY_FIELDS = ("children_placed", "placed_own_la", "placed_within_20_miles", "fee_gbp_week")
_SCENARIO_FIELDS = ("id", "add_options")


@dataclass(frozen=True)
class Scenario:
    id: str
    add_options: tuple[OptionSpec, ...]


@dataclass(frozen=True)
class Outcome:
    """One allocation's outcome, child by child: what the summaries (and the portal's tables by LA and need) add
    up. `placed` maps each placed request's id to its option."""

    allocation: Allocation
    placed: Mapping[str, OptionSpec]

    def summary(self, requests: Sequence[RequestSpec]) -> dict[str, Any]:
        return summarise(requests, self.placed)


def summarise(requests: Sequence[RequestSpec], placed: Mapping[str, OptionSpec]) -> dict[str, Any]:
    """Children placed; of them, in their own LA and within 20 miles of home; and the weekly fees of their places
    (each child's place at its option's weekly fee; an option with no fee counts nothing)."""
    out = {"children_placed": 0, "placed_own_la": 0, "placed_within_20_miles": 0}
    pence = 0
    for r in requests:
        option = placed.get(r.id)
        if option is None:
            continue
        out["children_placed"] += 1
        out["placed_own_la"] += option.la == r.la
        out["placed_within_20_miles"] += distance_tenths(r.home, option.location) <= NEAR_TENTHS
        if option.fee_gbp_week is not None:
            pence += round(option.fee_gbp_week * 100)
    out["fee_gbp_week"] = pence / 100
    return out


def delta(after: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: after[key] - before[key] for key in SUMMARY_FIELDS if key != "fee_gbp_week"}
    out["fee_gbp_week"] = round(round(after["fee_gbp_week"] * 100) - round(before["fee_gbp_week"] * 100)) / 100
    return out


def parse_scenarios(data: Any, existing_ids: set[str], request_ids: set[str]) -> tuple[Scenario, ...]:
    """Check the problem file's "scenarios" list; raises ProblemError naming the scenario, the option and the
    field. An added option's id must be new: not one of the problem's options nor another in the same scenario."""
    if not isinstance(data, list):
        raise ProblemError("problem", "scenarios", 'must be a list of {"id": ..., "add_options": [...]}')
    if not data:
        raise ProblemError("problem", "scenarios", "must name at least one scenario")
    seen: dict[str, int] = {}
    scenarios = []
    for k, item in enumerate(data):
        label = f"scenarios[{k}]"
        if not isinstance(item, Mapping):
            raise ProblemError(label, None, 'must be an object {"id": ..., "add_options": [...]}')
        sid = item.get("id")
        if isinstance(sid, str) and sid.strip():
            label = f"scenario {sid!r} ({label})"
        for key in item:
            if key not in _SCENARIO_FIELDS:
                raise ProblemError(label, key, "unknown field" + _hint(key, _SCENARIO_FIELDS))
        if not isinstance(sid, str) or not sid.strip():
            raise ProblemError(label, "id", "missing (required: a name for the scenario)")
        if sid in seen:
            raise ProblemError(label, "id", f"duplicate id (also scenarios[{seen[sid]}])")
        seen[sid] = k
        raw = item.get("add_options")
        if not isinstance(raw, list):
            raise ProblemError(label, "add_options", "missing or not a list of options (required; may be empty)")
        added: list[OptionSpec] = []
        ids: dict[str, int] = {}
        for i, record in enumerate(raw):
            try:
                option = _option(record, i)
            except ProblemError as err:
                where = err.record.replace("options[", "add_options[")
                raise ProblemError(f"{label}: {where}", err.field, err.message) from None
            where = f"{label}: option {option.id!r} (add_options[{i}])"
            if option.id in existing_ids:
                raise ProblemError(where, "id", "already an option of the problem (an added option needs a new id)")
            if option.id in ids:
                raise ProblemError(where, "id", f"duplicate id (also add_options[{ids[option.id]}])")
            if option.for_request is not None and option.for_request not in request_ids:
                raise ProblemError(where, "for_request", f"no request with id {option.for_request!r} in this problem")
            ids[option.id] = i
            added.append(option)
        scenarios.append(Scenario(sid, tuple(added)))
    return tuple(scenarios)


def _outcome(requests: Sequence[RequestSpec], index: OptionIndex, time_limit_s: float) -> Outcome:
    allocation = allocate(requests, index, time_limit_s=time_limit_s)
    problems = validate_allocation(requests, index, allocation)
    if problems:  # the core's own promise; never expected, but a what-if must not report an invalid allocation
        raise AssertionError(f"the allocation did not validate: {problems[0]}")
    by_id = {o.id: o for o in index.options}
    return Outcome(allocation, {a.request: by_id[a.option] for a in allocation.assignments})


def whatif(requests: Sequence[RequestSpec], index: OptionIndex, scenarios: Sequence[Scenario], *,
           time_limit_s: float = SAFETY_TIME_LIMIT_S) -> tuple[Outcome, list[tuple[Scenario, Outcome]]]:
    """The baseline allocation and each scenario's, the scenario's options added to the baseline's (regional
    medians pinned to the baseline's). Pure: the portal and the command line both call this."""
    if not index.policy.pinned_medians():
        pinned = dataclasses.replace(index.policy,
                                     regional_median_fee_gbp_week=tuple(sorted(index.medians.items())))
        index = OptionIndex.build(index.options, pinned)
    baseline = _outcome(requests, index, time_limit_s)
    results = []
    for scenario in scenarios:
        scenario_index = index.patched((), scenario.add_options) if scenario.add_options else index
        results.append((scenario, _outcome(requests, scenario_index, time_limit_s)))
    return baseline, results


def whatif_problem(problem: Mapping[str, Any], *, time_limit_s: float | None = None) -> dict[str, Any]:
    """`python -m portal.matching whatif`: `{"baseline": SUMMARY, "scenarios": [{"id", **SUMMARY, "delta"}]}`;
    raises ProblemError on a bad file (nothing is computed until the whole file has been checked)."""
    if not isinstance(problem, Mapping):
        raise ProblemError("problem", None, 'must be an object {"policy": {...}, "requests": [...], '
                                            '"options": [...], "scenarios": [...]}')
    if "scenarios" not in problem:
        raise ProblemError("problem", "scenarios", 'missing (required: [{"id": ..., "add_options": [...]}])')
    parsed = parse_problem({key: value for key, value in problem.items() if key != "scenarios"})
    scenarios = parse_scenarios(problem["scenarios"], {o.id for o in parsed.options}, {r.id for r in parsed.requests})
    index = OptionIndex.build(parsed.options, parsed.policy)
    baseline, results = whatif(parsed.requests, index, scenarios,
                               time_limit_s=SAFETY_TIME_LIMIT_S if time_limit_s is None else time_limit_s)
    base = baseline.summary(parsed.requests)
    out = []
    for scenario, outcome in results:
        summary = outcome.summary(parsed.requests)
        out.append({"id": scenario.id, **summary, "delta": delta(summary, base)})
    return {"baseline": base, "scenarios": out}
