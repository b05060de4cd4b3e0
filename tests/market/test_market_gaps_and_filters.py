"""The pure parts: reading the matching core's reasons, the blocking rule, and the filters' checks."""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from portal.market.filters import FilterError, FilterForbidden, parse_filters, periods
from portal.market.gaps import RULES, blocking_rule, classify
from portal.matching import Exclusion
from portal.matching import eligibility as rules

COVENTRY, BIRMINGHAM = "E08000026", "E08000025"
LAS = {COVENTRY, BIRMINGHAM}
TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("sentence, check", [
    (rules.cp_other_child_reason(), "cp_other_child"),
    (rules.cp_stage_reason("identified"), "cp_stage"),
    (rules.suitability_reason("residential"), "suitability"),
    (rules.age_reason(12, 0, 8), "age"),
    (rules.under_16_reason(14), "under_16"),
    (rules.sex_reason("female"), "sex"),
    (rules.sex_reason("other"), "sex"),
    (rules.places_reason(1, False, False, 3), "places"),
    (rules.places_reason(1, True, True, 2), "places"),
    (rules.places_reason(0, True, False, 1), "places"),
    (rules.places_reason(2, True, False, 3), "places"),
    (rules.needs_reason({"bsl"}), "needs"),
    (rules.risks_reason({"self_harm", "others_fire"}), "risks"),
    (rules.availability_reason(date(2026, 12, 1), date(2026, 11, 25)), "availability"),
    (rules.approval_reason(), "approval"),
    (rules.ofsted_reason(), "ofsted"),
    (rules.pets_reason("must"), "pets"),
    (rules.pets_reason("no"), "pets"),
    (rules.solo_reason(), "solo"),
    (rules.avoid_la_reason("Coventry"), "avoid_la"),
])
def test_every_reason_of_the_matching_core_is_read_as_its_rule(sentence, check):
    assert classify(sentence) == check


@pytest.mark.parametrize("label", ["Girl aged 3", "Boy aged 11", "Child aged 15", "Girl aged 8 (second)"])
def test_a_sibling_groups_reason_is_read_as_its_rule_whichever_child_it_names(label):
    # A sibling group's exclusion names the child it is about first (matching.eligibility.member_labels); the gap
    # page once answered 500 on such a group.
    assert classify(f"{label}: {rules.needs_reason({'bsl'})}") == "needs"
    assert classify(f"{label}: {rules.age_reason(12, 0, 8)}") == "age"


def test_every_check_of_the_core_is_known():
    assert set(rules.CHECKS) - {"cp_other_child", "cp_stage"} <= set(RULES)


def test_the_blocking_rule_is_the_one_that_stops_the_nearest_misses():
    needs, age, risks = rules.needs_reason({"bsl"}), rules.age_reason(12, 0, 8), rules.risks_reason({"self_harm"})
    exclusions = [Exclusion("a", (needs, age)), Exclusion("b", (needs, age)), Exclusion("c", (risks,)),
                  Exclusion("d", (age, risks))]
    assert blocking_rule(exclusions) == "risks", "relaxing risks alone opens a place; age fails more often"
    assert blocking_rule([Exclusion("a", (needs, age)), Exclusion("b", (age, risks))]) == "age"
    assert blocking_rule([]) == "no_options"


def parse(user_la=None, **args):
    return parse_filters(MultiDict(args), user_la=user_la, la_codes=LAS, today=TODAY)


def test_defaults_region_and_the_last_12_months():
    f = parse()
    assert (f.la, f.period.key, f.type, f.age, f.need) == (None, "12m", None, None, None)
    assert f.period.start == date(2025, 12, 1) and len(f.period.months) == 12
    assert not f.narrowed


def test_an_la_commissioner_starts_on_their_la():
    f = parse(user_la=COVENTRY)
    assert f.la == COVENTRY and not f.narrowed
    assert parse(user_la=COVENTRY, la="region").la is None
    with pytest.raises(FilterForbidden):
        parse(user_la=COVENTRY, la=BIRMINGHAM)


@pytest.mark.parametrize("name, value", [("la", "E99"), ("period", "fy2025"), ("type", "hotel"), ("age", "12"),
                                         ("need", "x")])
def test_bad_values_are_filter_errors_naming_the_filter(name, value):
    with pytest.raises(FilterError) as caught:
        parse(**{name: value})
    assert caught.value.field == name


def test_periods_are_twelve_whole_months_and_never_overlap():
    """Overlapping periods would let one period's total minus another's single out a month of children."""
    spans = list(periods(TODAY).values())
    assert all(len(p.months) == 12 for p in spans)
    months = [m for p in spans for m in p.months]
    assert len(months) == len(set(months))


def test_narrowed_means_narrower_than_the_starting_page():
    assert parse(la=COVENTRY).narrowed
    assert parse(age="10_15").narrowed and parse(need="bsl").narrowed and parse(type="foster").narrowed
    assert not parse(period="12m-1").narrowed
