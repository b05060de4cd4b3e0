"""What-if sufficiency (issue 13 §1): the region's allocation with and without hypothetical provision, as
`python -m portal.matching whatif FILE` prints it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings

from portal.matching import OptionIndex, allocate
from portal.matching.problem import ProblemError, option_record, request_record
from portal.matching.whatif import parse_scenarios, whatif, whatif_problem
from tests.matching.builders import BIRMINGHAM, HOME, URGENCIES, east, make_option, make_request, problems

COVENTRY = make_request().la


def problem_file(requests, options, scenarios, policy=None) -> dict:
    data = {"requests": [request_record(r) for r in requests], "options": [option_record(o) for o in options],
            "scenarios": scenarios}
    if policy is not None:
        data["policy"] = policy
    return data


def run_cli(tmp_path, data) -> subprocess.CompletedProcess:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "portal.matching", "whatif", str(path)], capture_output=True,
                          text=True, timeout=120)


def three_children_two_places():
    """Three children of Coventry, two places: one in Coventry a mile away, one in Birmingham 30 miles away."""
    children = [make_request(id=f"R{i}", arrival_order=i) for i in range(1, 4)]
    near = make_option(id="near", fee_gbp_week=900.0)
    far = make_option(id="far", la=BIRMINGHAM, location=east(HOME, 30 * 1_609 + 800), fee_gbp_week=1200.0)
    return children, [near, far]


def test_added_places_show_as_children_placed_in_the_la_and_near_home():
    children, options = three_children_two_places()
    two_more = [make_option(id="new-1", places=2, fee_gbp_week=1000.0)]
    out = whatif_problem(problem_file(children, options, [
        {"id": "two more in Coventry", "add_options": [option_record(o) for o in two_more]},
        {"id": "nothing", "add_options": []},
    ]))
    assert out["baseline"] == {"children_placed": 2, "placed_own_la": 1, "placed_within_20_miles": 1,
                               "fee_gbp_week": 2100.0}
    more, nothing = out["scenarios"]
    # The third child is placed, and the one sent 30 miles to Birmingham comes home to Coventry.
    assert more == {"id": "two more in Coventry", "children_placed": 3, "placed_own_la": 3,
                    "placed_within_20_miles": 3, "fee_gbp_week": 2900.0,
                    "delta": {"children_placed": 1, "placed_own_la": 2, "placed_within_20_miles": 2,
                              "fee_gbp_week": 800.0}}
    assert nothing == {"id": "nothing", **out["baseline"],
                       "delta": {"children_placed": 0, "placed_own_la": 0, "placed_within_20_miles": 0,
                                 "fee_gbp_week": 0.0}}


def test_provision_no_child_can_use_changes_nothing_not_even_the_scores():
    """An added home no child is eligible for (here: for over-16s only) leaves the allocation as it was: the
    regional medians are pinned, so even a very expensive home does not move the other homes' scores."""
    children, options = three_children_two_places()
    useless = make_option(id="costly", age_min=16, age_max=17, places=5, fee_gbp_week=99_000.0)
    index = OptionIndex.build(options)
    baseline, [(_, outcome)] = whatif(children, index, parse_scenarios(
        [{"id": "x", "add_options": [option_record(useless)]}], {o.id for o in options}, {c.id for c in children}))
    assert outcome.allocation.assignments == baseline.allocation.assignments
    assert outcome.allocation.objective == baseline.allocation.objective
    assert baseline.allocation.objective == allocate(children, index).objective  # pinning changed no score


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_requests=6, max_options=4, lenient=True), problems(max_requests=1, max_options=3,
                                                                           lenient=True))
def test_adding_provision_never_places_fewer_children_band_by_band(base, extra):
    """More provision never makes the region's allocation worse in its own order: the children placed by urgency
    band, compared band by band from the most urgent (with sibling groups, the total alone could fall)."""
    requests, options = base
    added = [replace(o, id=f"new-{o.id}", for_request=None, kind="foster" if o.kind == "connected_person" else o.kind,
                     connected_stage=None) for o in extra[1]]
    index = OptionIndex.build(options)
    baseline, [(_, outcome)] = whatif(requests, index, parse_scenarios(
        [{"id": "more", "add_options": [option_record(o) for o in added]}], {o.id for o in options},
        {r.id for r in requests}))
    if baseline.allocation.status == "optimal" and outcome.allocation.status == "optimal":
        def bands(allocation):
            placed = {a.request for a in allocation.assignments}
            return [sum(1 for r in requests if r.id in placed and r.urgency == band) for band in URGENCIES]

        assert bands(outcome.allocation) >= bands(baseline.allocation)


