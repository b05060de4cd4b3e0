"""Sibling groups placed together are one unit (issue 11 §1): one list for the group, every sibling's rules,
places for all, reasons naming the child, and the page, the contract and the allocation agreeing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.matching import (
    DEFAULT_POLICY,
    OptionIndex,
    allocate,
    allocate_problem,
    check_option,
    eligible_count,
    explain_exclusions,
    option_record,
    rank,
    rank_problem,
    request_record,
)
from portal.matching.eligibility import Group, group_members, member_labels
from tests.matching.builders import DAY, contended, make_connected, make_option, make_request, problems

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def groups_of(requests):
    found: dict[str, list] = {}
    for r in requests:
        if r.sibling_group is not None:
            found.setdefault(r.sibling_group, []).append(r)
    return [g for g in found.values() if len(g) > 1]


def siblings_of(request, requests):
    return [r for r in requests if r.sibling_group is not None and r.sibling_group == request.sibling_group]


# ---------------------------------------------------------------------------------------------- properties

@SETTINGS
@given(problems(max_requests=6, max_options=12, sizes=(1, 2, 2, 3)))
def test_every_option_eligible_for_a_group_is_eligible_for_each_sibling_and_has_places_for_all(problem):
    requests, options = problem
    index = OptionIndex.build(options)
    by_id = {o.id: o for o in options}
    for members in groups_of(requests):
        group = Group(frozenset(m.id for m in members))
        for member in members:
            result = rank(member, index, siblings=members)
            for match in result.matches:
                option = by_id[match.option]
                assert option.capacity >= len(members) and option.takes_siblings
                for sibling in members:
                    assert check_option(sibling, option, DEFAULT_POLICY, group) == ()
            # and nothing that passes every sibling's rules is left out
            eligible = {o.id for o in options
                        if all(not check_option(s, o, DEFAULT_POLICY, group) for s in members)}
            assert {m.option for m in result.matches} == eligible
            assert result.eligible == len(eligible) == eligible_count(member, index, siblings=members)


@SETTINGS
@given(problems(max_requests=6, max_options=12, sizes=(2, 2, 3)))
def test_the_group_has_one_list_whichever_siblings_page_it_is_opened_from(problem):
    requests, options = problem
    index = OptionIndex.build(options)
    for members in groups_of(requests):
        results = [rank(m, index, siblings=members) for m in members]
        first = results[0]
        for other in results[1:]:
            assert other.matches == first.matches and other.excluded == first.excluded
        # the siblings list may or may not include the child itself, in any order
        again = rank(members[-1], index, siblings=list(reversed(members[:-1])))
        assert again.matches == first.matches and again.excluded == first.excluded
        assert explain_exclusions(members[0], index, siblings=members) == first.excluded


@SETTINGS
@given(st.one_of(problems(max_requests=7, max_options=6, lenient=True, sizes=(1, 2, 3)), contended()))
def test_the_allocation_never_splits_a_group_and_agrees_with_the_page(problem):
    """Each group is placed together in an option its page lists, or not at all; the allocation's objective is
    the sum of the page's scores for what it assigned (the group's score is its siblings' summed)."""
    requests, options = problem
    index = OptionIndex.build(options)
    allocation = allocate(requests, index)
    assigned = {a.request: a.option for a in allocation.assignments}
    total = 0
    done: set[str] = set()
    for r in requests:
        if r.id in done:
            continue
        members = group_members(r, siblings_of(r, requests))
        done.update(m.id for m in members)
        chosen = {assigned.get(m.id) for m in members}
        assert len(chosen) == 1, f"group {r.sibling_group} split: {chosen}"
        option = chosen.pop()
        if option is not None:
            page = {m.option: m.score for m in rank(r, index, siblings=members, with_exclusions=False).matches}
            assert option in page
            total += page[option]
    assert allocation.objective == total


@SETTINGS
@given(problems(max_requests=6, max_options=8, sizes=(1, 2, 3)))
def test_the_contract_agrees_with_rank_and_allocate_through_a_problem_file(problem):
    requests, options = problem
    data = {"requests": [request_record(r) for r in requests], "options": [option_record(o) for o in options]}
    ranked = rank_problem(data, exclusions="all")
    index = OptionIndex.build(options)
    for r, result in zip(requests, ranked["results"]):
        assert result == rank(r, index, siblings=siblings_of(r, requests)).to_dict()
    assert allocate_problem(data) == allocate(requests, index).to_dict()


# ---------------------------------------------------------------------------------------------- examples

