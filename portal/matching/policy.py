"""Every weight and threshold of the matching policy, in one frozen object (DESIGN.md §4).

Points are integers. Bonuses and penalties are stored as non-negative magnitudes: a field ending in `_points` is
added, a field ending in `_penalty` is subtracted. `Policy.from_overrides({...})` makes a variant from a problem
file's `"policy"` object and rejects unknown keys, wrong types and combinations that would break the two promises
the policy makes:

* connected persons strictly first (s22C(6)(a)): `connected_person_points` is larger than the widest possible
  spread of all other points, so an eligible connected person outscores every other option whatever their points;
* the s22C order yields to the child's plan: `preferred_setting_points` is larger than the spread of the s22C
  setting-type points, so a preferred children's home beats a suitable-but-not-preferred LA foster carer.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from . import vocabulary as vocab

__all__ = ["DEFAULT_POLICY", "Policy"]


@dataclass(frozen=True)
class Policy:
    """The matching policy. Defaults are the region's agreed starting point; see docs/matching.md for the table."""

    # --- connected persons first (s22C(6)(a)) -----------------------------------------------------------------
    connected_person_points: int = 1000
    """Tier bonus for an eligible connected person; must exceed the spread of every other score part."""
    connected_person_stages: tuple[str, ...] = ("viability", "temporary_approval", "approved")
    """Assessment stages at which a connected person can be placed with (others are excluded)."""

    # --- s22C order: LA foster carers, then agency foster carers, then children's homes, then the rest ----------
    la_foster_points: int = 30
    agency_foster_points: int = 20
    residential_points: int = 10
    supported_points: int = 0
    preferred_setting_points: int = 35
    """For the setting type the child's plan marks preferred; beats the s22C spread (the plan wins)."""

    # --- locality (s22C(8)(a), (8)(b), (9); the DfE's "placed more than 20 miles from home": docs/matching.md) ----
    own_la_points: int = 60
    """Inside the child's own LA (s22C(9): a duty unless not reasonably practicable): worth 30 miles. On the
    simulated scarce regions this places more children in their own LA than the weights before issue 12 did, and
    as many within 20 miles (docs/matching.md, "Why these weights")."""
    distance_points_per_mile: int = 2
    """Penalty per whole mile from home (903 PL_DISTANCE), capped at `distance_penalty_cap`. Two a mile, so that a
    few miles outweigh small differences in fee (see the budget and regional-median points)."""
    distance_penalty_cap: int = 200
    """At most this much for distance from home (100 miles: farther than any two points of the region)."""
    far_distance_miles: float = 20.0
    """Over this many miles from home a match is flagged over_20_miles and penalised: the line the DfE's
    statistics draw ("20 miles or less" / "over 20 miles" from home, from the SSDA903 return)."""
    over_20_miles_penalty: int = 30
    """A step at the DfE's line worth 15 miles: more than the Ofsted or s22C setting-type spread, less than the
    setting type the child's plan prefers."""
    school_points_per_mile: int = 2
    """When the child keeps their school: penalty per whole mile from the school, capped (on top of the distance
    from home, which always counts: s22C(8)(b) and (8)(a) both)."""
    school_penalty_cap: int = 40
    school_far_miles: float = 10.0
    """Flag far_from_school above this distance when the child keeps their school."""
    near_family_miles: float = 5.0
    near_family_points: int = 10

    # --- siblings ------------------------------------------------------------------------------------------------
    siblings_together_points: int = 15

    # --- quality and cost ----------------------------------------------------------------------------------------
    ofsted_outstanding_points: int = 10
    ofsted_good_points: int = 5
    ofsted_unrated_points: int = 0
    ofsted_requires_improvement_penalty: int = 10
    within_budget_points: int = 0
    """For a fee within the request's budget (0 by default: no step at the budget line; the penalty below grows
    from nothing)."""
    over_budget_penalty_per_percent: int = 1
    """For a fee over the request's budget: this much for every 1% (or part of 1%) of the budget it is over, so
    £6 over a £1,000 budget costs 1 point, 10% over costs 10 (5 miles), at most `over_budget_penalty_cap`."""
    over_budget_penalty_cap: int = 50
    below_median_points: int = 2
    """Fee at or below the regional median weekly fee for the option's kind (median of the options given)."""
    above_median_ratio: float = 1.25
    above_median_penalty: int = 5
    """Fee more than `above_median_ratio` times the regional median for its kind."""
    stale_penalty: int = 10
    """The vacancy has not been confirmed recently (the provider's data may be out of date)."""

    # --- fit ------------------------------------------------------------------------------------------------------
    language_points: int = 10
    religion_points: int = 5
    culture_points: int = 5

    # --- allocation -------------------------------------------------------------------------------------------------
    candidates_per_request: int = 15
    """Candidates per child or sibling group in the exact sibling-repair model: the cheapest by reduced cost (the
    best scores where places are plentiful), plus the options the flow relaxation used."""

    # --- fuzzy matching (suggestions only) -------------------------------------------------------------------------
    fuzzy_suggest_threshold: float = 80.0
    """Name similarity (0-100, after normalisation) from which a person is suggested for checking."""
    fuzzy_strong_threshold: float = 92.0
    """From this combined score a suggestion is marked strong (still only a suggestion)."""
    fuzzy_same_postcode_bonus: float = 8.0
    fuzzy_same_district_bonus: float = 3.0
    regional_median_fee_gbp_week: tuple[tuple[str, float], ...] = ()
    """Pinned regional median weekly fees per option kind ((kind, fee) pairs; in a problem file an object such as
    {"foster": 850}). Empty (the default): the median of the options given. The portal pins them when it saves a
    ranking with only the options that matched, so `python -m portal.matching rank` re-runs it exactly."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                raise ValueError(f"policy.{f.name}: must be a number, not true/false")
            if isinstance(value, (int, float)) and value < 0:
                raise ValueError(f"policy.{f.name}: must not be negative (penalties are stored as magnitudes)")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"policy.{f.name}: must be a finite number")
        unknown = [s for s in self.connected_person_stages if s not in vocab.CONNECTED_PERSON_STAGES]
        if unknown:
            raise ValueError(f"policy.connected_person_stages: unknown stage {unknown[0]!r}")
        if self.above_median_ratio < 1:
            raise ValueError("policy.above_median_ratio: must be at least 1")
        if self.candidates_per_request < 1:
            raise ValueError("policy.candidates_per_request: must be at least 1")
        if not self.fuzzy_suggest_threshold <= self.fuzzy_strong_threshold <= 100:
            raise ValueError("policy.fuzzy_strong_threshold: must be between fuzzy_suggest_threshold and 100")
        spread = self.max_other_points() + self.max_other_penalty()
        if self.connected_person_points <= spread:
            raise ValueError(
                f"policy.connected_person_points: must be more than {spread}, the widest spread of the other "
                "points, so that an eligible connected person always ranks first (s22C)")
        s22c = self.setting_type_points()
        if self.preferred_setting_points <= max(s22c.values()) - min(s22c.values()):
            raise ValueError(
                "policy.preferred_setting_points: must be more than the spread of the s22C setting-type points, "
                "so that the child's preferred setting type wins")

    # ------------------------------------------------------------------------------------------------------------
    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None, base: Policy | None = None) -> Policy:
        """A policy with `overrides` applied to `base` (the defaults). Raises ValueError naming a bad key."""
        base = base or DEFAULT_POLICY
        if not overrides:
            return base
        if not isinstance(overrides, Mapping):
            raise ValueError("policy: must be an object of overrides")
        known = {f.name: f for f in fields(cls)}
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            if key == "regional_median_fee_gbp_week":
                changes[key] = _median_fees(value)
                continue
            if key not in known:
                hint = _closest(key, known)
                raise ValueError(f"policy.{key}: unknown policy setting" + (f" (did you mean {hint!r}?)" if hint else ""))
            default = getattr(base, key)
            if isinstance(default, tuple):
                if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"policy.{key}: must be a list of codes")
                value = tuple(value)
            elif isinstance(default, int):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"policy.{key}: must be a whole number")
            elif isinstance(default, float):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"policy.{key}: must be a number")
                value = float(value)
            changes[key] = value
        return dataclasses.replace(base, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}
        out["regional_median_fee_gbp_week"] = dict(self.regional_median_fee_gbp_week)
        return out

    def pinned_medians(self) -> dict[str, float]:
        return dict(self.regional_median_fee_gbp_week)

    # ------------------------------------------------------------------------------------------------------------
    def setting_type_points(self) -> dict[str, int]:
        """s22C order points by class of setting."""
        return {
            "la_foster": self.la_foster_points,
            "agency_foster": self.agency_foster_points,
            "residential": self.residential_points,
            "supported": self.supported_points,
        }

    def ofsted_points(self) -> dict[str | None, int]:
        return {
            "outstanding": self.ofsted_outstanding_points,
            "good": self.ofsted_good_points,
            "requires_improvement": -self.ofsted_requires_improvement_penalty,
            None: self.ofsted_unrated_points,
        }

    def max_other_points(self) -> int:
        """The most any option can gain from all parts other than the connected-person tier."""
        return (max(self.setting_type_points().values()) + self.preferred_setting_points + self.own_la_points
                + self.near_family_points + self.siblings_together_points
                + max(max(self.ofsted_points().values()), 0) + self.within_budget_points + self.below_median_points
                + self.language_points + self.religion_points + self.culture_points)

    def max_other_penalty(self) -> int:
        """The most any option can lose from all parts (as a positive number)."""
        return (self.distance_penalty_cap + self.over_20_miles_penalty + self.school_penalty_cap
                + max(-min(self.ofsted_points().values()), 0) + self.over_budget_penalty_cap + self.above_median_penalty
                + self.stale_penalty)


def _closest(key: str, known: Mapping[str, Any]) -> str | None:
    from rapidfuzz import process

    hit = process.extractOne(key, list(known), score_cutoff=70)
    return hit[0] if hit else None


DEFAULT_POLICY = Policy()


def _median_fees(value: Any) -> tuple[tuple[str, float], ...]:
    """Read pinned regional medians: an object of option kind -> weekly fee."""
    if not isinstance(value, Mapping):
        raise ValueError("policy.regional_median_fee_gbp_week: must be an object of option kind to weekly fee")
    out = []
    for kind, fee in value.items():
        if kind not in vocab.OPTION_KINDS:
            raise ValueError(f"policy.regional_median_fee_gbp_week: unknown option kind {kind!r}")
        if isinstance(fee, bool) or not isinstance(fee, (int, float)) or not math.isfinite(fee) or fee < 0:
            raise ValueError(f"policy.regional_median_fee_gbp_week.{kind}: must be a weekly fee of 0 or more")
        out.append((kind, float(fee)))
    return tuple(sorted(out))
