"""Re-check any allocation independently of the solver (the portal runs this before saving one).

`validate_allocation` recomputes, with the scalar reference rules and scores (eligibility.py, scoring.py), not the
solver's arrays: every assignment is eligible, places hold, sibling groups are together or all unplaced, a
connected person serves only their own child or sibling group, every request is either assigned or unplaced with a
reason, and the objective, the band counts, bound, gap and status are consistent. Then the lexicographic order is
checked where it can be checked locally: no unplaced child or group fits an eligible option that still has room;
no unplaced child could take the place of a less urgent child in an option both are eligible for; and no placed
child or group could move to an eligible option with room for a strictly higher score. (Candidate options for
these local checks come from the vectorised index; each violation found is confirmed with the scalar rules.)
"""

from __future__ import annotations

from collections.abc import Sequence

from .eligibility import Group, check_option
from .policy import Policy
from .rank import OptionIndex, eligible_scores
from .scoring import regional_medians, score_option
from .types import Allocation, OptionSpec, RequestSpec

__all__ = ["validate_allocation"]

_BANDS = ("today", "within_5_days", "over_5_days")


def validate_allocation(requests: Sequence[RequestSpec], options: Sequence[OptionSpec] | OptionIndex,
                        allocation: Allocation, policy: Policy | None = None, *,
                        local_checks: bool = True) -> list[str]:
    """Problems with `allocation` (an empty list when it is valid). See the module docstring."""
    if isinstance(options, OptionIndex):
        index, options = options, options.options
        policy = policy or index.policy
    else:
        policy = policy or Policy()
        index = None
    problems: list[str] = []
    by_id = {r.id: r for r in requests}
    option_by_id = {o.id: o for o in options}
    if len(by_id) != len(requests):
        problems.append("duplicate request ids")
    groups: dict[str, list[RequestSpec]] = {}
    for r in requests:
        if r.sibling_group is not None:
            groups.setdefault(r.sibling_group, []).append(r)

    def group_of(r: RequestSpec) -> Group:
        members = groups.get(r.sibling_group, [r]) if r.sibling_group is not None else [r]
        return Group(frozenset(m.id for m in members))

    assigned: dict[str, str] = {}
    for a in allocation.assignments:
        if a.request not in by_id:
            problems.append(f"assignment for unknown request {a.request!r}")
        elif a.option not in option_by_id:
            problems.append(f"{a.request}: assigned to unknown option {a.option!r}")
        elif a.request in assigned:
            problems.append(f"{a.request}: assigned more than once")
        else:
            assigned[a.request] = a.option
    unplaced = {}
    for u in allocation.unplaced:
        if u.request in assigned or u.request in unplaced:
            problems.append(f"{u.request}: both assigned and unplaced, or unplaced twice")
        if not u.reason.strip():
            problems.append(f"{u.request}: unplaced without a reason")
        unplaced[u.request] = u.reason
    for r in requests:
        if r.id not in assigned and r.id not in unplaced:
            problems.append(f"{r.id}: neither assigned nor listed as unplaced")
    for rid in unplaced:
        if rid not in by_id:
            problems.append(f"unplaced entry for unknown request {rid!r}")

    # eligibility, connected persons, scores
    medians = policy.pinned_medians() or regional_medians(options)
    objective = 0
    placed = dict.fromkeys(_BANDS, 0)
    for rid, oid in assigned.items():
        r, o = by_id[rid], option_by_id[oid]
        group = group_of(r)
        reasons = check_option(r, o, policy, group)
        if reasons:
            problems.append(f"{rid} -> {oid}: not eligible: {'; '.join(reasons)}")
        if o.kind == "connected_person" and o.for_request not in group.ids:
            problems.append(f"{rid} -> {oid}: connected person for another child ({o.for_request})")
        objective += score_option(r, o, policy, medians, group).score
        placed[r.urgency] += 1

    # capacity
    use: dict[str, int] = {}
    for oid in assigned.values():
        use[oid] = use.get(oid, 0) + 1
    for oid, count in use.items():
        if count > option_by_id[oid].capacity:
            problems.append(f"{oid}: {count} children assigned, capacity {option_by_id[oid].capacity}")

    # siblings together
    for name, members in groups.items():
        picks = {assigned.get(m.id) for m in members}
        if len(picks) > 1:
            problems.append(f"sibling group {name!r} split: " + ", ".join(
                f"{m.id} -> {assigned.get(m.id) or 'unplaced'}" for m in members))

    # reported numbers
    if allocation.objective != objective:
        problems.append(f"objective {allocation.objective} but the assigned scores add up to {objective}")
    if dict(allocation.placed) and dict(allocation.placed) != placed:
        problems.append(f"placed counts {dict(allocation.placed)} but the assignments give {placed}")
    if allocation.status not in ("optimal", "feasible"):
        problems.append(f"unknown status {allocation.status!r}")
    if allocation.bound < allocation.objective:
        problems.append(f"bound {allocation.bound} is below the objective {allocation.objective}")
    if allocation.status == "optimal" and allocation.bound != allocation.objective:
        problems.append("status optimal but bound and objective differ")
    expected_gap = (allocation.bound - allocation.objective) / max(1, abs(allocation.bound))
    if abs(allocation.gap - expected_gap) > 1e-9:
        problems.append(f"gap {allocation.gap} should be {expected_gap}")

    if local_checks and not problems:
        problems += _local_checks(requests, options, index, policy, by_id, option_by_id, assigned, groups,
                                  group_of, medians)
    return problems


