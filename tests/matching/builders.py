"""Plain builders and Hypothesis strategies for the matching core's tests (pure: no app, no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import strategies as st

from portal.matching.types import GridPoint, OptionSpec, RequestSpec

DAY = date(2026, 3, 2)
COVENTRY, BIRMINGHAM, WARWICKSHIRE = "E08000026", "E08000025", "E10000031"
HOME = GridPoint(433_000, 279_000)


def east(point: GridPoint, metres: int) -> GridPoint:
    return GridPoint(point.easting + metres, point.northing)


def make_request(**changes) -> RequestSpec:
    """A 12-year-old girl in Coventry needing a home today: suitable for foster care and children's homes."""
    base = RequestSpec(
        id="R1", la=COVENTRY, home=HOME, age_years=12, sex="female", needed_by=DAY, urgency="today",
        suitability={"foster": "suitable", "residential": "suitable", "supported": "unsuitable"},
    )
    return replace(base, **changes)


def make_option(**changes) -> OptionSpec:
    """An agency foster carer 1 mile east of HOME in Coventry with one place, taking children of any age."""
    base = OptionSpec(
        id="O1", kind="foster", provider_code="PR4", la=COVENTRY, location=east(HOME, 1_609), places=1,
        available_from=DAY - timedelta(days=7), age_min=0, age_max=17, sexes=frozenset({"female", "male"}),
        ofsted=None, fee_gbp_week=None,
    )
    return replace(base, **changes)


def make_connected(**changes) -> OptionSpec:
    values = {"id": "C1", "kind": "connected_person", "for_request": "R1", "connected_stage": "approved",
              "provider_code": "PR1"}
    values.update(changes)
    return make_option(**values)


# ---------------------------------------------------------------------------------------------- strategies

LAS = (COVENTRY, BIRMINGHAM, WARWICKSHIRE)
NEED_CODES = ("bsl", "therapeutic_support", "school_transport")
RISK_CODES = ("self_harm", "going_missing", "others_fire")
URGENCIES = ("today", "within_5_days", "over_5_days")


@st.composite
def grid_points(draw, spread: int = 40_000) -> GridPoint:
    return GridPoint(HOME.easting + draw(st.integers(-spread, spread)),
                     HOME.northing + draw(st.integers(-spread, spread)))


def mostly(usual, *rare, weight: int = 4):
    """A strategy drawing `usual` `weight` times as often as each rare value (rules should mostly pass, so that
    both eligible options and exclusions turn up)."""
    return st.sampled_from([usual] * weight + list(rare))


@st.composite
def requests(draw, rid: str = "R1", sibling_group: str | None = None) -> RequestSpec:
    age = draw(st.integers(0, 17))
    level = mostly("suitable", "preferred", "unsuitable", weight=3)
    keep_school = draw(st.booleans())
    return RequestSpec(
        id=rid, la=draw(st.sampled_from(LAS)), home=draw(grid_points()),
        school=draw(grid_points(5_000)) if keep_school else None, keep_school=keep_school,
        age_years=age, sex=draw(st.sampled_from(["female", "male"])),
        needed_by=DAY + timedelta(days=draw(st.integers(0, 10))), urgency=draw(st.sampled_from(URGENCIES)),
        suitability={"foster": draw(level), "residential": draw(level), "supported": draw(level)},
        needs=frozenset(draw(mostly((), *[(c,) for c in NEED_CODES], weight=6))),
        risks=frozenset(draw(mostly((), *[(c,) for c in RISK_CODES], weight=6))),
        sibling_group=sibling_group,
        budget_gbp_week=draw(st.sampled_from([None, 600.0, 3000.0])),
        language=draw(st.sampled_from([None, "Polish"])),
        religion=draw(st.sampled_from([None, "Muslim"])),
        cultural_needs=draw(st.sampled_from(["required", "not_known"])),
        pets=draw(mostly("unknown", "no", "must")),
        living_companions=draw(mostly("no_preference", "solo", weight=8)),
        avoid_las=frozenset(draw(mostly((), *[(la,) for la in LAS], weight=6))),
        family=draw(st.none() | grid_points()),
    )


