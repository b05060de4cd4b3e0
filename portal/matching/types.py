"""Frozen dataclasses in and out of the matching core.

Inputs: `GridPoint`, `RequestSpec` (one child's placement request), `OptionSpec` (one option: a setting with free
places, or a connected person). Outputs: `ScorePart`, `Match`, `Exclusion`, `RankResult`, `Assignment`,
`Unplaced`, `Allocation`, and `Suggestion` / `CarerRecord` / `ChildRecord` for the fuzzy helpers.

Every output has `to_dict()` giving the JSON shape documented in docs/matching.md. The input classes coerce list
and set fields to frozensets so callers may pass plain lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from . import vocabulary as vocab

__all__ = [
    "Allocation",
    "Assignment",
    "CarerRecord",
    "ChildRecord",
    "Exclusion",
    "GridPoint",
    "Match",
    "OptionSpec",
    "RankResult",
    "RequestSpec",
    "ScorePart",
    "Suggestion",
    "Unplaced",
]


@dataclass(frozen=True, slots=True)
class GridPoint:
    """An OS National Grid point in metres (what the ONS postcode directory gives for every postcode)."""

    easting: int
    northing: int


def _freeze(obj: Any, name: str) -> None:
    """Coerce set-like fields to frozenset on a frozen dataclass instance."""
    value = getattr(obj, name)
    if not isinstance(value, frozenset):
        if isinstance(value, str):
            raise TypeError(f"{type(obj).__name__}.{name} must be a collection of codes, not a string")
        object.__setattr__(obj, name, frozenset(value))


@dataclass(frozen=True, kw_only=True)
class RequestSpec:
    """One child's placement request as the core sees it (no name, no date of birth).

    `age_years` is the child's age on `needed_by`. `suitability` maps each setting type (foster, residential,
    supported) to preferred / suitable / unsuitable; a missing key means suitable. `sibling_group` is shared by the
    requests that must be placed together in one setting. `arrival_order` only breaks ties in the greedy baseline.
    """

    id: str
    la: str
    home: GridPoint
    school: GridPoint | None = None
    keep_school: bool = False
    age_years: int
    sex: str
    needed_by: date
    urgency: str
    suitability: Mapping[str, str] = field(default_factory=dict)
    needs: frozenset[str] = frozenset()
    risks: frozenset[str] = frozenset()
    sibling_group: str | None = None
    budget_gbp_week: float | None = None
    language: str | None = None
    religion: str | None = None
    cultural_needs: str = "not_known"
    pets: str = "unknown"
    living_companions: str = "no_preference"
    avoid_las: frozenset[str] = frozenset()
    family: GridPoint | None = None
    arrival_order: int = 0

    def __post_init__(self) -> None:
        for name in ("needs", "risks", "avoid_las"):
            _freeze(self, name)
        suitability = {key: "suitable" for key in vocab.SETTING_TYPES}
        suitability.update(self.suitability)
        object.__setattr__(self, "suitability", MappingProxyType(suitability))

    def __hash__(self) -> int:
        return hash((type(self), self.id))


@dataclass(frozen=True, kw_only=True)
class OptionSpec:
    """One option for a child: a setting with free places (a vacancy) or a connected person.

    `kind` is foster, residential, supported or connected_person. A connected person has `for_request` (the
    request, or any request of the sibling group, it was put forward for) and `connected_stage` (a key of
    vocabulary.CONNECTED_PERSON_STAGES). `places` are the free places from `available_from`. `provider_id` and
    `setting_id` are labels passed through for the portal; the core never reads them.
    """

    id: str
    kind: str
    for_request: str | None = None
    provider_code: str
    provider_approved: bool = True
    la: str
    location: GridPoint
    places: int
    available_from: date
    age_min: int
    age_max: int
    sexes: frozenset[str]
    needs_met: frozenset[str] = frozenset()
    risks_managed: frozenset[str] = frozenset()
    ofsted: str | None = None
    fee_gbp_week: float | None = None
    languages: frozenset[str] = frozenset()
    religions: frozenset[str] = frozenset()
    has_pets: bool = False
    takes_siblings: bool = True
    solo_only: bool = False
    stale: bool = False
    connected_stage: str | None = None
    provider_id: str | None = None
    setting_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("sexes", "needs_met", "risks_managed", "languages", "religions"):
            _freeze(self, name)
        if self.kind not in vocab.OPTION_KINDS:
            raise ValueError(f"option {self.id!r}: unknown kind {self.kind!r}")
        if self.kind == "connected_person":
            if self.for_request is None:
                raise ValueError(f"option {self.id!r}: a connected person needs for_request")
            if self.connected_stage not in vocab.CONNECTED_PERSON_STAGES:
                raise ValueError(f"option {self.id!r}: a connected person needs connected_stage, one of "
                                 f"{', '.join(vocab.CONNECTED_PERSON_STAGES)}")
        elif self.for_request is not None:
            raise ValueError(f"option {self.id!r}: for_request is only for connected persons")

    @property
    def setting_type(self) -> str:
        """The setting type judged by the child's suitability: a connected person is a family foster placement."""
        return "foster" if self.kind == "connected_person" else self.kind

    @property
    def capacity(self) -> int:
        """Places the solver may fill: a solo-only setting takes one child whatever its places say."""
        return min(self.places, 1) if self.solo_only else max(self.places, 0)