def _local_checks(requests, options, index, policy, by_id, option_by_id, assigned, groups, group_of, medians):
    """Lexicographic order, where a single move shows a better allocation exists."""
    index = index or OptionIndex.build(options, policy)
    problems: list[str] = []
    free = {o.id: o.capacity for o in options}
    for oid in assigned.values():
        free[oid] -= 1
    units: list[list[RequestSpec]] = []
    seen: set[str] = set()
    for r in requests:
        if r.sibling_group is None:
            units.append([r])
        elif r.sibling_group not in seen:
            seen.add(r.sibling_group)
            units.append(groups[r.sibling_group])
    holders: dict[str, list[list[RequestSpec]]] = {}
    for unit in units:
        oid = assigned.get(unit[0].id)
        if oid is not None:
            holders.setdefault(oid, []).append(unit)

    def eligible(unit: list[RequestSpec]) -> dict[str, int]:
        """option id -> summed score, for options the index finds eligible for every member."""
        group = group_of(unit[0])
        common: dict[str, int] | None = None
        for m in unit:
            rows, scores = eligible_scores(index, m, group)
            found = {index.ids[i]: s for i, s in zip(rows.tolist(), scores.tolist())}
            common = found if common is None else {k: v + found[k] for k, v in common.items() if k in found}
        return common or {}

    def confirmed(unit: list[RequestSpec], oid: str) -> int | None:
        """The unit's summed score for `oid` by the scalar reference, or None if it is not eligible."""
        group, o = group_of(unit[0]), option_by_id[oid]
        if any(check_option(m, o, policy, group) for m in unit):
            return None
        return sum(score_option(m, o, policy, medians, group).score for m in unit)

    for unit in units:
        size = len(unit)
        current = assigned.get(unit[0].id)
        names = ", ".join(m.id for m in unit)
        band = min(_BANDS.index(m.urgency) for m in unit)
        choices = eligible(unit)
        if current is None:
            roomy = [oid for oid in choices if free[oid] >= size and confirmed(unit, oid) is not None]
            if roomy:
                problems.append(f"{names}: unplaced, but eligible option {roomy[0]} has room")
            elif size == 1:
                for oid in choices:
                    takers = [o[0] for o in holders.get(oid, ())
                              if len(o) == 1 and _BANDS.index(o[0].urgency) > band]
                    if takers and confirmed(unit, oid) is not None:
                        problems.append(f"{names} ({unit[0].urgency}) is unplaced while {takers[0].id} "
                                        f"({takers[0].urgency}) holds {oid}, which {names} could take")
                        break
        else:
            mine = confirmed(unit, current)
            for oid, score in sorted(choices.items(), key=lambda item: -item[1]):
                if mine is None or score <= mine:
                    break
                if oid != current and free[oid] >= size:
                    better = confirmed(unit, oid)
                    if better is not None and better > mine:
                        problems.append(f"{names}: could move from {current} to {oid} (free) for a higher "
                                        f"score ({better} > {mine})")
                        break
    return problems
