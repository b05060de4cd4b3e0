"""Soft scores: each part on a tiny case (default policy), through the public rank()."""

from __future__ import annotations

import pytest

from portal.matching import DEFAULT_POLICY, OptionIndex, Policy, rank, score_option
from portal.matching.scoring import distance_tenths, regional_medians
from portal.matching.types import GridPoint
from tests.matching.builders import (
    BIRMINGHAM,
    HOME,
    east,
    make_connected,
    make_option,
    make_request,
)


def only(request, option, **kwargs):
    result = rank(request, [option], **kwargs)
    assert not result.excluded, result.excluded
    (match,) = result.matches
    assert match.score == sum(p.points for p in match.parts)
    return match


def points(match) -> dict[str, int]:
    return {p.criterion: p.points for p in match.parts}


def reason(match, criterion) -> str:
    return next(p.reason for p in match.parts if p.criterion == criterion)


# ------------------------------------------------------------------------------------------------ distance

@pytest.mark.parametrize("metres, miles", [(0, 0.0), (1_609, 1.0), (5_000, 3.1), (16_093, 10.0), (19_795, 12.3),
                                          (32_187, 20.0), (80_467, 50.0)])
def test_distance_is_the_903_pl_distance_in_miles_to_one_decimal(metres, miles):
    """SSDA903 PL_DISTANCE: straight line on the OS grid, metres / 1609.344, rounded to 1 dp."""
    match = only(make_request(), make_option(location=east(HOME, metres)))
    assert match.distance_miles == miles
    assert reason(match, "distance") == f"{miles:.1f} miles from home"
    assert points(match)["distance"] == -2 * int(miles)  # 2 points a whole mile (the cap is at 100 miles)


def test_distance_on_both_axes_and_rounding_half_cases():
    assert distance_tenths(GridPoint(0, 0), GridPoint(3_000, 4_000)) == 31  # 5 km = 3.107 miles
    # 31.25 miles exactly on the grid rounds as Python's round() does (half to even on the binary value)
    assert distance_tenths(GridPoint(0, 0), GridPoint(50_292, 0)) == round(round(50_292 / 1609.344, 1) * 10)


def test_over_20_miles_is_flagged_and_penalised():
    at_20 = only(make_request(), make_option(location=east(HOME, 32_187)))
    beyond = only(make_request(), make_option(location=east(HOME, 32_400)))
    assert "over_20_miles" not in at_20.flags and "over_20_miles" not in points(at_20)
    assert "over_20_miles" in beyond.flags
    assert points(beyond)["over_20_miles"] == -30  # the DfE's line: worth 15 miles
    assert reason(beyond, "over_20_miles") == "More than 20 miles from home"


def test_own_local_authority_scores_and_outside_is_flagged():
    inside = only(make_request(), make_option())
    outside = only(make_request(), make_option(la=BIRMINGHAM))
    assert points(inside)["own_la"] == 60 and "outside_la" not in inside.flags  # s22C(9): worth 30 miles
    assert "own_la" not in points(outside) and "outside_la" in outside.flags
    assert inside.score - outside.score == 60


def test_school_distance_counts_only_when_the_child_keeps_their_school():
    school = east(HOME, -8_047)  # 5 miles west of home; the option is 1 mile east: 6 miles from school
    keeps = only(make_request(keep_school=True, school=school), make_option())
    moves = only(make_request(keep_school=False, school=school), make_option())
    assert points(keeps)["school_distance"] == -12 and keeps.school_distance_miles == 6.0
    assert reason(keeps, "school_distance") == "6.0 miles from the child's school"
    assert "school_distance" not in points(moves) and moves.school_distance_miles is None
    far = only(make_request(keep_school=True, school=east(HOME, -30_000)), make_option())  # 19.6 miles
    assert "far_from_school" in far.flags and points(far)["school_distance"] == -38
    farther = only(make_request(keep_school=True, school=east(HOME, -40_000)), make_option())  # 25.9 miles
    assert points(farther)["school_distance"] == -40  # capped


def test_near_family():
    near = only(make_request(family=east(HOME, 4_000)), make_option())
    far = only(make_request(family=east(HOME, -20_000)), make_option())
    assert points(near)["near_family"] == 10 and "near_family" not in points(far)


# ------------------------------------------------------------------------------------------------ s22C

def test_s22c_order_la_foster_then_agency_then_childrens_home_then_supported():
    request = make_request(age_years=16, suitability={"foster": "suitable", "residential": "suitable",
                                                       "supported": "suitable"})
    options = [
        make_option(id="supported", kind="supported", provider_code="PR4", age_min=16),
        make_option(id="home", kind="residential", provider_code="PR4"),
        make_option(id="agency", provider_code="PR4"),
        make_option(id="la", provider_code="PR1"),
    ]
    result = rank(request, options)
    assert [m.option for m in result.matches] == ["la", "agency", "home", "supported"]
    assert [points(m).get("setting_type", 0) for m in result.matches] == [30, 20, 10, 0]


def test_the_childs_preferred_setting_type_beats_the_s22c_order():
    request = make_request(suitability={"foster": "suitable", "residential": "preferred"})
    result = rank(request, [make_option(id="la", provider_code="PR1"), make_option(id="home", kind="residential")])
    assert [m.option for m in result.matches] == ["home", "la"]
    assert points(result.matches[0])["preferred_setting"] == 35
    assert reason(result.matches[0], "preferred_setting") == (
        "Residential care (children's home) is the preferred setting type in the child's plan")


def test_siblings_together():
    child, brother = make_request(sibling_group="G"), make_request(id="R2", sibling_group="G")
    match = only(child, make_option(places=2), siblings=[brother])
    assert points(match)["siblings_together"] == 30  # the group's score is both children's
    assert reason(match, "siblings_together") == "Takes all 2 siblings together (+15 each, for both children)"
    assert "siblings_together" not in points(only(make_request(), make_option()))