# ---------------------------------------------------------------------------------------------------------- out


@dataclass(frozen=True, slots=True)
class ScorePart:
    """One line of a match's score breakdown: a criterion, its points and a sentence saying why."""

    criterion: str
    points: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "points": self.points, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Match:
    """One eligible option for one request. `score == sum(part.points for part in parts)` always."""

    option: str
    score: int
    parts: tuple[ScorePart, ...]
    flags: frozenset[str]
    distance_miles: float
    school_distance_miles: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "option": self.option,
            "score": self.score,
            "parts": [part.to_dict() for part in self.parts],
            "flags": sorted(self.flags),
            "distance_miles": self.distance_miles,
            "school_distance_miles": self.school_distance_miles,
        }


@dataclass(frozen=True, slots=True)
class Exclusion:
    """An option that is not eligible for a request, with one readable sentence per failed rule."""

    option: str
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"option": self.option, "reasons": list(self.reasons)}


EXCLUSION_MODES = ("none", "counts", "all")


@dataclass(frozen=True, slots=True)
class RankResult:
    """Every option for one request: eligible ones best first, excluded ones (in input order) with reasons.

    `eligible` is the number of eligible options even when `matches` was cut to a `limit`; `ineligible` the
    number of the others. What is said of the excluded depends on `exclusions` (docs/matching.md, "Exclusion
    modes"): "all" lists each in `excluded` with its reasons; "counts" gives `exclusion_counts`, per rule how
    many options fail it (an option failing two rules counts under both); "none" only the numbers.
    """

    request: str
    matches: tuple[Match, ...]
    excluded: tuple[Exclusion, ...]
    eligible: int = 0
    ineligible: int = 0
    exclusion_counts: Mapping[str, int] = field(default_factory=dict)
    exclusions: str = "all"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request": self.request,
            "matches": [match.to_dict() for match in self.matches],
        }
        if self.exclusions == "all":
            out["excluded"] = [exclusion.to_dict() for exclusion in self.excluded]
            return out
        out["eligible"] = self.eligible
        out["ineligible"] = self.ineligible
        if self.exclusions == "counts":
            out["exclusion_counts"] = dict(self.exclusion_counts)
        return out


@dataclass(frozen=True, slots=True)
class Assignment:
    request: str
    option: str

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request, "option": self.option}


@dataclass(frozen=True, slots=True)
class Unplaced:
    request: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request, "reason": self.reason}


@dataclass(frozen=True)
class Allocation:
    """A region-wide recommendation.

    `objective` is the sum of the assigned matches' rank scores. `bound` is a proven upper bound on the score sum of
    any allocation placing as many children in each urgency band as this one; when `status` is "optimal" the band
    counts are proven lexicographically best and `bound == objective`. `gap = (bound - objective) / max(1, |bound|)`.
    `placed` counts the children placed per urgency band (today, within_5_days, over_5_days); `bound_placed` is
    the relaxation's count per band, a lexicographic upper bound on what any allocation can place (equal to
    `placed` when the counts are proven best). `stopped_by` is None when the search finished (proven optimal, or
    nothing left to try), "work_limit" when a deterministic work limit ended it (the same answer on every
    machine), and "safety_time_limit" when the wall-clock safety net fired (the answer may then vary).
    """

    assignments: tuple[Assignment, ...]
    unplaced: tuple[Unplaced, ...]
    objective: int
    bound: int
    gap: float
    status: str
    placed: Mapping[str, int] = field(default_factory=dict)
    bound_placed: Mapping[str, int] = field(default_factory=dict)
    stopped_by: str | None = None

    def option_for(self, request_id: str) -> str | None:
        for assignment in self.assignments:
            if assignment.request == request_id:
                return assignment.option
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignments": [a.to_dict() for a in self.assignments],
            "unplaced": [u.to_dict() for u in self.unplaced],
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "status": self.status,
            "placed": dict(self.placed),
            "bound_placed": dict(self.bound_placed),
            "stopped_by": self.stopped_by,
        }


# ---------------------------------------------------------------------------------------------------- fuzzy


@dataclass(frozen=True, slots=True)
class CarerRecord:
    """A registered foster carer (or household) a named connected person might already be."""

    id: str
    name: str
    postcode: str | None = None


@dataclass(frozen=True, slots=True)
class ChildRecord:
    """The identifying part of a placement request, for duplicate detection only (never leaves the portal)."""

    id: str
    la: str
    name: str
    date_of_birth: date


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A possible match for a person to confirm: never acted on without a person deciding.

    `score` is 0-100; `strength` is "strong" at or above the policy's strong threshold, otherwise "possible".
    """

    id: str
    score: float
    strength: str
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "score": self.score, "strength": self.strength, "reasons": list(self.reasons)}
