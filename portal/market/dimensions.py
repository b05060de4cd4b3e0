"""The categories commissioner tables break down by: each an Axis (keys, totals) with the words people read.

The keys are what queries.py's CASE expressions produce; the labels are what the pages and CSV files show.
"""

from __future__ import annotations

from datetime import date

from portal.market.cube import ALL, Axis
from portal.market.filters import AGE_BANDS, PLACEMENT_TYPES, month_label, month_range, periods, window
from portal.matching import vocabulary as vocab
from portal.models import CONTRACTS, PROVIDER_KINDS

REGION_TOTAL = "region"
BASE = ("month", "la", "age", "type")

TYPE_LABELS = {**PLACEMENT_TYPES, "other": "Other or not recorded"}


def axis_for(name: str, labels: dict[str, str], groups: dict[str, tuple[str, ...]] | None = None) -> Axis:
    leaves = tuple(labels)
    spans = [(key, tuple(leaves.index(m) for m in members)) for key, members in (groups or {}).items()]
    spans.append((ALL, tuple(range(len(leaves)))))
    return Axis(name, leaves, tuple(spans))


# Extra axes: key -> label. Groups are totals besides "all" (for shares such as "of those with a budget").
EXTRAS: dict[str, dict[str, str]] = {
    "urgency": dict(vocab.URGENCY),
    "outcome": {"placed": "Placed", "open": "Still looking", "not_placed": "Closed or withdrawn without a placement"},
    "reentry": {"reentry": "Had left care before", "first": "No confirmed earlier placement ending in leaving care"},
    "inside": {"inside": "Inside the child's own local authority",
               "outside": "Outside the child's own local authority"},
    "distance": {"up_to_20": "Up to 20 miles from home", "over_20": "Over 20 miles from home"},
    "provider_code": dict(vocab.PROVIDER_CODES),
    "contract": {**CONTRACTS, "none": "No provider (family and friends, or parents)"},
    "provider_kind": {**PROVIDER_KINDS, "none": "No provider (family and friends, or parents)"},
    "ofsted": {**vocab.OFSTED_RATINGS, "not_rated": "Not rated (or not an Ofsted-registered setting)"},
    "budget": {"over": "Over the request's budget", "within": "Within the request's budget",
               "no_budget": "No budget recorded", "no_cost": "No weekly cost recorded"},
    "high_cost": {"high": "£10,000 a week or more", "below": "Under £10,000 a week"},
    "family": {"family_friends": "With family and friends (connected persons, 903 U1-U3)", "other": "Other placements"},
    "siblings": {"together": "Placed with brothers or sisters", "apart": "Placed apart from brothers and sisters",
                 "not_in_group": "Not in a sibling group"},
    "stability": {"moved": "Ended within 12 months: moved to another placement",
                  "ended": "Ended within 12 months: left care",
                  "continuing": "Lasted 12 months or is continuing"},
    "end_reason": {"returned_home": "Returned home (903 E4A, E13)", "left_care_other": "Left care for another reason",
                   "moved": "Moved to another placement (903 CARPL, X1)", "not_recorded": "Reason not recorded"},
    "response": {"offered": "Offer made", "declined": "Declined", "no_response": "No answer"},
    "decline_reason": dict(vocab.DECLINE_REASONS),
    "dol": {"dol": "With a deprivation of liberty order", "no_dol": "Without a deprivation of liberty order"},
    "unregistered": {"unregistered": "In a setting not registered with Ofsted although it must be",
                     "registered": "Registered, or no registration needed"},
    "provider": {"ifa": PROVIDER_KINDS["ifa"], "la_fostering": PROVIDER_KINDS["la_fostering"],
                 "childrens_home": PROVIDER_KINDS["childrens_home"],
                 "supported_accommodation": PROVIDER_KINDS["supported_accommodation"]},
}
EXTRA_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "budget": {"with_budget": ("over", "within")},
    "siblings": {"in_group": ("together", "apart")},
    "stability": {"within_12_months": ("moved", "ended")},
    "response": {"answered": ("offered", "declined")},
}
NEED_LABELS = {**vocab.NEEDS, **vocab.RISKS}


def base_axes(today: date, la_codes: list[str], months_present: set[str] | None = None) -> list[Axis]:
    """Month (each period on offer is a total of its months), LA (region total), age band, type.

    Only months with records are leaves when `months_present` is given: a month with none holds zeros everywhere,
    which suppression never hides or picks, so leaving it out changes no pattern and saves work on every cube.
    """
    start, end = window(today)
    months = tuple(m for m in month_range(start, end) if months_present is None or m in months_present)
    month_axis = Axis("month", months, tuple(
        (period.key, tuple(months.index(m) for m in period.months if m in months))
        for period in periods(today).values()
    ))
    return [
        month_axis,
        Axis("la", tuple(la_codes), ((REGION_TOTAL, tuple(range(len(la_codes)))),)),
        axis_for("age", dict(AGE_BANDS)),
        axis_for("type", TYPE_LABELS),
    ]


def period_axis(periods_on_offer) -> Axis:
    """The periods as leaves (they never overlap), where a dataset is counted by period rather than by month."""
    return Axis("month", tuple(p.key for p in periods_on_offer) + ("none",), ())


def extra_axis(name: str) -> Axis:
    return axis_for(name, EXTRAS[name], EXTRA_GROUPS.get(name))


def need_axis() -> Axis:
    """Needs and risks overlap (a child can have several), so this axis has no total."""
    return Axis.leaves_only("need", tuple(NEED_LABELS))


def label(axis: str, key: str) -> str:
    """The words for category `key` of `axis`."""
    if axis == "month":
        return month_label(key)
    if axis == "la":
        from portal.formatting import la_name

        return la_name(key)
    if axis == "age":
        return AGE_BANDS[key]
    if axis == "type":
        return TYPE_LABELS[key]
    if axis == "need":
        return NEED_LABELS[key]
    if axis == "rule":
        from portal.market.gaps import HAS_OPTIONS, RULES

        return RULES.get(key, "Has an eligible vacancy" if key == HAS_OPTIONS else key)
    return EXTRAS[axis][key]
