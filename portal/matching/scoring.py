"""Soft scores (DESIGN.md §4): integer points with a reason each, for an option that passed the hard rules.

Each criterion has a points formula written with NumPy operations, so the same formula scores one option here
(the scalar reference, `score_option`) and ten thousand at once in rank.py, plus a sentence saying why. A part is
listed only when it carries points, except `distance`, which always is (the officer wants the distance).

The parts, in the order they are listed:

=====================  =================================================================================
criterion              points (defaults in policy.py)
=====================  =================================================================================
connected_person       +connected_person_points for an eligible connected person (tier bonus: s22C first)
setting_type           s22C order: LA foster carer > agency foster carer > children's home > supported
preferred_setting      the child's plan marks this setting type preferred
own_la                 inside the child's own local authority
distance               -distance_points_per_mile per whole mile from home, capped
over_20_miles          more than far_distance_miles from home (flag over_20_miles; the DfE's 20-mile line)
school_distance        child keeps their school: -school_points_per_mile per whole mile from it, capped, on top
                       of the distance from home (so closer to both never scores less)
near_family            within near_family_miles of the child's family
siblings_together      takes the whole sibling group together
ofsted                 Ofsted rating
budget                 weekly fee within the request's budget, or over it: -over_budget_penalty_per_percent
                       per started 1% of the budget over, capped (flag over_budget)
regional_median        weekly fee at or below / well above the regional median for the kind of option
stale_vacancy          the vacancy has not been confirmed recently (flag stale_vacancy)
language / religion    the option lists the child's language / religion
culture                cultural needs required and the language or religion matches
=====================  =================================================================================

A sibling group to be placed together is scored as one unit (issue 11 §1): its score for an option is the sum of
every sibling's own score there, the same sum the region-wide allocation maximises, so the page and the allocation
rank a group's options alike. Its parts are the siblings' parts criterion by criterion: a part every sibling has
alike is listed once with its points times the number of children ("4.2 miles from home (-4 each, for both
children)"); a part that differs is listed per child, naming them ("Girl aged 8: 1.3 miles from the child's
school"). Its flags are every sibling's flags; its distance is the longest of the siblings' distances (from home,
and from school among those keeping their school). `merge_matches` does this for both the scalar reference
(`score_group`) and rank.py.

Distances are the SSDA903 PL_DISTANCE: straight line on the OS grid, metres / 1609.344, rounded to one decimal
place. Inside the core a distance is carried as an integer number of tenths of a mile.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import median

import numpy as np

from . import vocabulary as vocab
from .eligibility import Group, member_labels
from .policy import Policy
from .types import GridPoint, Match, OptionSpec, RequestSpec, ScorePart

__all__ = [
    "CRITERIA",
    "FLAGS",
    "METRES_PER_MILE",
    "RequestContext",
    "distance_tenths",
    "miles",
    "regional_medians",
    "s22c_class",
    "merge_matches",
    "merge_parts",
    "score_group",
    "score_option",
]

METRES_PER_MILE = 1609.344

CRITERIA: tuple[str, ...] = (
    "connected_person", "setting_type", "preferred_setting", "own_la", "distance", "over_20_miles",
    "school_distance", "near_family", "siblings_together", "ofsted", "budget", "regional_median", "stale_vacancy",
    "language", "religion", "culture",
)

# Flags, as bits (rank.py keeps them as an integer per match).
FLAGS: tuple[str, ...] = ("outside_la", "over_20_miles", "over_budget", "far_from_school", "stale_vacancy")

SETTING_TYPE_INDEX = {name: i for i, name in enumerate(vocab.SETTING_TYPES)}  # foster 0, residential 1, supported 2
S22C_CLASSES: tuple[str, ...] = ("la_foster", "agency_foster", "residential", "supported", "connected_person")
OFSTED_CODES: tuple[str | None, ...] = ("outstanding", "good", "requires_improvement", "inadequate", None)
KINDS: tuple[str, ...] = tuple(vocab.OPTION_KINDS)  # foster, residential, supported, connected_person
LA_PROVIDER_CODES = frozenset({"PR1", "PR2"})  # SSDA903: own LA provision, other LA provision

_KIND_PLURAL = {
    "foster": "foster care",
    "residential": "children's homes",
    "supported": "supported accommodation",
    "connected_person": "connected persons",
}


# ------------------------------------------------------------------------------------------------- distance

def distance_tenths(a: GridPoint, b: GridPoint) -> int:
    """SSDA903 PL_DISTANCE between two grid points, in tenths of a mile (round to one decimal place)."""
    de = int(a.easting) - int(b.easting)
    dn = int(a.northing) - int(b.northing)
    return round(round(math.sqrt(de * de + dn * dn) / METRES_PER_MILE, 1) * 10)


def distance_tenths_array(e: np.ndarray, n: np.ndarray, point: GridPoint) -> np.ndarray:
    """`distance_tenths` for arrays of eastings and northings (int64), exactly as the scalar version rounds."""
    de = e - int(point.easting)
    dn = n - int(point.northing)
    x = np.sqrt((de * de + dn * dn).astype(np.float64)) / METRES_PER_MILE
    x10 = x * 10.0
    tenths = np.rint(x10).astype(np.int64)
    # np.rint(x*10) and Python's round(x, 1) can differ only when x*10 is within rounding error of a half:
    # redo those (almost never any) the scalar way so both paths agree to the last tenth.
    near_half = np.flatnonzero(np.abs(x10 - np.floor(x10) - 0.5) < 1e-6)
    for i in near_half.tolist():
        tenths[i] = round(round(float(x[i]), 1) * 10)
    return tenths


def miles(tenths: int) -> float:
    return tenths / 10


def _miles_text(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10}"


def _miles_limit(value: float) -> int:
    """A policy distance in miles as tenths (thresholds compare against rounded 903 distances)."""
    return round(value * 10)


def _money(value: float) -> str:
    return f"\u00a3{value:,.0f}" if float(value).is_integer() else f"\u00a3{value:,.2f}"


def _percent(share: float) -> str:
    """A share as a percentage to one decimal place, never shown as 0.0% when it is more than nothing."""
    return f"{share * 100:.1f}%" if share >= 0.0005 else "less than 0.1%"


def fee_pence(fee: float) -> int:
    return round(fee * 100)


# ------------------------------------------------------------------------------------------- regional median

def regional_medians(options: Iterable[OptionSpec]) -> dict[str, float]:
    """Median weekly fee per kind of option, over the options given that have a fee."""
    fees: dict[str, list[float]] = {}
    for option in options:
        if option.fee_gbp_week is not None:
            fees.setdefault(option.kind, []).append(float(option.fee_gbp_week))
    return {kind: float(median(values)) for kind, values in fees.items()}


def median_status(fee: float | None, median_fee: float | None, policy: Policy) -> int:
    """0 no part, 1 at or below the median, 2 more than above_median_ratio times the median."""
    if fee is None or median_fee is None:
        return 0
    if fee <= median_fee:
        return 1
    if fee > median_fee * policy.above_median_ratio:
        return 2
    return 0


def s22c_class(option: OptionSpec) -> int:
    """Index into S22C_CLASSES. LA foster carers are foster options run by a local authority (903 PR1/PR2)."""
    if option.kind == "connected_person":
        return 4
    if option.kind == "foster":
        return 0 if option.provider_code in LA_PROVIDER_CODES else 1
    return 2 if option.kind == "residential" else 3


# ---------------------------------------------------------------------------------------- request context

@dataclass(frozen=True)
class RequestContext:
    """What the score formulas need to know about one request (built once per request)."""

    request: RequestSpec
    policy: Policy
    group: Group
    setting_points: np.ndarray  # by S22C_CLASSES index
    preferred_points: np.ndarray  # by SETTING_TYPE_INDEX
    ofsted_points: np.ndarray  # by OFSTED_CODES index
    far_limit: int
    school_far_limit: int
    family_limit: int
    budget_pence: int  # -1 when no budget

    @classmethod
    def build(cls, request: RequestSpec, policy: Policy, group: Group) -> RequestContext:
        setting = policy.setting_type_points()
        ofsted = policy.ofsted_points()
        return cls(
            request=request,
            policy=policy,
            group=group,
            setting_points=np.array([setting[c] for c in S22C_CLASSES[:4]] + [0], dtype=np.int64),
            preferred_points=np.array(
                [policy.preferred_setting_points if request.suitability.get(t) == "preferred" else 0
                 for t in vocab.SETTING_TYPES], dtype=np.int64),
            ofsted_points=np.array([ofsted.get(code, 0) if code != "inadequate" else 0 for code in OFSTED_CODES],
                                   dtype=np.int64),
            far_limit=_miles_limit(policy.far_distance_miles),
            school_far_limit=_miles_limit(policy.school_far_miles),
            family_limit=_miles_limit(policy.near_family_miles),
            budget_pence=fee_pence(request.budget_gbp_week) if request.budget_gbp_week is not None else -1,
        )

    @property
    def keeps_school(self) -> bool:
        return self.request.keep_school and self.request.school is not None


# ---------------------------------------------------------------------------------------------- formulas
# Each takes an int or an int64 array "param" and returns points of the same shape.

def connected_person_points(stage, ctx: RequestContext):
    """`stage` is 0 for any other option, 1 + the stage's index for a connected person (eligible ones only)."""
    return np.where(stage > 0, ctx.policy.connected_person_points, 0)


