"""One policy object: defaults, overrides and the promises it keeps."""

from __future__ import annotations

import pytest

from portal.matching import DEFAULT_POLICY, Policy


def test_defaults_keep_connected_persons_strictly_first():
    assert DEFAULT_POLICY.connected_person_points > (DEFAULT_POLICY.max_other_points()
                                                     + DEFAULT_POLICY.max_other_penalty())


def test_overrides_make_a_new_policy_and_leave_the_default_alone():
    policy = Policy.from_overrides({"own_la_points": 55, "far_distance_miles": 15})
    assert (policy.own_la_points, policy.far_distance_miles) == (55, 15.0)
    assert DEFAULT_POLICY.own_la_points == 60
    assert Policy.from_overrides({}) is DEFAULT_POLICY


@pytest.mark.parametrize("overrides, message", [
    ({"own_la_point": 1}, "unknown policy setting (did you mean 'own_la_points'?)"),
    ({"own_la_points": 2.5}, "must be a whole number"),
    ({"own_la_points": True}, "must be a whole number"),
    ({"own_la_points": -5}, "must not be negative"),
    ({"connected_person_points": 100}, "so that an eligible connected person always ranks first"),
    ({"preferred_setting_points": 20}, "so that the child's preferred setting type wins"),
    ({"connected_person_stages": ["approved", "friend"]}, "unknown stage 'friend'"),
])
def test_bad_overrides_are_refused_by_name(overrides, message):
    with pytest.raises(ValueError, match=r"policy\.") as caught:
        Policy.from_overrides(overrides)
    assert message in str(caught.value)


def test_pinned_regional_medians_replace_the_median_of_the_options_given():
    from portal.matching import Policy

    pinned = Policy.from_overrides({"regional_median_fee_gbp_week": {"foster": 900, "residential": 5000.5}})
    assert pinned.pinned_medians() == {"foster": 900.0, "residential": 5000.5}
    assert pinned.to_dict()["regional_median_fee_gbp_week"] == {"foster": 900.0, "residential": 5000.5}
    assert Policy().pinned_medians() == {}


@pytest.mark.parametrize("value, message", [
    ([900], "must be an object of option kind to weekly fee"),
    ({"castle": 900}, "unknown option kind 'castle'"),
    ({"foster": -1}, "must be a weekly fee of 0 or more"),
    ({"foster": "lots"}, "must be a weekly fee of 0 or more"),
])
def test_bad_pinned_medians_are_refused(value, message):
    from portal.matching import Policy

    with pytest.raises(ValueError, match=message):
        Policy.from_overrides({"regional_median_fee_gbp_week": value})
