"""rank(): the vectorised index against the scalar reference, its JSON, and the ranking properties."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.matching import (
    DEFAULT_POLICY,
    OptionIndex,
    check_option,
    eligible_options,
    fitting_options,
    rank,
    score_option,
)
from portal.matching.eligibility import check_group, group_for, group_members
from portal.matching.rank import rank_json
from portal.matching.scoring import regional_medians, score_group
from portal.matching.types import GridPoint
from tests.matching.builders import (
    HOME,
    make_connected,
    make_option,
    make_request,
    options,
    problems,
    requests,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def siblings_of(request, all_requests):
    return [r for r in all_requests if r.sibling_group is not None and r.sibling_group == request.sibling_group]


@FAST
@given(problems(max_requests=4, max_options=12))
def test_the_index_agrees_with_the_scalar_reference(problem):
    """Eligibility, every reason sentence, every part, flags, distances and the order; a sibling group placed
    together against the scalar group reference (every sibling's rules, the summed score)."""
    reqs, opts = problem
    index = OptionIndex.build(opts)
    medians = regional_medians(opts)
    position = {o.id: i for i, o in enumerate(opts)}
    for request in reqs:
        siblings = siblings_of(request, reqs)
        members = group_members(request, siblings)
        result = rank(request, index, siblings=siblings)
        expected_excluded = [(o.id, check_group(members, o, DEFAULT_POLICY)) for o in opts]
        expected_excluded = [(oid, why) for oid, why in expected_excluded if why]
        assert [(e.option, e.reasons) for e in result.excluded] == expected_excluded
        eligible = [o for o in opts if not check_group(members, o, DEFAULT_POLICY)]
        expected = sorted((score_group(members, o, DEFAULT_POLICY, medians) for o in eligible),
                          key=lambda m: (-m.score, m.distance_miles, position[m.option]))
        assert list(result.matches) == expected
        assert result.eligible == len(expected)
        for match in result.matches:
            assert match.score == sum(part.points for part in match.parts)
        assert rank_json(request, index, siblings) == json.dumps(result.to_dict(), ensure_ascii=False)
        top = rank(request, index, siblings=siblings, limit=2, with_exclusions=False)
        assert top.matches == result.matches[:2] and top.excluded == () and top.eligible == result.eligible
        # the exclusion modes: the same matches; counts per rule; the CLI's text byte for byte
        counted = rank(request, index, siblings=siblings, exclusions="counts")
        assert counted.matches == result.matches and counted.excluded == ()
        assert counted.eligible + counted.ineligible == len(opts) == result.eligible + len(result.excluded)
        if len(members) == 1:  # one sentence per failed rule
            assert sum(counted.exclusion_counts.values()) == sum(len(e.reasons) for e in result.excluded)
        assert all(n > 0 for n in counted.exclusion_counts.values())
        assert bool(counted.exclusion_counts) == bool(result.excluded)
        for mode in ("none", "counts", "all"):
            for limit in (None, 1):
                expect = rank(request, index, siblings=siblings, exclusions=mode, limit=limit).to_dict()
                assert rank_json(request, index, siblings, exclusions=mode, limit=limit) == json.dumps(
                    expect, ensure_ascii=False)
        # a page's top plus the matches of chosen options further down, in rank order
        if len(result.matches) > 2:
            last = result.matches[-1].option
            shown = rank(request, index, siblings=siblings, limit=1, exclusions="none", include=[last])
            assert shown.matches == (result.matches[0], result.matches[-1])
        assert eligible_options(request, index, siblings=siblings) == tuple(o.id for o in eligible)


def test_exclusion_counts_name_each_rule_with_how_many_options_fail_it():
    request = make_request(age_years=12, sex="female")
    opts = [make_option(id="young", age_min=0, age_max=10), make_option(id="boys", sexes=frozenset({"male"})),
            make_option(id="both", age_min=0, age_max=10, sexes=frozenset({"male"})), make_option(id="fits")]
    result = rank(request, opts, exclusions="counts")
    assert result.exclusion_counts == {"age": 2, "sex": 2}
    assert result.to_dict() == {"request": "R1", "matches": [m.to_dict() for m in result.matches], "eligible": 1,
                                "ineligible": 3, "exclusion_counts": {"age": 2, "sex": 2}}
    assert rank(request, opts, exclusions="none").to_dict().keys() == {"request", "matches", "eligible",
                                                                       "ineligible"}
    with pytest.raises(ValueError, match="exclusions must be one of"):
        rank(request, opts, exclusions="some")


@FAST
@given(problems(max_requests=4, max_options=12, lenient=True), st.data())
def test_ranking_some_options_gives_them_the_places_and_reasons_of_the_whole_ranking(problem, data):
    """A provider's inbox ranks only its own options: each keeps its score, parts, order and reasons from the
    ranking of every option, sibling groups included, and `eligible` counts only those options."""
    reqs, opts = problem
    index = OptionIndex.build(opts)
    chosen = data.draw(st.sets(st.sampled_from([o.id for o in opts]))) if opts else set()
    for request in reqs:
        siblings = siblings_of(request, reqs)
        whole = rank(request, index, siblings=siblings)
        some = rank(request, index, siblings=siblings, option_ids=chosen)
        assert list(some.matches) == [m for m in whole.matches if m.option in chosen]
        assert list(some.excluded) == [e for e in whole.excluded if e.option in chosen]
        assert some.eligible == len(some.matches)
        top = rank(request, index, siblings=siblings, option_ids=chosen, limit=1, with_exclusions=False)
        assert top.matches == some.matches[:1] and top.excluded == ()
        counted = rank(request, index, siblings=siblings, option_ids=chosen, exclusions="counts")
        assert counted.eligible + counted.ineligible == len(chosen)
        assert bool(counted.exclusion_counts) == bool(some.excluded)
        # What fits, in the same order and at the same distances, without building the matches.
        assert fitting_options(request, index, siblings=siblings, option_ids=chosen) == tuple(
            (m.option, m.distance_miles) for m in some.matches)
        assert fitting_options(request, index, siblings=siblings) == tuple(
            (m.option, m.distance_miles) for m in whole.matches)


def test_ranking_an_option_the_index_does_not_hold_is_an_error():
    index = OptionIndex.build([make_option(id="O1")])
    try:
        rank(make_request(), index, option_ids={"O2"})
    except KeyError as error:
        assert "O2" in str(error)
    else:
        raise AssertionError("an unknown option id was ignored")


@FAST
@given(problems(max_requests=3, max_options=10, lenient=True), st.data())
def test_an_eligible_connected_person_is_always_ranked_first(problem, data):
    reqs, opts = problem
    request = reqs[0]
    carer = replace(make_connected(for_request=request.id, places=len(siblings_of(request, reqs)) or 1),
                    location=data.draw(st.builds(GridPoint, st.integers(300_000, 500_000),
                                                 st.integers(200_000, 350_000))),
                    connected_stage=data.draw(st.sampled_from(["viability", "temporary_approval", "approved"])),
                    fee_gbp_week=data.draw(st.sampled_from([None, 9_999.0])), stale=data.draw(st.booleans()),
                    la=data.draw(st.sampled_from(["E08000026", "E06000051"])))
    opts = opts + [carer]
    result = rank(request, opts, siblings=siblings_of(request, reqs))
    if not check_option(request, carer, DEFAULT_POLICY, group_for(request, siblings_of(request, reqs))):
        kinds = {o.id: o.kind for o in opts}
        is_cp = [kinds[m.option] == "connected_person" for m in result.matches]
        assert is_cp == sorted(is_cp, reverse=True)  # every connected person before every other option
        assert carer.id in [m.option for m, cp in zip(result.matches, is_cp) if cp]
        others = [m.score for m, cp in zip(result.matches, is_cp) if not cp]
        assert all(m.score > max(others, default=-10**9) for m, cp in zip(result.matches, is_cp) if cp)


@FAST
@given(requests(), options(), st.floats(0, 1), st.booleans())
def test_moving_an_option_closer_never_lowers_its_score(request, option, fraction, everything_at_home):
    """Closer to home (and, when the school and family are at home too, closer to them) never scores less."""
    if everything_at_home:
        request = replace(request, school=request.home if request.keep_school else None,
                          family=request.home if request.family else None)
    else:
        request = replace(request, keep_school=False, family=None)
    home, far = request.home, option.location
    near = GridPoint(home.easting + int((far.easting - home.easting) * fraction),
                     home.northing + int((far.northing - home.northing) * fraction))
    before = rank(request, [option, replace(option, id="O2", location=near)], with_exclusions=False)
    scores = {m.option: m.score for m in before.matches}
    if "O1" in scores:
        assert scores["O2"] >= scores["O1"]


def test_rank_accepts_a_plain_sequence_and_keeps_input_order_for_ties():
    options = [make_option(id=name) for name in ("B", "A", "C")]
    assert [m.option for m in rank(make_request(), options).matches] == ["B", "A", "C"]


def test_nearer_breaks_score_ties():
    options = [make_option(id="far", location=GridPoint(HOME.easting + 1_700, HOME.northing)),
               make_option(id="near", location=GridPoint(HOME.easting + 1_650, HOME.northing))]
    result = rank(make_request(), options)
    assert [m.score for m in result.matches] == [result.matches[0].score] * 2
    assert [m.option for m in result.matches] == ["near", "far"]


def test_duplicate_option_ids_are_refused():
    import pytest

    with pytest.raises(ValueError, match="duplicate"):
        OptionIndex.build([make_option(), make_option()])



@settings(max_examples=60, deadline=None)
@given(problems())
def test_eligible_count_agrees_with_rank(problem):
    """The gap pages count eligible options without scoring them: the count is rank's, always."""
    from portal.matching import OptionIndex, eligible_count

    requests, options = problem
    index = OptionIndex.build(options)
    for request in requests:
        siblings = [r for r in requests if r.sibling_group and r.sibling_group == request.sibling_group
                    and r.id != request.id]
        assert eligible_count(request, index, siblings=siblings) == rank(request, index, siblings=siblings).eligible