def setting_type_points(s22c, ctx: RequestContext):
    return ctx.setting_points[s22c]


def preferred_setting_points(setting_type, ctx: RequestContext):
    return ctx.preferred_points[setting_type]


def own_la_points(inside, ctx: RequestContext):
    return np.where(inside, ctx.policy.own_la_points, 0)


def distance_points(tenths, ctx: RequestContext):
    # Per whole mile of the 903 distance, capped: monotone non-increasing in distance, so moving an option closer
    # to home never lowers this part.
    p = ctx.policy
    return -np.minimum(p.distance_penalty_cap, tenths // 10 * p.distance_points_per_mile)


def over_20_miles_points(far, ctx: RequestContext):
    """`far` is 1 when the distance is over `far_distance_miles` (tenths > ctx.far_limit)."""
    return np.where(far, -ctx.policy.over_20_miles_penalty, 0)


def school_distance_points(tenths, ctx: RequestContext):
    """`tenths` is -1 when the child is not keeping a school (no part)."""
    # Counted on top of the distance from home (s22C(8)(a) and (b) both): each part is monotone in its own
    # distance, so moving an option closer to both home and school never lowers the score.
    p = ctx.policy
    return np.where(tenths >= 0, -np.minimum(p.school_penalty_cap, np.maximum(tenths, 0) // 10
                                             * p.school_points_per_mile), 0)


def near_family_points(near, ctx: RequestContext):
    return np.where(near, ctx.policy.near_family_points, 0)


def siblings_points(together, ctx: RequestContext):
    return np.where(together, ctx.policy.siblings_together_points, 0)


def ofsted_points(code, ctx: RequestContext):
    return ctx.ofsted_points[code]


def percent_over_budget(fee_pence, budget_pence: int):
    """Whole percent (rounded up) by which a fee is over the budget: 1 for any excess up to 1%; 0 within it.
    A budget of nothing makes every fee over it by the most the penalty counts."""
    if budget_pence <= 0:
        return np.where(fee_pence > 0, 10**6, 0)
    return np.maximum(0, (100 * (fee_pence - budget_pence) + budget_pence - 1) // budget_pence)


def budget_points(param, ctx: RequestContext):
    """`param` = fee in pence * 4 + status (0 no budget or no fee, 1 within budget, 2 over budget).

    Over the budget the penalty grows with the excess (per started 1% of the budget, capped), not a flat step:
    non-increasing in the fee, so a cheaper option never scores less for its fee."""
    p = ctx.policy
    status = param & 3
    over = np.minimum(p.over_budget_penalty_cap,
                      percent_over_budget(param >> 2, ctx.budget_pence) * p.over_budget_penalty_per_percent)
    return np.where(status == 1, p.within_budget_points, np.where(status == 2, -over, 0))


def median_points(param, ctx: RequestContext):
    """`param` = ((fee in pence * 4 + kind index) * 4 + median status); see `median_param`."""
    status = param & 3
    return np.where(status == 1, ctx.policy.below_median_points,
                    np.where(status == 2, -ctx.policy.above_median_penalty, 0))


def stale_points(stale, ctx: RequestContext):
    return np.where(stale, -ctx.policy.stale_penalty, 0)


def language_points(hit, ctx: RequestContext):
    return np.where(hit, ctx.policy.language_points, 0)


def religion_points(hit, ctx: RequestContext):
    return np.where(hit, ctx.policy.religion_points, 0)


def culture_points(hit, ctx: RequestContext):
    return np.where(hit, ctx.policy.culture_points, 0)


FORMULAS = {
    "connected_person": connected_person_points,
    "setting_type": setting_type_points,
    "preferred_setting": preferred_setting_points,
    "own_la": own_la_points,
    "distance": distance_points,
    "over_20_miles": over_20_miles_points,
    "school_distance": school_distance_points,
    "near_family": near_family_points,
    "siblings_together": siblings_points,
    "ofsted": ofsted_points,
    "budget": budget_points,
    "regional_median": median_points,
    "stale_vacancy": stale_points,
    "language": language_points,
    "religion": religion_points,
    "culture": culture_points,
}
ALWAYS_SHOWN = frozenset({"distance"})


# ------------------------------------------------------------------------------------------------ sentences

def median_param(fee: float | None, kind: str, medians: Mapping[str, float], policy: Policy) -> int:
    """The integer the regional_median part is scored and explained from (0: no part)."""
    status = median_status(fee, medians.get(kind), policy)
    if fee is None or status == 0:
        return 0
    return (fee_pence(fee) * 4 + KINDS.index(kind)) * 4 + status


def cp_param(option: OptionSpec) -> int:
    if option.kind != "connected_person":
        return 0
    return 1 + tuple(vocab.CONNECTED_PERSON_STAGES).index(option.connected_stage)


def reason(criterion: str, param: int, ctx: RequestContext, medians: Mapping[str, float]) -> str:
    """The sentence for one score part. `param` is the same integer the formula scored."""
    p, r = ctx.policy, ctx.request
    if criterion == "connected_person":
        stage = tuple(vocab.CONNECTED_PERSON_STAGES)[param - 1]
        return f"Connected person ({vocab.CONNECTED_PERSON_STAGES[stage]}): family and friends come first (s22C)"
    if criterion == "setting_type":
        return (
            "Local authority foster carer (s22C: foster carers of a local authority come first)",
            "Agency foster carer (s22C: after local authority foster carers)",
            "Children's home (s22C: after foster care)",
            "Supported accommodation (s22C: after foster care and children's homes)",
            "Connected person",
        )[param]
    if criterion == "preferred_setting":
        setting_type = tuple(vocab.SETTING_TYPES)[param]
        return f"{vocab.SETTING_TYPES[setting_type]} is the preferred setting type in the child's plan"
    if criterion == "own_la":
        return "In the child's own local authority"
    if criterion == "distance":
        return f"{_miles_text(param)} miles from home"
    if criterion == "over_20_miles":
        return f"More than {p.far_distance_miles:g} miles from home"
    if criterion == "school_distance":
        return f"{_miles_text(param)} miles from the child's school"
    if criterion == "near_family":
        return f"Within {p.near_family_miles:g} miles of the child's family"
    if criterion == "siblings_together":
        return f"Takes all {ctx.group.size} siblings together"
    if criterion == "ofsted":
        code = OFSTED_CODES[param]
        return f"Ofsted: {vocab.OFSTED_RATINGS[code]}" if code else "Not rated by Ofsted"
    if criterion == "budget":
        fee, status = (param >> 2) / 100, param & 3
        budget = r.budget_gbp_week or 0
        if status == 1:
            return f"{_money(fee)} a week, within the budget of {_money(budget)} a week"
        # the penalty grows with the excess, so the sentence says how much it is
        excess = ((param >> 2) - ctx.budget_pence) / 100
        share = f" ({_percent(excess / budget)})" if budget > 0 else ""
        return f"{_money(fee)} a week, {_money(excess)}{share} over the budget of {_money(budget)} a week"
    if criterion == "regional_median":
        fee, kind, status = (param >> 4) / 100, KINDS[(param >> 2) & 3], param & 3
        group, median_fee = _KIND_PLURAL[kind], medians[kind]
        if status == 1:
            return f"{_money(fee)} a week, at or below the regional median for {group} ({_money(median_fee)})"
        over = round((p.above_median_ratio - 1) * 100)
        return (f"{_money(fee)} a week, more than {over}% above the regional median for {group} "
                f"({_money(median_fee)})")
    if criterion == "stale_vacancy":
        return "Vacancy not confirmed recently"
    if criterion == "language":
        return f"Speaks the child's language ({r.language})"
    if criterion == "religion":
        return f"Can support the child's religion ({r.religion})"
    if criterion == "culture":
        return "Can meet the child's cultural needs (language or religion)"
    raise KeyError(criterion)


# ---------------------------------------------------------------------------------------- scalar reference

def _casefold(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.casefold() for v in values)


def score_option(request: RequestSpec, option: OptionSpec, policy: Policy, medians: Mapping[str, float],
                 group: Group | None = None, ctx: RequestContext | None = None) -> Match:
    """Score one option the hard rules let through (scalar reference; rank.py does the same on arrays).

    `medians` are the regional median fees per kind (`regional_medians(all_options)`).
    """
    group = group or Group(frozenset({request.id}))
    ctx = ctx or RequestContext.build(request, policy, group)
    tenths = distance_tenths(request.home, option.location)
    school = distance_tenths(request.school, option.location) if ctx.keeps_school else -1
    near = (request.family is not None and distance_tenths(request.family, option.location) <= ctx.family_limit)
    fee = option.fee_gbp_week
    if fee is not None and ctx.budget_pence >= 0:
        budget_param = fee_pence(fee) * 4 + (1 if fee_pence(fee) <= ctx.budget_pence else 2)
    else:
        budget_param = 0
    language = (request.language is not None and request.language.casefold() in _casefold(option.languages))
    religion = (request.religion is not None and request.religion.casefold() in _casefold(option.religions))
    culture = request.cultural_needs == "required" and (language or religion)

    params = {
        "connected_person": cp_param(option),
        "setting_type": s22c_class(option),
        "preferred_setting": SETTING_TYPE_INDEX[option.setting_type],
        "own_la": int(option.la == request.la),
        "distance": tenths,
        "over_20_miles": int(tenths > ctx.far_limit),
        "school_distance": school,
        "near_family": int(near),
        "siblings_together": int(group.size > 1),
        "ofsted": OFSTED_CODES.index(option.ofsted),
        "budget": budget_param,
        "regional_median": median_param(fee, option.kind, medians, policy),
        "stale_vacancy": int(option.stale),
        "language": int(language),
        "religion": int(religion),
        "culture": int(culture),
    }
    parts = []
    for criterion in CRITERIA:
        param = params[criterion]
        points = int(FORMULAS[criterion](param, ctx))
        if points or criterion in ALWAYS_SHOWN:
            parts.append(ScorePart(criterion, points, reason(criterion, param, ctx, medians)))
    flags = set()
    if option.la != request.la:
        flags.add("outside_la")
    if tenths > ctx.far_limit:
        flags.add("over_20_miles")
    if budget_param & 3 == 2:
        flags.add("over_budget")
    if school > ctx.school_far_limit:
        flags.add("far_from_school")
    if option.stale:
        flags.add("stale_vacancy")
    return Match(
        option=option.id,
        score=sum(part.points for part in parts),
        parts=tuple(parts),
        flags=frozenset(flags),
        distance_miles=miles(tenths),
        school_distance_miles=miles(school) if school >= 0 else None,
    )



def _each(points: int, n: int) -> str:
    who = "for both children" if n == 2 else f"for all {n} children"
    return f"({points:+d} each, {who})"


def merge_parts(labels: Sequence[str], criterion: str, found: Sequence[ScorePart | None]) -> tuple[ScorePart, ...]:
    """A sibling group's parts for one criterion from each member's part (None: the member has none): one part
    "(+n each, for both children)" when every member has the same, else one per member that has one, labelled."""
    if all(p is None for p in found):
        return ()
    n = len(found)
    first = found[0]
    if first is not None and all(p == first for p in found[1:]):
        return (ScorePart(criterion, first.points * n, f"{first.reason} {_each(first.points, n)}"),)
    return tuple(ScorePart(criterion, p.points, f"{label}: {p.reason}") for label, p in zip(labels, found)
                 if p is not None)


def merge_matches(labels: Sequence[str], per_member: Sequence[Match]) -> Match:
    """One sibling group's match for an option from each member's own (see the module docstring)."""
    if len(per_member) == 1:
        return per_member[0]
    parts: list[ScorePart] = []
    for criterion in CRITERIA:
        found = [next((p for p in m.parts if p.criterion == criterion), None) for m in per_member]
        parts.extend(merge_parts(labels, criterion, found))
    schools = [m.school_distance_miles for m in per_member if m.school_distance_miles is not None]
    return Match(
        option=per_member[0].option,
        score=sum(m.score for m in per_member),
        parts=tuple(parts),
        flags=frozenset().union(*(m.flags for m in per_member)),
        distance_miles=max(m.distance_miles for m in per_member),
        school_distance_miles=max(schools) if schools else None,
    )


def score_group(members: Sequence[RequestSpec], option: OptionSpec, policy: Policy,
                medians: Mapping[str, float]) -> Match:
    """Score one option for a sibling group placed together, `members` in the group's order (scalar reference)."""
    group = Group(frozenset(m.id for m in members))
    return merge_matches(member_labels(members), [score_option(m, option, policy, medians, group) for m in members])