def brother_and_sister():
    """The issue's Coventry pair: a boy of 11 who needs therapeutic support and goes missing, his sister of 8."""
    boy = make_request(id="boy", sex="male", age_years=11, needs=frozenset({"therapeutic_support"}),
                       risks=frozenset({"going_missing"}), sibling_group="G")
    girl = make_request(id="girl", sex="female", age_years=8, sibling_group="G")
    return boy, girl


def test_the_sisters_list_falls_to_the_homes_that_meet_her_brothers_needs():
    boy, girl = brother_and_sister()
    both = make_option(id="both", places=2, needs_met=frozenset({"therapeutic_support"}),
                       risks_managed=frozenset({"going_missing"}))
    plain = make_option(id="plain", places=2)
    single = make_option(id="single", places=1, needs_met=frozenset({"therapeutic_support"}),
                         risks_managed=frozenset({"going_missing"}))
    result = rank(girl, [plain, both, single], siblings=[boy])
    assert [m.option for m in result.matches] == ["both"]
    assert dict((e.option, e.reasons) for e in result.excluded) == {
        "plain": ("Boy aged 11: Needs not met: Therapeutic support", "Boy aged 11: Risks not managed: Going missing"),
        "single": ("1 free place; the sibling group needs 2",),
    }


def test_a_reason_both_siblings_share_is_given_once_and_the_rest_name_the_child():
    boy, girl = brother_and_sister()
    option = make_option(places=2, ofsted="inadequate", age_min=10, age_max=17,
                         needs_met=frozenset({"therapeutic_support"}), risks_managed=frozenset({"going_missing"}))
    (excluded,) = rank(boy, [option], siblings=[girl]).excluded
    assert excluded.reasons == ("Rated Inadequate by Ofsted", "Girl aged 8: Age 8 is outside the setting's age "
                                                              "range 10\u201317")


def test_twins_are_told_apart_in_the_groups_order():
    a = make_request(id="b", sex="female", age_years=8, sibling_group="T")
    b = make_request(id="a", sex="female", age_years=8, sibling_group="T")
    c = make_request(id="c", sex="male", age_years=12, sibling_group="T")
    members = group_members(a, [b, c])
    assert [m.id for m in members] == ["c", "a", "b"]  # eldest first, then by id: the same from every page
    assert member_labels(members) == ("Boy aged 12", "Girl aged 8 (first)", "Girl aged 8 (second)")


def test_the_groups_score_is_the_siblings_scores_summed_with_parts_that_say_so():
    boy, girl = brother_and_sister()
    girl = replace(girl, school=replace(girl.home, easting=girl.home.easting + 3_300), keep_school=True)
    option = make_option(places=2, needs_met=frozenset({"therapeutic_support"}),
                         risks_managed=frozenset({"going_missing"}))
    (match,) = rank(boy, [option], siblings=[girl]).matches
    alone = {r.id: rank(r, [option], siblings=[boy, girl]) for r in (boy, girl)}
    assert match.score == sum(p.points for p in match.parts)
    reasons = {p.reason for p in match.parts}
    assert "1.0 miles from home (-2 each, for both children)" in reasons
    assert "Takes all 2 siblings together (+15 each, for both children)" in reasons
    assert any(r.startswith("Girl aged 8: ") and "school" in r for r in reasons)  # only she keeps a school
    assert alone["boy"].matches == alone["girl"].matches == (match,)


def test_a_connected_person_for_one_sibling_is_a_candidate_for_the_group_within_their_places():
    boy, girl = brother_and_sister()
    boy = replace(boy, needs=frozenset(), risks=frozenset())
    aunt = make_connected(id="aunt", for_request="girl", places=2)
    gran = make_connected(id="gran", for_request="boy", places=1)
    result = rank(boy, [aunt, gran], siblings=[girl])
    assert [m.option for m in result.matches] == ["aunt"]
    assert result.matches[0].parts[0].criterion == "connected_person"
    assert dict((e.option, e.reasons) for e in result.excluded) == {"gran": ("1 free place; the sibling group needs 2",)}


def test_a_group_needs_places_for_all_on_the_needed_by_date():
    boy, girl = brother_and_sister()
    boy = replace(boy, needs=frozenset(), risks=frozenset(), needed_by=DAY + timedelta(days=3))
    later = make_option(id="later", places=2, available_from=DAY + timedelta(days=2))
    (excluded,) = rank(girl, [later], siblings=[boy]).excluded
    assert excluded.reasons == ("Girl aged 8: Not available until 4 March 2026; the child needs a home by "
                                "2 March 2026",)


def test_a_child_alone_is_ranked_as_before():
    child = make_request()
    result = rank(child, [make_option(), make_option(id="O2", places=0)])
    assert [m.option for m in result.matches] == ["O1"]
    assert result.excluded[0].reasons == ("No free places",)