def test_the_command_line_prints_the_contract_byte_identically_twice(tmp_path):
    children, options = three_children_two_places()
    data = problem_file(children, options, [
        {"id": "one more", "add_options": [option_record(make_option(id="new-1"))]}])
    first, second = run_cli(tmp_path, data), run_cli(tmp_path, data)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    out = json.loads(first.stdout)
    assert set(out) == {"baseline", "scenarios"}
    assert set(out["baseline"]) == {"children_placed", "placed_own_la", "placed_within_20_miles", "fee_gbp_week"}
    assert [s["id"] for s in out["scenarios"]] == ["one more"]
    assert out["scenarios"][0]["delta"]["children_placed"] == 1
    assert out == whatif_problem(data)


@pytest.mark.parametrize("change, where", [
    (lambda d: d.pop("scenarios"), "problem: field 'scenarios': missing"),
    (lambda d: d.update(scenarios={}), "problem: field 'scenarios': must be a list"),
    (lambda d: d.update(scenarios=[]), "problem: field 'scenarios': must name at least one"),
    (lambda d: d["scenarios"].append("more"), "scenarios[1]: must be an object"),
    (lambda d: d["scenarios"][0].pop("id"), "scenarios[0]: field 'id': missing"),
    (lambda d: d["scenarios"].append({"id": "more", "add_options": []}), "scenario 'more' (scenarios[1]): field 'id': duplicate"),
    (lambda d: d["scenarios"][0].update(add_option=[]), "field 'add_option': unknown field (did you mean 'add_options'?)"),
    (lambda d: d["scenarios"][0].pop("add_options"), "field 'add_options': missing or not a list"),
    (lambda d: d["scenarios"][0]["add_options"][0].update(id="near"),
     "scenario 'more' (scenarios[0]): option 'near' (add_options[0]): field 'id': already an option of the problem"),
    (lambda d: d["scenarios"][0]["add_options"][0].update(places="four"),
     "scenario 'more' (scenarios[0]): option 'new-1' (add_options[0]): field 'places'"),
    (lambda d: d["scenarios"][0]["add_options"][0].update(needs_met=["bsll"]), "did you mean 'bsl'?"),
    (lambda d: d["scenarios"][0]["add_options"].append(dict(d["scenarios"][0]["add_options"][0])),
     "option 'new-1' (add_options[1]): field 'id': duplicate id (also add_options[0])"),
    (lambda d: d["scenarios"][0]["add_options"][0].update(for_request="R9"), "field 'for_request': only a connected"),
    (lambda d: d["scenarios"][0]["add_options"][0].update(for_request="R9", kind="connected_person",
                                                          connected_stage="approved"),
     "field 'for_request': no request with id 'R9'"),
    (lambda d: d["requests"][0].update(urgency="soon"), "request 'R1' (requests[0]): field 'urgency'"),
])
def test_a_bad_file_is_one_message_naming_the_scenario_and_the_field_and_nothing_else(tmp_path, change, where):
    children, options = three_children_two_places()
    data = problem_file(children, options, [
        {"id": "more", "add_options": [option_record(make_option(id="new-1"))]}])
    change(data)
    with pytest.raises(ProblemError):
        whatif_problem(data)
    result = run_cli(tmp_path, data)
    assert result.returncode == 2
    assert result.stdout == ""
    assert where in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_a_file_that_is_not_json_is_refused_clearly(tmp_path):
    result = run_cli(tmp_path, '{"requests": [')
    assert result.returncode == 2 and result.stdout == ""
    assert "not valid JSON" in result.stderr


def test_the_summary_counts_each_child_of_a_sibling_group_and_each_childs_fee():
    sisters = [make_request(id=f"S{i}", sibling_group="G", arrival_order=i) for i in (1, 2)]
    home = make_option(id="home", places=2, fee_gbp_week=850.5, takes_siblings=True)
    out = whatif_problem(problem_file(sisters, [], [{"id": "a home for two", "add_options": [option_record(home)]}]))
    assert out["baseline"]["children_placed"] == 0 and out["baseline"]["fee_gbp_week"] == 0.0
    assert out["scenarios"][0]["children_placed"] == 2
    assert out["scenarios"][0]["fee_gbp_week"] == 1701.0
    assert out["scenarios"][0]["placed_own_la"] == 2 and COVENTRY == home.la