# ------------------------------------------------------------------------------------------- quality, cost

@pytest.mark.parametrize("rating, expected", [("outstanding", 10), ("good", 5), ("requires_improvement", -10),
                                              (None, None)])
def test_ofsted_rating(rating, expected):
    assert points(only(make_request(), make_option(kind="residential", ofsted=rating))).get("ofsted") == expected


def test_fee_against_budget():
    within = only(make_request(budget_gbp_week=600), make_option(fee_gbp_week=600))
    over = only(make_request(budget_gbp_week=600), make_option(fee_gbp_week=650.5))
    # no step at the budget line by default (within_budget_points is 0): the penalty grows from nothing
    assert "budget" not in points(within) and "over_budget" not in within.flags
    assert points(over)["budget"] == -9 and "over_budget" in over.flags  # 8.4% over: 9 started percents
    assert reason(over, "budget") == (
        "\u00a3650.50 a week, \u00a350.50 (8.4%) over the budget of \u00a3600 a week")
    assert "budget" not in points(only(make_request(), make_option(fee_gbp_week=650)))
    shown = Policy.from_overrides({"within_budget_points": 5})
    assert reason(only(make_request(budget_gbp_week=600), make_option(fee_gbp_week=600), policy=shown),
                  "budget") == "\u00a3600 a week, within the budget of \u00a3600 a week"


@pytest.mark.parametrize("fee, expected", [(600.01, -1), (606, -1), (606.01, -2), (660, -10), (900, -50),
                                           (5_000, -50)])
def test_the_over_budget_penalty_grows_with_the_excess_up_to_its_cap(fee, expected):
    """1 point for every 1% (or part of 1%) of the budget over it, at most 50: £6 over £600 costs 1 point."""
    match = only(make_request(budget_gbp_week=600), make_option(fee_gbp_week=fee))
    assert points(match)["budget"] == expected and "over_budget" in match.flags


def test_a_budget_of_nothing_is_exceeded_by_any_fee_by_the_most_the_penalty_counts():
    match = only(make_request(budget_gbp_week=0), make_option(fee_gbp_week=10))
    assert points(match)["budget"] == -50
    assert reason(match, "budget") == "\u00a310 a week, \u00a310 over the budget of \u00a30 a week"


def test_fee_against_the_regional_median_for_the_kind():
    options = [make_option(id=f"F{fee}", fee_gbp_week=fee) for fee in (400, 500, 600, 700)]
    options.append(make_option(id="home", kind="residential", fee_gbp_week=5000))
    assert regional_medians(options) == {"foster": 550.0, "residential": 5000.0}
    result = {m.option: points(m).get("regional_median") for m in rank(make_request(), options).matches}
    assert result == {"F400": 2, "F500": 2, "F600": None, "F700": -5, "home": 2}
    match = next(m for m in rank(make_request(), options).matches if m.option == "F700")
    assert reason(match, "regional_median") == (
        "\u00a3700 a week, more than 25% above the regional median for foster care (\u00a3550)")


def test_stale_vacancies_rank_lower():
    result = rank(make_request(), [make_option(id="stale", stale=True), make_option(id="fresh")])
    assert [m.option for m in result.matches] == ["fresh", "stale"]
    assert "stale_vacancy" in result.matches[1].flags and points(result.matches[1])["stale_vacancy"] == -10


def test_language_religion_and_culture_where_asked():
    request = make_request(language="Polish", religion="Catholic", cultural_needs="required")
    match = only(request, make_option(languages={"polish"}, religions={"Catholic"}))
    assert {k: points(match)[k] for k in ("language", "religion", "culture")} == {
        "language": 10, "religion": 5, "culture": 5}
    plain = only(make_request(language="Polish"), make_option())
    assert not {"language", "religion", "culture"} & points(plain).keys()


# --------------------------------------------------------------------------------------- connected persons

def test_an_eligible_connected_person_ranks_first_whatever_the_other_points():
    request = make_request(budget_gbp_week=100, suitability={"foster": "suitable", "residential": "preferred"})
    best_other = make_option(id="home", kind="residential", ofsted="outstanding", provider_code="PR1",
                             fee_gbp_week=100)
    carer = make_connected(la=BIRMINGHAM, location=east(HOME, 90_000), fee_gbp_week=900, stale=True)
    result = rank(request, [best_other, carer])
    assert [m.option for m in result.matches] == ["C1", "home"]
    assert points(result.matches[0])["connected_person"] == 1000
    assert reason(result.matches[0], "connected_person") == (
        "Connected person (Approved connected-person foster carer): family and friends come first (s22C)")


def test_score_option_is_the_scalar_reference_of_rank():
    request = make_request(keep_school=True, school=east(HOME, 3_000), budget_gbp_week=500, family=HOME)
    options = [make_option(id=f"O{i}", location=east(HOME, 2_000 * i), fee_gbp_week=300 + 100 * i,
                           ofsted="good", kind="residential") for i in range(5)]
    medians = regional_medians(options)
    expected = [score_option(request, o, DEFAULT_POLICY, medians) for o in options]
    assert sorted(expected, key=lambda m: (-m.score, m.distance_miles)) == list(rank(request, options).matches)


def test_policy_weights_change_the_scores():
    policy = Policy.from_overrides({"own_la_points": 0, "distance_points_per_mile": 3})
    match = only(make_request(), make_option(location=east(HOME, 16_093)), policy=policy)
    assert "own_la" not in points(match) and points(match)["distance"] == -30
    index = OptionIndex.build([make_option()], policy)
    with pytest.raises(ValueError, match="different policy"):
        rank(make_request(), index, DEFAULT_POLICY)
