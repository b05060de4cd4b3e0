"""allocate(): validity, lexicographic optimality against brute force, reasons; and validate_allocation itself."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.matching import (
    DEFAULT_POLICY,
    Allocation,
    Assignment,
    Unplaced,
    allocate,
    check_option,
    greedy_assign,
    score_option,
    validate_allocation,
)
from portal.matching.eligibility import Group
from portal.matching.scoring import regional_medians
from tests.matching.builders import (
    BIRMINGHAM,
    HOME,
    contended,
    east,
    make_connected,
    make_option,
    make_request,
    problems,
)

BANDS = ("today", "within_5_days", "over_5_days")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def units_of(requests):
    groups: dict[str, list] = {}
    out = []
    for r in requests:
        if r.sibling_group is None:
            out.append([r])
        elif r.sibling_group not in groups:
            groups[r.sibling_group] = [r]
            out.append(groups[r.sibling_group])
        else:
            groups[r.sibling_group].append(r)
    return out


def brute_force(requests, options, policy=DEFAULT_POLICY):
    """The lexicographic optimum (placed today, within 5 days, over 5 days, score sum) by enumeration."""
    medians = policy.pinned_medians() or regional_medians(options)
    units = units_of(requests)
    choices = []
    for unit in units:
        group = Group(frozenset(m.id for m in unit))
        here = [None]
        for o in options:
            if all(not check_option(m, o, policy, group) for m in unit):
                here.append((o, sum(score_option(m, o, policy, medians, group).score for m in unit)))
        choices.append(here)
    best = None
    for combo in itertools.product(*choices):
        use: dict[str, int] = {}
        for unit, pick in zip(units, combo):
            if pick is not None:
                use[pick[0].id] = use.get(pick[0].id, 0) + len(unit)
        if any(use[o.id] > o.capacity for o in options if o.id in use):
            continue
        counts = [0, 0, 0]
        score = 0
        for unit, pick in zip(units, combo):
            if pick is not None:
                score += pick[1]
                for m in unit:
                    counts[BANDS.index(m.urgency)] += 1
        value = (*counts, score)
        best = value if best is None or value > best else best
    return best


def lexicographic(allocation):
    return (*(allocation.placed[b] for b in BANDS), allocation.objective)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(problems(max_requests=5, max_options=5), contended(), contended()))
def test_allocate_equals_the_brute_force_lexicographic_optimum(problem):
    requests, options = problem
    allocation = allocate(requests, options)
    assert validate_allocation(requests, options, allocation) == []
    assert lexicographic(allocation) == brute_force(requests, options)
    assert allocation.status == "optimal" and allocation.bound == allocation.objective and allocation.gap == 0


@SETTINGS
@given(st.one_of(problems(max_requests=9, max_options=12), problems(max_requests=9, max_options=6, lenient=True)))
def test_every_allocation_passes_validation_and_beats_greedy(problem):
    requests, options = problem
    allocation = allocate(requests, options)
    assert validate_allocation(requests, options, allocation) == []
    greedy = greedy_assign(requests, options)
    medians = regional_medians(options)
    by_id = {o.id: o for o in options}
    counts, score = [0, 0, 0], 0
    for unit in units_of(requests):
        group = Group(frozenset(m.id for m in unit))
        for m in unit:
            if m.id in greedy:
                counts[BANDS.index(m.urgency)] += 1
                score += score_option(m, by_id[greedy[m.id]], DEFAULT_POLICY, medians, group).score
    assert lexicographic(allocation) >= (*counts, score)


# ------------------------------------------------------------------------------------------- tiny cases

def test_siblings_are_placed_together_even_when_that_costs_points():
    """The flow relaxation would split the pair over two one-place carers next door; the answer keeps them
    together in the two-place home further away."""
    a, b = make_request(id="A", sibling_group="G"), make_request(id="B", sibling_group="G")
    options = [make_option(id="next_door_1"), make_option(id="next_door_2"),
               make_option(id="pair", places=2, location=east(HOME, 30_000))]
    allocation = allocate([a, b], options)
    assert {x.option for x in allocation.assignments} == {"pair"}
    assert allocation.status == "optimal"
    assert validate_allocation([a, b], options, allocation) == []


def test_no_child_is_left_unplaced_to_give_another_a_better_score():
    first = make_request(id="first")
    second = make_request(id="second", needs={"bsl"})
    options = [make_option(id="great", needs_met={"bsl"}, provider_code="PR1"), make_option(id="poor", la=BIRMINGHAM)]
    allocation = allocate([first, second], options)
    assert {(x.request, x.option) for x in allocation.assignments} == {("first", "poor"), ("second", "great")}


def test_more_urgent_children_come_first():
    today, later = make_request(id="today"), make_request(id="later", urgency="over_5_days")
    allocation = allocate([later, today], [make_option(id="only")])
    assert [(x.request, x.option) for x in allocation.assignments] == [("today", "only")]
    assert allocation.unplaced == (Unplaced("later", "The one eligible option was given to a more urgent child"),)


def test_greedy_can_leave_a_child_unplaced_that_the_optimum_places():
    x = make_request(id="X", arrival_order=0)
    y = make_request(id="Y", arrival_order=1, needs={"bsl"})
    options = [make_option(id="A", needs_met={"bsl"}), make_option(id="B", location=east(HOME, 20_000))]
    assert greedy_assign([x, y], options) == {"X": "A"}
    assert {a.request for a in allocate([x, y], options).assignments} == {"X", "Y"}


def test_a_connected_person_only_serves_their_own_child():
    mine, other = make_request(id="R1"), make_request(id="R2")
    carer = make_connected(for_request="R1", places=2)
    allocation = allocate([other, mine], [carer])
    assert [(x.request, x.option) for x in allocation.assignments] == [("R1", "C1")]
    assert allocation.unplaced[0].request == "R2"
    assert allocation.unplaced[0].reason.startswith("No eligible option among 1; the most common reason: "
                                                     "This connected person was put forward for another child")


def test_unplaced_reasons_name_the_sufficiency_gap():
    lonely = make_request(id="lonely", needs={"bsl"})
    twins = [make_request(id="T1", sibling_group="T"), make_request(id="T2", sibling_group="T")]
    options = [make_option(id=f"O{i}") for i in range(3)]
    allocation = allocate([lonely, *twins], options)
    reasons = {u.request: u.reason for u in allocation.unplaced}
    assert reasons["lonely"] == ("No eligible option among 3; the most common reason: "
                                 "Needs not met: British Sign Language (BSL)")
    assert reasons["T1"] == reasons["T2"] == (
        "No setting can take the sibling group of 2 together (3 options could take this child alone)")


def test_allocation_output_shape_and_determinism():
    requests = [make_request(id=f"R{i}", sibling_group="G" if i < 2 else None, urgency=BANDS[i % 3])
                for i in range(6)]
    options = [make_option(id=f"O{i}", places=1 + i % 2, location=east(HOME, 1_000 * i)) for i in range(5)]
    first, second = allocate(requests, options), allocate(requests, options)
    assert first.to_dict() == second.to_dict()
    data = first.to_dict()
    assert list(data) == ["assignments", "unplaced", "objective", "bound", "gap", "status", "placed",
                          "bound_placed", "stopped_by"]
    assert {a["request"] for a in data["assignments"]} | {u["request"] for u in data["unplaced"]} == {
        r.id for r in requests}


def test_duplicate_request_ids_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        allocate([make_request(), make_request()], [make_option()])


# -------------------------------------------------------------------------------------------- validation

def test_validation_finds_what_is_wrong():
    a, b = make_request(id="A", sibling_group="G"), make_request(id="B", sibling_group="G")
    c = make_request(id="C", age_years=16)
    options = [make_option(id="one"), make_option(id="two", places=2), make_option(id="young", age_max=10),
               make_connected(id="gran", for_request="A")]
    good = allocate([a, b, c], options)
    assert validate_allocation([a, b, c], options, good) == []

    def broken(assignments, unplaced=(), objective=None):
        allocation = Allocation(tuple(Assignment(r, o) for r, o in assignments),
                                tuple(Unplaced(r, "why") for r in unplaced), objective=0, bound=10**6, gap=1.0,
                                status="feasible")
        if objective is None:
            medians = regional_medians(options)
            by_id = {o.id: o for o in options}
            people = {r.id: r for r in (a, b, c)}
            objective = sum(score_option(people[r], by_id[o], DEFAULT_POLICY, medians,
                                         Group(frozenset({"A", "B"}) if r in "AB" else frozenset({r}))).score
                            for r, o in assignments)
        allocation = replace(allocation, objective=objective, gap=(10**6 - objective) / 10**6)
        return validate_allocation([a, b, c], options, allocation, local_checks=False)

    assert any("capacity" in p for p in broken([("A", "one"), ("B", "one"), ("C", "two")]))
    assert any("split" in p for p in broken([("A", "two"), ("B", "gran"), ("C", "one")]))
    assert any("not eligible" in p and "Age 16" in p for p in broken([("A", "two"), ("B", "two"),
                                                                       ("C", "young")]))
    assert any("connected person" in p or "not eligible" in p
               for p in broken([("A", "two"), ("B", "two"), ("C", "gran")]))
    assert any("neither assigned nor listed" in p for p in broken([("A", "two"), ("B", "two")]))
    assert any("objective" in p for p in broken([("A", "two"), ("B", "two"), ("C", "one")], objective=1))
    lazy = Allocation((Assignment("A", "two"), Assignment("B", "two")), (Unplaced("C", "why"),), objective=0,
                      bound=0, gap=0.0, status="optimal")
    lazy = replace(lazy, objective=sum(score_option(r, options[1], DEFAULT_POLICY, regional_medians(options),
                                                    Group(frozenset({"A", "B"}))).score for r in (a, b)))
    lazy = replace(lazy, bound=lazy.objective)
    assert any("has room" in p for p in validate_allocation([a, b, c], options, lazy))
