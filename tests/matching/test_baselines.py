"""The allocation never places fewer children than the two baselines (issue 12 §3), on small simulated scarce
regions; `make bench` (bench/policy_bench.py) measures the same on the larger ones. And the band weights stay
lexicographic however large or negative the scores are."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.matching_bench import synthetic_problem
from bench.policy_bench import nearest_first_assign, outcomes
from portal.matching import OptionIndex, Policy, allocate, greedy_assign, validate_allocation
from portal.matching import solver as solver_module
from portal.matching.problem import parse_problem
from tests.matching.builders import contended, problems
from tests.matching.test_solver import BANDS, brute_force

BY_BAND = BANDS


@pytest.mark.parametrize("size, seed", [((40, 30), 1), ((40, 30), 2), ((60, 45), 3), ((60, 45), 4),
                                        ((80, 60), 5)])
def test_the_allocation_places_at_least_as_many_children_as_greedy_and_nearest_first(size, seed):
    parsed = parse_problem(synthetic_problem(*size, seed=seed))
    index = OptionIndex.build(parsed.options, parsed.policy)
    by_id = {o.id: o for o in parsed.options}
    allocation = allocate(parsed.requests, index)
    assert validate_allocation(parsed.requests, index, allocation) == []
    ours = outcomes(parsed.requests, by_id, {a.request: a.option for a in allocation.assignments})
    for baseline in (greedy_assign(parsed.requests, index), nearest_first_assign(parsed.requests, index)):
        theirs = outcomes(parsed.requests, by_id, baseline)
        assert ours["placed"] >= theirs["placed"]
        # and band by band in order of urgency, the allocation's own order
        assert tuple(ours[b] for b in BY_BAND) >= tuple(theirs[b] for b in BY_BAND)


def test_nearest_first_takes_the_nearest_eligible_option_with_room():
    from tests.matching.builders import HOME, east, make_option, make_request

    child, other = make_request(id="R1"), make_request(id="R2", urgency="over_5_days", arrival_order=1)
    options = [make_option(id="far", location=east(HOME, 9_000), provider_code="PR1"),
               make_option(id="near", location=east(HOME, 2_000))]
    index = OptionIndex.build(options)
    assert nearest_first_assign([child, other], index) == {"R1": "near", "R2": "far"}


# Scores far larger and more negative than the defaults give: the weights must still make one more child in a
# band outweigh everything below it, and the decoded bound on the counts must still hold.
HARSH = Policy.from_overrides({"distance_points_per_mile": 40, "distance_penalty_cap": 4_000,
                               "over_20_miles_penalty": 900, "school_points_per_mile": 30,
                               "school_penalty_cap": 3_000, "over_budget_penalty_per_percent": 50,
                               "over_budget_penalty_cap": 2_500, "connected_person_points": 20_000})
EXACT = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@EXACT
@given(st.one_of(problems(max_requests=6, max_options=5), contended(max_requests=6, max_options=3)),
       st.booleans())
def test_band_weights_stay_lexicographic_with_large_negative_scores(problem, no_work):
    requests, options = problem
    index = OptionIndex.build(options, HARSH)
    saved = solver_module.BRANCH_WORK_ARCS, solver_module.REPAIR_DETERMINISTIC_TIME
    if no_work:  # only the relaxation's bounds are left: the decoded counts must still be true
        solver_module.BRANCH_WORK_ARCS, solver_module.REPAIR_DETERMINISTIC_TIME = (0, 0), 0.0
    try:
        allocation = allocate(requests, index)
    finally:
        solver_module.BRANCH_WORK_ARCS, solver_module.REPAIR_DETERMINISTIC_TIME = saved
    exact = brute_force(requests, options, HARSH)
    counts = tuple(allocation.placed[b] for b in BANDS)
    assert validate_allocation(requests, index, allocation) == []
    assert tuple(allocation.bound_placed[b] for b in BANDS) >= exact[:3]
    assert (*counts, allocation.objective) <= exact
    if not no_work:
        assert allocation.status == "optimal"
    if allocation.status == "optimal":
        assert (*counts, allocation.objective) == exact
    if counts == exact[:3]:
        assert allocation.bound >= exact[3]