@st.composite
def options(draw, oid: str = "O1", request_ids: tuple[str, ...] = ()) -> OptionSpec:
    kinds = ["foster", "foster", "residential", "supported"] + (["connected_person"] if request_ids else [])
    kind = draw(st.sampled_from(kinds))
    lo = draw(mostly(0, 5, 11, 16, weight=3))
    hi = max(lo, draw(mostly(17, 10, 15, weight=3)))
    cp = kind == "connected_person"
    return OptionSpec(
        id=oid, kind=kind, for_request=draw(st.sampled_from(request_ids)) if cp else None,
        connected_stage=draw(mostly("approved", "identified", "viability", "temporary_approval", weight=2))
        if cp else None,
        provider_code=draw(st.sampled_from(["PR1", "PR2", "PR4", "PR5"])),
        provider_approved=draw(mostly(True, False, weight=8)),
        la=draw(st.sampled_from(LAS)), location=draw(grid_points()), places=draw(mostly(1, 0, 2, 3, weight=2)),
        available_from=DAY + timedelta(days=draw(mostly(-3, 4, 8, -10))), age_min=lo, age_max=hi,
        sexes=frozenset(draw(mostly(("female", "male"), ("female",), ("male",)))),
        needs_met=frozenset(draw(st.sets(st.sampled_from(NEED_CODES)))),
        risks_managed=frozenset(draw(st.sets(st.sampled_from(RISK_CODES)))),
        ofsted=draw(st.sampled_from([None, "outstanding", "good", "good", "requires_improvement", "inadequate"])),
        fee_gbp_week=draw(st.sampled_from([None, 400.0, 900.0, 2500.0, 5000.0])),
        languages=frozenset(draw(st.sets(st.sampled_from(["polish", "Urdu"]), max_size=1))),
        religions=frozenset(draw(st.sets(st.sampled_from(["Muslim", "Christian"]), max_size=1))),
        has_pets=draw(mostly(False, True, weight=3)), takes_siblings=draw(mostly(True, False)),
        solo_only=draw(mostly(False, True)), stale=draw(st.booleans()),
    )


@st.composite
def problems(draw, max_requests: int = 5, max_options: int = 8, lenient: bool = False,
             sizes: tuple[int, ...] = (1, 1, 1, 2, 3)):
    """(requests, options) with sibling groups and connected persons; `lenient` makes most pairs eligible."""
    n = draw(st.integers(1, max_requests))
    reqs = []
    group_sizes = []
    i = 0
    while i < n:
        size = draw(st.sampled_from(sizes))
        size = min(size, n - i)
        group = f"G{i}" if size > 1 else None
        for _ in range(size):
            reqs.append(draw(requests(rid=f"R{i + 1}", sibling_group=group)))
            i += 1
        group_sizes.append(size)
    ids = tuple(r.id for r in reqs)
    opts = [draw(options(oid=f"O{j + 1}", request_ids=ids)) for j in range(draw(st.integers(1, max_options)))]
    if lenient:
        reqs = [replace(r, needs=frozenset(), risks=frozenset(), pets="unknown", living_companions="no_preference",
                        avoid_las=frozenset(), suitability={"foster": "suitable", "residential": "suitable",
                                                            "supported": "suitable"}, age_years=16)
                for r in reqs]
        opts = [replace(o, provider_approved=True, ofsted=None if o.ofsted == "inadequate" else o.ofsted,
                        age_min=0, age_max=17, sexes=frozenset({"female", "male"}), has_pets=False,
                        available_from=DAY - timedelta(days=1), solo_only=False, takes_siblings=True,
                        places=max(o.places, 1))
                for o in opts]
    return reqs, opts


@st.composite
def contended(draw, max_requests: int = 7, max_options: int = 3):
    """Few places, sibling groups and mostly-eligible pairs: where the flow relaxation splits groups and the
    solver has to repair, and where urgency decides who is placed."""
    reqs, opts = draw(problems(max_requests=max_requests, max_options=max_options, lenient=True,
                               sizes=(1, 1, 2, 2, 3)))
    opts = [replace(o, places=draw(st.sampled_from([1, 2, 2, 3])), kind=draw(st.sampled_from(["foster",
            "residential"])) if o.kind != "connected_person" else o.kind,
                    connected_stage=o.connected_stage, takes_siblings=draw(mostly(True, False)))
            for o in opts]
    return reqs, opts
