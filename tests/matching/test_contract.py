"""The headless contract: problem files, rank_problem/allocate_problem, and `python -m portal.matching`."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.matching import ProblemError, allocate_problem, parse_problem, rank_problem

ROOT = Path(__file__).resolve().parents[2]

PROBLEM = {
    "policy": {"own_la_points": 25},
    "requests": [
        {"id": "R1", "la": "E08000026", "home": {"postcode": "CV1 2AB"}, "keep_school": True,
         "school": {"easting": 433000, "northing": 280000}, "age_years": 9, "sex": "female",
         "needed_by": "2026-03-02", "urgency": "today",
         "suitability": {"foster": "preferred", "residential": "unsuitable", "supported": "unsuitable"},
         "needs": ["therapeutic_support"], "risks": [], "sibling_group": "G1", "budget_gbp_week": 900},
        {"id": "R2", "la": "E08000026", "home": {"postcode": "CV1 2AB"}, "age_years": 11, "sex": "male",
         "needed_by": "2026-03-02", "urgency": "today",
         "suitability": {"foster": "preferred", "residential": "suitable", "supported": "unsuitable"},
         "needs": [], "risks": [], "sibling_group": "G1", "budget_gbp_week": 900},
        {"id": "R3", "la": "E08000025", "home": {"easting": 407000, "northing": 287000}, "age_years": 15,
         "sex": "male", "needed_by": "2026-03-05", "urgency": "within_5_days",
         "suitability": {"foster": "suitable", "residential": "suitable", "supported": "unsuitable"},
         "needs": [], "risks": ["going_missing"], "sibling_group": None, "budget_gbp_week": None},
    ],
    "options": [
        {"id": "gran", "kind": "connected_person", "for_request": "R2", "connected_stage": "viability",
         "provider_code": "PR1", "la": "E10000031", "location": {"easting": 440000, "northing": 265000},
         "places": 2, "available_from": "2026-03-01", "age_min": 0, "age_max": 17, "sexes": ["female", "male"],
         "needs_met": ["therapeutic_support"], "risks_managed": [], "ofsted": None, "fee_gbp_week": 250},
        {"id": "la-carer", "kind": "foster", "provider_code": "PR1", "la": "E08000026",
         "location": {"easting": 435500, "northing": 279500}, "places": 2, "available_from": "2026-02-20",
         "age_min": 5, "age_max": 16, "sexes": ["female", "male"], "needs_met": ["therapeutic_support"],
         "risks_managed": ["going_missing"], "ofsted": None, "fee_gbp_week": 450},
        {"id": "home", "kind": "residential", "provider_code": "PR4", "la": "E08000025",
         "location": {"easting": 405000, "northing": 290000}, "places": 3, "available_from": "2026-03-01",
         "age_min": 11, "age_max": 17, "sexes": ["male"], "needs_met": [], "risks_managed": ["going_missing"],
         "ofsted": "good", "fee_gbp_week": 4800},
    ],
}


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "portal.matching", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, timeout=120, check=False)


def test_rank_problem_shape():
    result = rank_problem(PROBLEM, exclusions="all")
    assert [r["request"] for r in result["results"]] == ["R1", "R2", "R3"]
    r1 = result["results"][0]
    assert [m["option"] for m in r1["matches"]] == ["gran", "la-carer"]  # the connected person first
    # R1 and R2 are a sibling group placed together: one list for both, each reason naming the child it holds for
    assert r1["excluded"] == [{"option": "home", "reasons": [
        "Girl aged 9: Residential care (children's home) is marked unsuitable for this child",
        "Girl aged 9: Age 9 is outside the setting's age range 11\u201317", "Girl aged 9: This setting does not take girls",
        "Girl aged 9: Needs not met: Therapeutic support"]}]
    r2 = result["results"][1]
    assert {**r2, "request": "R1"} == r1
    for match in r1["matches"]:
        assert set(match) >= {"option", "score", "parts", "flags", "distance_miles"}
        assert match["score"] == sum(p["points"] for p in match["parts"])
    r3 = result["results"][2]
    assert r3["matches"][0]["option"] == "home" and "outside_la" not in r3["matches"][0]["flags"]
    assert "outside_la" in r3["matches"][1]["flags"]


def test_allocate_problem_places_the_siblings_with_their_connected_person():
    result = allocate_problem(PROBLEM)
    assert result["assignments"] == [{"request": "R1", "option": "gran"}, {"request": "R2", "option": "gran"},
                                     {"request": "R3", "option": "home"}]
    assert result["status"] == "optimal" and result["bound"] == result["objective"] and result["gap"] == 0


@pytest.mark.parametrize("command, function", [("rank", rank_problem), ("allocate", allocate_problem)])
def test_the_cli_prints_exactly_what_the_functions_return(tmp_path, command, function):
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(PROBLEM))
    done = run_cli(command, str(path))
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert done.stdout == (json.dumps(function(PROBLEM), ensure_ascii=False) + "\n").encode("utf-8")
    piped = run_cli(command, "-", "--pretty", stdin=json.dumps(PROBLEM).encode())
    assert json.loads(piped.stdout) == function(PROBLEM)


@pytest.mark.parametrize("mode", ["none", "counts", "all"])
def test_the_rank_cli_says_of_the_excluded_what_it_is_asked(tmp_path, mode):
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(PROBLEM))
    done = run_cli("rank", str(path), "--exclusions", mode, "--limit", "1")
    assert done.returncode == 0, done.stderr
    expected = rank_problem(PROBLEM, exclusions=mode, limit=1)
    assert done.stdout == (json.dumps(expected, ensure_ascii=False) + "\n").encode("utf-8")
    r3 = expected["results"][2]
    assert len(r3["matches"]) == 1
    if mode == "all":
        assert "excluded" in r3 and "exclusion_counts" not in r3
    else:
        assert r3["eligible"] == 2 and r3["eligible"] + r3["ineligible"] == len(PROBLEM["options"])
        assert ("exclusion_counts" in r3) == (mode == "counts")
    default = run_cli("rank", str(path))
    assert json.loads(default.stdout) == rank_problem(PROBLEM, exclusions="counts")
    bad = run_cli("rank", str(path), "--exclusions", "some")
    assert bad.returncode == 2 and bad.stdout == b""


def _broken(change) -> dict:
    problem = copy.deepcopy(PROBLEM)
    change(problem)
    return problem


BAD = [
    ("missing field", lambda p: p["requests"][0].pop("needed_by"),
     "request 'R1' (requests[0]): field 'needed_by': missing (required)"),
    ("unknown code", lambda p: p["requests"][2]["risks"].append("goign_missing"),
     "request 'R3' (requests[2]): field 'risks': unknown code 'goign_missing' (did you mean 'going_missing'?)"),
    ("bad date", lambda p: p["options"][1].update(available_from="2026-02-30"),
     "option 'la-carer' (options[1]): field 'available_from': '2026-02-30' is not a valid date"),
    ("duplicate id", lambda p: p["options"][2].update(id="gran"),
     "option 'gran' (options[2]): field 'id': duplicate id (also options[0])"),
    ("connected person for an unknown request", lambda p: p["options"][0].update(for_request="R9"),
     "option 'gran' (options[0]): field 'for_request': no request with id 'R9' in this problem"),
    ("unknown postcode", lambda p: p["requests"][1].update(home={"postcode": "ZZ9 9ZZ"}),
     "request 'R2' (requests[1]): field 'home.postcode': We could not find the postcode ZZ9 9ZZ"),
    ("unknown policy setting", lambda p: p["policy"].update(own_la_point=5),
     "problem: field 'policy': policy.own_la_point: unknown policy setting (did you mean 'own_la_points'?)"),
]


@pytest.mark.parametrize("case, change, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_named_by_record_and_field(case, change, message):
    problem = _broken(change)
    with pytest.raises(ProblemError) as caught:
        parse_problem(problem)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("case, change, message", BAD[:5], ids=[b[0] for b in BAD[:5]])
def test_the_cli_exits_2_on_bad_input_with_nothing_on_stdout(tmp_path, case, change, message):
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(_broken(change)))
    for command in ("rank", "allocate"):
        done = run_cli(command, str(path))
        assert done.returncode == 2
        assert done.stdout == b""
        assert done.stderr.decode().startswith(f"error: {message}")


def test_the_cli_names_broken_json_and_missing_files(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"requests": [}')
    done = run_cli("rank", str(path))
    assert (done.returncode, done.stdout) == (2, b"")
    assert "not valid JSON" in done.stderr.decode() and "line 1" in done.stderr.decode()
    done = run_cli("allocate", str(tmp_path / "missing.json"))
    assert (done.returncode, done.stdout) == (2, b"")
    assert "cannot read the file" in done.stderr.decode()


def test_more_input_checks():
    with pytest.raises(ProblemError, match=r"options\[1\].*age_max.*below age_min"):
        parse_problem(_broken(lambda p: p["options"][1].update(age_min=12, age_max=10)))
    with pytest.raises(ProblemError, match=r"field 'places': must be a whole number, not True"):
        parse_problem(_broken(lambda p: p["options"][1].update(places=True)))
    with pytest.raises(ProblemError, match=r"field 'nedds': unknown field \(did you mean 'needs'\?\)"):
        parse_problem(_broken(lambda p: p["requests"][0].update(nedds=[])))
    with pytest.raises(ProblemError, match=r"field 'la': unknown code 'Coventry'"):
        parse_problem(_broken(lambda p: p["requests"][0].update(la="Coventry")))
    with pytest.raises(ProblemError, match=r"field 'for_request': only a connected person"):
        parse_problem(_broken(lambda p: p["options"][1].update(for_request="R1")))
    with pytest.raises(ProblemError, match=r"field 'school': missing: keep_school is true"):
        parse_problem(_broken(lambda p: p["requests"][0].pop("school")))
    parsed = parse_problem(PROBLEM)
    assert parsed.requests[0].home.easting == 434134  # CV1 2AB from the ONS postcode directory
    assert parsed.policy.own_la_points == 25
    assert parsed.requests[2].pets == "unknown" and parsed.options[0].connected_stage == "viability"


def test_the_worked_example_in_the_docs_is_real_output():
    """docs/matching.md shows a problem and what rank and allocate print for it: they must stay true."""
    text = (ROOT / "docs" / "matching.md").read_text()
    section = text.split("## A worked example", 1)[1]
    blocks = [block.split("```", 1)[0] for block in section.split("```json\n")[1:4]]
    problem, ranked, allocated = (json.loads(block) for block in blocks)
    assert rank_problem(problem, exclusions="all") == ranked
    assert allocate_problem(problem) == allocated


@pytest.mark.parametrize("mode", ["counts", "all"])
def test_ranking_in_several_processes_writes_the_same_bytes_as_one(tmp_path, mode):
    """The CLI ranks blocks of requests in forked processes, each writing its blocks in turn: the output must be
    what one process writes, and what the functions return, whatever the count (sibling groups cut across
    blocks included)."""
    from bench.matching_bench import synthetic_problem

    from portal.matching.__main__ import RANK_BLOCK

    problem = synthetic_problem(90, 60, seed=1)
    groups = [r["sibling_group"] for r in problem["requests"]]
    assert any(g is not None and g == groups[i + 1] for i, g in enumerate(groups[:-1])
               if (i + 1) % RANK_BLOCK == 0), "a sibling group must straddle two blocks, or that case is untested"
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(problem))
    expected = (json.dumps(rank_problem(problem, exclusions=mode), ensure_ascii=False) + "\n").encode("utf-8")
    for workers in ("1", "2", "3"):
        done = subprocess.run([sys.executable, "-m", "portal.matching", "rank", str(path), "--exclusions", mode],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "PORTAL_RANK_WORKERS": workers},
                              capture_output=True, timeout=120, check=False)
        assert done.returncode == 0 and done.stderr == b"", done.stderr
        assert done.stdout == expected, workers
