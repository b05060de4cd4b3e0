"""Hard rules (DESIGN.md §4, 1-7 and connected persons): each on a tiny case, with its reason sentence.

Every case is checked twice: with the scalar reference (check_option) and through the vectorised index (rank),
which must agree on the exact sentences.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.matching import DEFAULT_POLICY, check_option, explain_exclusions, rank
from portal.matching.eligibility import group_for
from tests.matching.builders import (
    BIRMINGHAM,
    DAY,
    make_connected,
    make_option,
    make_request,
)


def reasons(request, option, siblings=()):
    """Reasons from both paths; they must agree."""
    group = group_for(request, siblings)
    scalar = check_option(request, option, DEFAULT_POLICY, group)
    result = rank(request, [option], siblings=siblings)
    vector = result.excluded[0].reasons if result.excluded else ()
    assert scalar == vector
    assert bool(result.matches) == (not scalar)
    return scalar


CASES = [
    # (rule, request changes, option changes, expected sentence)
    ("1 suitability", {"suitability": {"foster": "unsuitable"}}, {},
     "Foster care is marked unsuitable for this child"),
    ("1 suitability: a connected person is a foster placement", {"suitability": {"foster": "unsuitable"}},
     {"kind": "connected_person", "for_request": "R1", "connected_stage": "approved"},
     "Foster care is marked unsuitable for this child"),
    ("2 age", {"age_years": 15}, {"age_min": 8, "age_max": 14},
     "Age 15 is outside the setting's age range 8\u201314"),
    ("2 age below", {"age_years": 7}, {"age_min": 8, "age_max": 14},
     "Age 7 is outside the setting's age range 8\u201314"),
    ("3 sex", {"sex": "female"}, {"sexes": {"male"}}, "This setting does not take girls"),
    ("4 places", {}, {"places": 0}, "No free places"),
    ("5 needs", {"needs": {"bsl", "makaton"}}, {"needs_met": {"makaton"}},
     "Needs not met: British Sign Language (BSL)"),
    ("5 needs in vocabulary order", {"needs": {"makaton", "bsl"}}, {},
     "Needs not met: British Sign Language (BSL), Makaton"),
    ("5 risks", {"risks": {"others_fire"}}, {"risks_managed": {"self_harm"}}, "Risks not managed: Fire-setting"),
    ("6 availability", {}, {"available_from": DAY + timedelta(days=3)},
     "Not available until 5 March 2026; the child needs a home by 2 March 2026"),
    ("6 approval", {}, {"provider_approved": False}, "The provider is not approved"),
    ("6 inadequate", {}, {"ofsted": "inadequate"}, "Rated Inadequate by Ofsted"),
    ("7 pets: cannot", {"pets": "no"}, {"has_pets": True},
     "The child cannot live with pets, and there are pets here"),
    ("7 pets: must", {"pets": "must"}, {"has_pets": False}, "The child must live with pets, and there are none here"),
    ("7 cared for alone", {"living_companions": "solo"}, {"solo_only": False},
     "A solo placement is recommended for this child; this setting cares for other children too"),
    ("7 locations to avoid", {"avoid_las": {BIRMINGHAM}}, {"la": BIRMINGHAM},
     f"The child's plan rules out placements in this local authority ({BIRMINGHAM})"),
]


@pytest.mark.parametrize("rule, request_changes, option_changes, sentence", CASES, ids=[c[0] for c in CASES])
def test_each_rule_excludes_with_one_readable_reason(rule, request_changes, option_changes, sentence):
    request = make_request(**request_changes)
    assert reasons(request, make_option(**option_changes)) == (sentence,)


def test_the_builders_defaults_pass_every_rule():
    """So each case above is excluded only because of its own change."""
    assert reasons(make_request(), make_option()) == ()
    assert reasons(make_request(), make_connected()) == ()


def test_supported_accommodation_is_for_16_and_over():
    request = make_request(age_years=15, suitability={"supported": "suitable"})
    option = make_option(kind="supported", age_min=15, age_max=17)
    assert reasons(request, option) == (
        "Supported accommodation is for young people aged 16 and over; the child is 15",)
    assert reasons(make_request(age_years=16, suitability={"supported": "suitable"}), option) == ()


def test_places_must_cover_the_sibling_group():
    child, sister = make_request(sibling_group="G"), make_request(id="R2", sibling_group="G")
    assert reasons(child, make_option(places=1), [sister]) == ("1 free place; the sibling group needs 2",)
    assert reasons(child, make_option(places=2), [sister]) == ()
    assert reasons(child, make_option(places=3, takes_siblings=False), [sister]) == (
        "This setting does not take sibling groups (the group has 2 children)",)
    assert reasons(child, make_option(places=3, solo_only=True), [sister]) == (
        "This setting takes one child only; the sibling group has 2 children",)


def test_siblings_in_another_group_do_not_count():
    child, stranger = make_request(sibling_group="G"), make_request(id="R2", sibling_group="H")
    assert reasons(child, make_option(places=1), [stranger]) == ()


def test_a_connected_person_is_only_for_their_own_child_or_sibling_group():
    carer = make_connected(for_request="R2")
    assert reasons(make_request(), carer) == ("This connected person was put forward for another child",)
    brother = make_request(id="R2", sibling_group="G")
    assert reasons(make_request(sibling_group="G"), make_connected(for_request="R2", places=2), [brother]) == ()


def test_a_connected_person_needs_an_assessment_before_a_placement():
    assert reasons(make_request(), make_connected(connected_stage="identified")) == (
        "This connected person is at the stage 'Identified': an assessment is needed before a placement",)
    for stage in ("viability", "temporary_approval", "approved"):
        assert reasons(make_request(), make_connected(connected_stage=stage)) == ()


def test_several_failed_rules_give_one_reason_each_in_rule_order():
    request = make_request(age_years=15, needs={"bsl"})
    option = make_option(age_min=0, age_max=10, ofsted="inadequate", sexes={"male"})
    assert reasons(request, option) == (
        "Age 15 is outside the setting's age range 0\u201310",
        "This setting does not take girls",
        "Needs not met: British Sign Language (BSL)",
        "Rated Inadequate by Ofsted",
    )


def test_unknown_codes_in_a_request_cannot_be_met():
    """A need no option lists (e.g. a newer vocabulary) excludes everything rather than being ignored."""
    request = make_request(needs={"bsl", "guide_dog"})
    assert reasons(request, make_option(needs_met={"bsl"})) == ("Needs not met: guide_dog",)


def test_explain_exclusions_on_demand():
    request = make_request()
    options = [make_option(id="A"), make_option(id="B", places=0), make_option(id="C", ofsted="inadequate")]
    why = explain_exclusions(request, options, ["C", "A"])
    assert [(e.option, e.reasons) for e in why] == [("C", ("Rated Inadequate by Ofsted",))]
    assert [e.option for e in explain_exclusions(request, options)] == ["B", "C"]
    with pytest.raises(KeyError):
        explain_exclusions(request, options, ["nope"])
