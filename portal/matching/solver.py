"""Region-wide allocation: each request at most one option, capacity held, sibling groups all-or-nothing.

Objective, in strict order (issue 3 §3): children placed in the `today` band, then `within_5_days`, then
`over_5_days`, then the sum of the assigned matches' rank scores. So no child is left unplaced to give another
child a better score. One integer objective encodes the order: each placed child earns its band's weight W_b
plus its score, with

    W_over_5_days = R,  W_within_5_days = n_over * W_over + R,  W_today = n_within * W_within + n_over * W_over + R

where R exceeds the widest possible change in the score sum and n_b counts the band's children that have any
eligible option. One more child in a band then outweighs anything the lower bands and the scores can give.

Method (the recipe measured in issue 3: full-model CP-SAT does not scale past ~300k candidate pairs):

1. Min-cost flow (OR-Tools SimpleMinCostFlow): source -> child (capacity 1) -> option (1) -> sink (the option's
   places), plus a source -> sink arc for "unplaced". Each sibling may go to any option eligible for the whole
   group, not necessarily the same one as the others: a relaxation, so its optimum is a proven upper bound, and
   when it splits no group it is the optimum. Arcs below a child's best options whose places add up to more than
   the number of other children are left out (one of those would always have room: exact, and 2-3x faster).
   Where children keep many arcs (plentiful places) the flow is solved by pricing (`_priced_flow`): first over
   each child's best few arcs, then with the arcs its dual prices leave uncovered, until the prices prove it
   optimal over every kept arc (LP duality; about 4x faster on 1,000 children x 10,000 options).
2. If a group was split: dual prices for the relaxation (a few Bellman-Ford rounds from the optimal flow) give
   every (child, option) pair a reduced cost, and a tighter bound (`_group_bound`): every allocation that keeps
   siblings together loses at least, per split group, the cheapest way to reunite or leave out that group.
3. A first allocation (split groups out, singles re-placed by one exact flow, `_fill`), then an exact branch and
   bound over the split groups (`_BranchAndBound`): nodes fix groups in an option or out, bounded by the flow over
   the rest and the group bound; a node whose flow splits no group is solved. An empty tree proves optimality.
4. If the search's first work budget runs out: the exact 0/1 model (CP-SAT, `_Repair`) over each unit's
   `policy.candidates_per_request` cheapest options by reduced cost plus the options the flow used, siblings
   all-or-nothing in one setting, in two stages with small coefficients: the most children per band, then
   (holding those) the best score sum. Then the search again from the better allocation, with its second budget.
5. When not proven optimal, single moves that are certainly better are applied (`_polish`), so the local checks
   of validation.py pass.

`bound`, `gap`, `status`: the bound on the weighted objective is the lowest of the flow's optimum, the group bound
of step 2, the best open node of the search when its work ran out, and (when the exact model saw every eligible
option of every unit and proved both stages) the exact optimum. `Allocation.bound` is that minus the band weights
of the children this allocation places: a proven upper bound on the score sum of any allocation placing at least
as many children, lexicographically (the optimum does). `status` is "optimal" only when the allocation reaches
the bound (`bound == objective`, `gap == 0`), otherwise "feasible". `bound_placed` decodes the bound into band
counts no allocation can beat lexicographically (`_decode_counts`).

Determinism (docs/matching.md): no clock decides anything. The search stops after a fixed number of arc visits
(`BRANCH_WORK_ARCS`), CP-SAT runs on one worker with a fixed seed and a deterministic-time limit
(`REPAIR_DETERMINISTIC_TIME`), so the same problem always gives the same answer. `time_limit_s` is only a safety
net; when it fires the allocation says so (`stopped_by == "safety_time_limit"`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import vocabulary as vocab
from .eligibility import Group
from .policy import Policy
from .rank import OptionIndex, _as_index, eligible_scores, exclusion_summary
from .types import Allocation, Assignment, OptionSpec, RequestSpec, Unplaced

# One CP-SAT solve at a time per process. Solves of different models from several threads of one process have
# crashed the process (google/or-tools#1958, fixed for its reporter only by a lock around Solve); a web worker's
# threads can run two (two administrators on the allocation page), and a solve is rare and bounded by its time
# limit, so the second simply waits its turn (issue 16 §3).
_SOLVE_LOCK = threading.Lock()

__all__ = ["Unit", "allocate", "band_weights", "build_units", "greedy_assign"]

BANDS = vocab.URGENCY_ORDER  # today, within_5_days, over_5_days


@dataclass
class Unit:
    """A child, or a sibling group to be placed together, with the options eligible for every member.

    `rows` are option positions, best first by the summed score `scores`; `member_scores[i]` are member i's own
    scores for the same rows (the flow's arc costs).
    """

    members: tuple[RequestSpec, ...]
    group: Group
    rows: np.ndarray
    scores: np.ndarray
    member_scores: list[np.ndarray]
    _common: dict[int, int] | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def band(self) -> int:
        """The most urgent band among the members (greedy order and "more urgent" reasons)."""
        return min(BANDS.index(m.urgency) for m in self.members)

    def score_for(self, option: int) -> int:
        """The unit's summed score for an option position (which must be eligible)."""
        return int(self.scores[np.flatnonzero(self.rows == option)[0]])

    @property
    def common(self) -> dict[int, int]:
        """option position -> summed score, for options eligible for every member."""
        if self._common is None:
            self._common = dict(zip(self.rows.tolist(), self.scores.tolist()))
        return self._common


def build_units(requests: Sequence[RequestSpec], index: OptionIndex) -> list[Unit]:
    """Group requests into units and score every eligible (member, option) pair with the vectorised rank."""
    by_group: dict[str, list[RequestSpec]] = {}
    for r in requests:
        if r.sibling_group is not None:
            by_group.setdefault(r.sibling_group, []).append(r)
    units: list[Unit] = []
    seen_groups: set[str] = set()
    for r in requests:
        if r.sibling_group is None:
            members = (r,)
        elif r.sibling_group in seen_groups:
            continue
        else:
            seen_groups.add(r.sibling_group)
            members = tuple(by_group[r.sibling_group])
        group = Group(frozenset(m.id for m in members))
        if len(members) == 1:
            rows, scores = eligible_scores(index, r, group)
            units.append(Unit(members, group, rows, scores, [scores]))
            continue
        per_member = []
        for m in members:
            rows, scores = eligible_scores(index, m, group)
            order = np.argsort(rows)
            per_member.append((rows[order], scores[order]))
        common = per_member[0][0]
        for rows, _ in per_member[1:]:
            common = np.intersect1d(common, rows, assume_unique=True)
        member_scores = [scores[np.searchsorted(rows, common)] for rows, scores in per_member]
        total = np.sum(member_scores, axis=0) if common.size else np.zeros(0, dtype=np.int64)
        order = np.lexsort((common, -total))
        units.append(Unit(members, group, common[order], total[order], [s[order] for s in member_scores]))
    return units


def band_weights(units: Sequence[Unit]) -> dict[str, int]:
    """Weights per urgency band making the objective lexicographic (see the module docstring)."""
    spread = 1
    counts = dict.fromkeys(BANDS, 0)
    for unit in units:
        if not unit.rows.size:
            continue
        for m, scores in zip(unit.members, unit.member_scores):
            spread += max(int(scores.max()), 0) - min(int(scores.min()), 0)
            counts[m.urgency] += 1
    w_over = spread
    w_within = counts["over_5_days"] * w_over + spread
    w_today = counts["within_5_days"] * w_within + counts["over_5_days"] * w_over + spread
    return {"today": w_today, "within_5_days": w_within, "over_5_days": w_over}


# ------------------------------------------------------------------------------------------------- allocate

# Deterministic work limits (docs/matching.md, "Determinism"): they, not the clock, decide when a stage stops.
# CP-SAT's deterministic time is its own measure of work (about a second of a typical core per unit); the branch
# and bound counts arcs of the flows it solves.
REPAIR_DETERMINISTIC_TIME = 0.5  # per stage of the exact repair model
BRANCH_WORK_ARCS = (10_000_000, 20_000_000)  # arc visits over the nodes, before and after the repair
SAFETY_TIME_LIMIT_S = 60.0


class _Safety:
    """The wall-clock safety net: never decides the answer unless it fires, and then the output says so."""

    def __init__(self, seconds: float):
        self.deadline = time.perf_counter() + seconds
        self.fired = False

    def remaining(self) -> float:
        return max(0.01, self.deadline - time.perf_counter())

    def expired(self) -> bool:
        if not self.fired and time.perf_counter() >= self.deadline:
            self.fired = True
        return self.fired


def allocate(requests: Sequence[RequestSpec], options: OptionIndex | Sequence[OptionSpec],
             policy: Policy | None = None, *, time_limit_s: float = SAFETY_TIME_LIMIT_S) -> Allocation:
    """The region-wide recommended allocation of `requests` to `options` (see the module docstring).

    `options` may be an `OptionIndex` (its policy is used) or a sequence. Raises ValueError on duplicate request
    ids. Every answer passes `validation.validate_allocation`. The answer depends only on the problem: work
    limits, not time, end each stage. `time_limit_s` is a safety net only; if it fires, the allocation is still
    valid but says so (`stopped_by == "safety_time_limit"`) and may differ from run to run.
    """
    safety = _Safety(time_limit_s)
    index = _as_index(options, policy)
    if policy is not None and policy != index.policy:
        raise ValueError("allocate: the index was built with a different policy")
    ids = [r.id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("allocate: duplicate request ids")
    units = build_units(requests, index)
    weights = band_weights(units)
    flow = _flow(units, index, weights)
    flow_choice = flow.choice()

    # The flow only offers each sibling options eligible for the whole group, so a group is split exactly when
    # its members got different options or some got none.
    choice: dict[int, int | None] = {}  # unit number -> option position
    split = False
    for u, unit in enumerate(units):
        picks = {flow_choice.get(m.id) for m in unit.members}
        choice[u] = picks.pop() if len(picks) == 1 else None
        split |= bool(picks)

    bound_value = flow.value
    stopped_by: str | None = None
    if split:
        group_bound, reduced = _group_bound(units, flow, index)
        bound_value = min(bound_value, group_bound)
        # A first allocation: the split groups left out and the singles re-placed around the rest by an exact
        # flow. Then the exact search over the split groups; if its first work budget does not settle it, the
        # exact model over each unit's cheapest candidates (CP-SAT, a deterministic work limit per stage) looks
        # for a better allocation, and the search starts again from that with the second budget.
        choice = _reflow_singles(units, index, weights, choice)
        _fill(units, index, choice)
        search = _BranchAndBound(units, index, weights, safety)
        choice, bound_value, stopped_by = search.run(choice, bound_value, BRANCH_WORK_ARCS[0])
        if stopped_by == "work_limit":
            repaired = _repair(units, index, weights, flow_choice, reduced, choice, safety)
            if repaired is not None:
                repaired_choice, proven = repaired
                if _value(units, repaired_choice, weights) > _value(units, choice, weights):
                    choice = repaired_choice
                if proven:
                    bound_value = min(bound_value, _value(units, choice, weights))
            if _value(units, choice, weights) < bound_value and not safety.expired():
                choice, bound_value, stopped_by = search.run(choice, bound_value, BRANCH_WORK_ARCS[1])
        if safety.fired:
            stopped_by = "safety_time_limit"
    _fill(units, index, choice)
    if _value(units, choice, weights) < bound_value:
        _polish(units, index, choice)

    placed = dict.fromkeys(BANDS, 0)
    score_sum = 0
    for u, unit in enumerate(units):
        o = choice.get(u)
        if o is not None:
            score_sum += unit.score_for(o)
            for m in unit.members:
                placed[m.urgency] += 1
    value = _value(units, choice, weights)
    bound_value = max(bound_value, value)  # polish may only have gained
    bound = bound_value - (value - score_sum)
    status = "optimal" if bound_value == value else "feasible"
    gap = (bound - score_sum) / max(1, abs(bound))

    bound_placed = _decode_counts(bound_value, weights, units)
    if status == "optimal":
        bound_placed = dict(placed)
        stopped_by = None if stopped_by != "safety_time_limit" else stopped_by
    assignments, unplaced = _describe(units, index, choice, status)
    return Allocation(tuple(assignments), tuple(unplaced), objective=score_sum, bound=bound, gap=gap,
                      status=status, placed=placed, bound_placed=bound_placed, stopped_by=stopped_by)


def _decode_counts(bound_value: int, weights: dict[str, int], units: Sequence[Unit]) -> dict[str, int]:
    """Band counts, most urgent first, that no allocation within `bound_value` can beat lexicographically.

    The weighted objective of any allocation is at most `bound_value`; each band weight exceeds everything the
    less urgent bands and the scores can add, so taking as many children of each band, in order, as the value
    left allows (capped at the band's children with an option) is a lexicographic upper bound on the counts.
    Scores may be negative, so the value left is first raised by the lowest score sum any allocation can have:
    an allocation's band weights can add up to more than its whole value.
    """
    have = dict.fromkeys(BANDS, 0)
    lowest_scores = 0
    for unit in units:
        if unit.rows.size:
            lowest_scores += min(0, int(unit.scores.min()))
            for m in unit.members:
                have[m.urgency] += 1
    out: dict[str, int] = {}
    left = bound_value - lowest_scores
    for band in BANDS:
        n = min(have[band], max(0, left) // weights[band])
        out[band] = int(n)
        if n < have[band]:
            # fewer than all: the next bands are bounded by their own numbers only (lexicographic order)
            for rest in BANDS[BANDS.index(band) + 1:]:
                out[rest] = have[rest]
            break
        left -= n * weights[band]
    return out


class _BranchAndBound:
    """Exact search over the sibling groups the flow relaxation splits (deterministic: no clock decides).

    A node fixes some groups (to one option, or out) and relaxes the rest; its upper bound is the flow over the
    free units with the fixed groups' places taken, tightened by the group bound. A node whose flow splits no
    free group is solved exactly (the singles are a flow problem). Otherwise the split group losing the most is
    branched on: out, or together in each option it fits, each child first bounded by the node's reduced costs
    and dropped unless it could beat the best allocation found. Best bound first; ties by creation order. When
    the heap empties the best allocation is proven optimal; when the work limit is reached the bound is the best
    open node's.
    """

    def __init__(self, units: Sequence[Unit], index: OptionIndex, weights: dict[str, int], safety: _Safety):
        self.units, self.index, self.weights, self.safety = units, index, weights, safety
        self.work_left = 0
        self.groups = [u for u, unit in enumerate(units) if unit.size > 1 and unit.rows.size]
        self.unit_weight = [sum(weights[m.urgency] for m in unit.members) for unit in units]
        self.arcs = _arcs(units, weights, index.capacity)
        # What a node costs at most, in arc visits: the flow and about ten rounds of dual prices over every arc.
        self.node_cost = 20 * int(self.arcs.all_m.size) + int(self.arcs.keep_m.size)

    def _node(self, fixed: dict[int, int | None]):
        capacity = self.index.capacity.copy()
        fixed_value = 0
        free_mask = np.ones(len(self.units), dtype=bool)
        for u, o in fixed.items():
            free_mask[u] = False
            if o is not None:
                capacity[o] -= self.units[u].size
                fixed_value += self.unit_weight[u] + self.units[u].score_for(o)
        free = np.flatnonzero(free_mask).tolist()
        sub = [self.units[u] for u in free]
        flow = _solve_flow(self.arcs, capacity, free_mask)
        self.work_left -= 10 * int(flow.arc_member.size) + int(self.arcs.keep_m.size)
        return free, sub, capacity, flow, fixed_value

    def run(self, choice: dict[int, int | None], bound_value: int, work_arcs: int):
        """(best choice, bound on the weighted objective, what stopped the search or None when proven)."""
        import heapq

        self.work_left = work_arcs
        best = dict(choice)
        best_value = _value(self.units, best, self.weights)
        heap: list[tuple[int, int, dict[int, int | None]]] = [(-bound_value, 0, {})]
        seq = 1
        stopped: str | None = None
        dive: tuple[int, int, dict[int, int | None]] | None = None  # first dive depth-first for an allocation
        diving = True
        while heap or dive is not None:
            if self.work_left <= 0:
                stopped = "work_limit"
                break
            if self.safety.expired():
                stopped = "safety_time_limit"
                break
            if self.node_cost > self.work_left:
                stopped = "work_limit"  # not even one more node fits in the budget (a large region)
                break
            if dive is not None:
                neg, _, fixed = dive
                dive = None
            else:
                neg, _, fixed = heapq.heappop(heap)
            if -neg <= best_value:
                continue
            free, sub, capacity, flow, fixed_value = self._node(fixed)
            node_bound = fixed_value + flow.value
            if node_bound <= best_value:
                continue
            picks_of = flow.choice()
            split = []
            node_choice = dict(fixed)
            for k, unit in enumerate(sub):
                picks = {picks_of.get(m.id) for m in unit.members}
                node_choice[free[k]] = picks.pop() if len(picks) == 1 else None
                if picks:
                    split.append(k)
            if not split:
                best, best_value = node_choice, node_bound  # exact at this node, and better than the best
                diving = False
                continue
            dual, reduced, away = _group_losses(sub, flow, self.index, capacity)
            self.work_left -= flow.dual_rounds * int(flow.arc_member.size)
            losses = {k: (min(int(reduced[k].min()), away[k]), away[k]) for k, unit in enumerate(sub)
                      if unit.size > 1 and unit.rows.size}
            total_loss = sum(loss for loss, _ in losses.values())
            node_bound = min(node_bound, fixed_value + dual - total_loss)
            if node_bound <= best_value:
                continue
            k = max(split, key=lambda k: (losses[k][0], -k))
            g = free[k]
            unit = sub[k]
            rest = fixed_value + dual - (total_loss - losses[k][0])
            children = []
            away_est = rest - losses[k][1]
            if away_est > best_value:
                children.append((away_est, None))
            fits = capacity[unit.rows] >= unit.size
            for o, together, ok in zip(unit.rows.tolist(), reduced[k].tolist(), fits.tolist()):
                est = rest - together
                if ok and est > best_value:
                    children.append((est, o))
            entries = []
            for est, o in children:
                entries.append((-min(est, node_bound), seq, {**fixed, g: o}))
                seq += 1
            if diving and entries:
                dive = min(entries, key=lambda e: e[:2])
                entries.remove(dive)
            for entry in entries:
                heapq.heappush(heap, entry)
        if stopped is None:
            return best, best_value, None
        open_bound = max([-neg for neg, _, _ in heap] + [-dive[0] if dive is not None else best_value]
                         + [best_value])
        return best, min(bound_value, open_bound), stopped


@dataclass
class _Flow:
    """The flow relaxation's optimum, with every eligible arc (member, option, profit) for the dual bound."""

    members: list[RequestSpec]
    arc_member: np.ndarray
    arc_option: np.ndarray
    arc_profit: np.ndarray
    arc_start: np.ndarray  # member i's arcs are arc_start[i]:arc_start[i + 1] (in its unit's row order)
    assigned: np.ndarray  # option position per member, -1 unplaced
    value: int
    dual_rounds: int = 0  # Bellman-Ford rounds `_duals` took (the branch and bound counts them as work)

    def choice(self) -> dict[str, int]:
        return {m.id: int(o) for m, o in zip(self.members, self.assigned.tolist()) if o >= 0}


def _top_by_capacity(scores: np.ndarray, rows: np.ndarray, capacity: np.ndarray, others: int) -> np.ndarray:
    """Indices of a member's best options whose places add up to more than `others` (all other members).

    Exact pruning for the relaxation: if a member sat anywhere below these, one of these would have room (the
    others cannot fill them all) and moving there would not lower the value.
    """
    order = np.argsort(-scores, kind="stable")
    enough = np.searchsorted(np.cumsum(capacity[rows[order]]), others + 1)
    return order[: enough + 1]


@dataclass
class _Arcs:
    """Every eligible (member, option, profit) arc of some units, and the ones the flow keeps (`_top_by_capacity`).

    Built once; the branch and bound solves flows over the members of the units still free at each node (taking
    places away only shrinks the others, so the arcs kept for the whole problem stay enough at every node).
    """

    members: list[RequestSpec]
    member_unit: np.ndarray
    all_m: np.ndarray
    all_o: np.ndarray
    all_p: np.ndarray
    keep_m: np.ndarray
    keep_o: np.ndarray
    keep_p: np.ndarray


def _arcs(units: Sequence[Unit], weights: dict[str, int], capacity: np.ndarray) -> _Arcs:
    members: list[RequestSpec] = []
    member_unit: list[int] = []
    all_m, all_o, all_p, keep_m, keep_o, keep_p = [], [], [], [], [], []
    total = sum(unit.size for unit in units if unit.rows.size)
    for k, unit in enumerate(units):
        for m, scores in zip(unit.members, unit.member_scores):
            members.append(m)
            member_unit.append(k)
            if not unit.rows.size:
                continue
            profit = weights[m.urgency] + scores
            who = np.full(unit.rows.size, len(members) - 1, dtype=np.int64)
            all_m.append(who)
            all_o.append(unit.rows)
            all_p.append(profit)
            top = _top_by_capacity(scores, unit.rows, capacity, total - 1)
            keep_m.append(who[top])
            keep_o.append(unit.rows[top])
            keep_p.append(profit[top])
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return _Arcs(members, np.array(member_unit, dtype=np.int64), cat(all_m), cat(all_o), cat(all_p), cat(keep_m),
                 cat(keep_o), cat(keep_p))


def _flow(units: Sequence[Unit], index: OptionIndex, weights: dict[str, int],
          capacity: np.ndarray | None = None) -> _Flow:
    """Min-cost flow relaxation: a sibling may go to any option eligible for the whole group, not necessarily
    the same as the others'. Its optimum is a proven upper bound on the weighted objective."""
    capacity = index.capacity if capacity is None else capacity
    return _solve_flow(_arcs(units, weights, capacity), capacity)


def _solve_flow(arcs: _Arcs, capacity: np.ndarray, free_units: np.ndarray | None = None) -> _Flow:
    """The flow over the members of `free_units` (a mask over the units the arcs were built for; all if None)."""
    all_m, all_o, all_p = arcs.all_m, arcs.all_o, arcs.all_p
    tail, option_pos, profit = arcs.keep_m, arcs.keep_o, arcs.keep_p
    members = arcs.members
    if free_units is not None:
        member_free = free_units[arcs.member_unit]
        renumber = np.cumsum(member_free) - 1
        members = [m for m, free in zip(members, member_free.tolist()) if free]
        on = member_free[all_m]
        all_m, all_o, all_p = renumber[all_m[on]], all_o[on], all_p[on]
        on = member_free[tail]
        tail, option_pos, profit = renumber[tail[on]], option_pos[on], profit[on]
    n = len(members)
    arc_start = np.zeros(n + 1, dtype=np.int64)
    arc_start[1:] = np.cumsum(np.bincount(all_m, minlength=n))
    if not tail.size:
        return _Flow(members, all_m, all_o, all_p, arc_start, np.full(n, -1, dtype=np.int64), 0)
    assigned, value = _priced_flow(n, tail, option_pos, profit, capacity)
    return _Flow(members, all_m, all_o, all_p, arc_start, assigned, value)


FLOW_FIRST_ARCS = 8  # each member's best kept arcs in the first restricted flow (`_priced_flow`)
FLOW_PRICING_ROUNDS = 4
FLOW_PRICING_MIN_ARCS = 256  # kept arcs per member above which pricing pays (measured: 445 per member, 4x faster)


def _priced_flow(n: int, tail: np.ndarray, option_pos: np.ndarray, profit: np.ndarray,
                 capacity: np.ndarray) -> tuple[np.ndarray, int]:
    """The optimal flow over the kept arcs, found by pricing (column generation) from each member's best few.

    The flow over a subset of the arcs is optimal over all of them when its dual prices (Bellman-Ford rounds from
    the subset's optimal flow, as in `_duals`) are feasible for every kept arc and reach the flow's value (LP
    duality: a feasible dual equal to a primal value proves both optimal). Arcs the prices do not cover are added
    and the subset solved again; after `FLOW_PRICING_ROUNDS` rounds, or when the prices do not close, the flow
    over every kept arc is solved. Exact either way, and deterministic (the rounds depend only on the problem).
    The kept arcs come member by member, best first (`_arcs`). Pricing only pays when members keep many arcs
    (plentiful places); otherwise the flow over every kept arc is solved at once.
    """
    if tail.size < FLOW_PRICING_MIN_ARCS * n:
        return _min_cost_flow(n, tail, option_pos, profit, capacity)
    first = np.ones(tail.size, dtype=bool)
    first[1:] = tail[1:] != tail[:-1]
    starts = np.flatnonzero(first)
    rank = np.arange(tail.size) - np.repeat(starts, np.diff(np.r_[starts, tail.size]))
    use = rank < FLOW_FIRST_ARCS
    for _ in range(FLOW_PRICING_ROUNDS):
        if use.all():
            break
        on = np.flatnonzero(use)
        assigned, value = _min_cost_flow(n, tail[on], option_pos[on], profit[on], capacity)
        u, v, dual = _prices(n, tail[on], option_pos[on], profit[on], assigned, capacity)
        if dual != value:
            break  # the prices did not close the subset's duality gap: solve the whole
        uncovered = ~use & (u[tail] + v[option_pos] < profit)
        if not uncovered.any():
            return assigned, value
        use |= uncovered
    return _min_cost_flow(n, tail, option_pos, profit, capacity)


def _min_cost_flow(n: int, tail: np.ndarray, option_pos: np.ndarray, profit: np.ndarray,
                   capacity: np.ndarray) -> tuple[np.ndarray, int]:
    from ortools.graph.python import min_cost_flow

    used, option_node = np.unique(option_pos, return_inverse=True)
    option_node = option_node.reshape(-1) + 1 + n
    source, sink = 0, 1 + n + used.size
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.zeros(n, dtype=np.int64), 1 + tail, 1 + n + np.arange(used.size), [source]]),
        np.concatenate([1 + np.arange(n), option_node, np.full(used.size, sink), [sink]]),
        np.concatenate([np.ones(n + tail.size, dtype=np.int64), capacity[used], [n]]),
        np.concatenate([np.zeros(n, dtype=np.int64), -profit, np.zeros(used.size + 1, dtype=np.int64)]),
    )
    smcf.set_nodes_supplies(np.array([source, sink]), np.array([n, -n]))
    status = smcf.solve()
    if status != smcf.OPTIMAL:  # pragma: no cover - only on cost overflow, far beyond a region's size
        raise RuntimeError(f"min-cost flow failed: {status}")
    flows = smcf.flows(np.arange(n, n + tail.size))
    chosen = np.flatnonzero(flows)
    assigned = np.full(n, -1, dtype=np.int64)
    assigned[tail[chosen]] = option_pos[chosen]
    return assigned, -smcf.optimal_cost()


def _prices(n: int, arc_m: np.ndarray, arc_o: np.ndarray, arc_p: np.ndarray, assigned: np.ndarray,
            capacity: np.ndarray, max_rounds: int = 200) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Dual prices over the given arcs from an optimal flow over them (see `_duals`): (u, v, dual objective)."""
    u, v, dual, _ = _price_rounds(n, arc_m, arc_o, arc_p, assigned, capacity, max_rounds)
    return u, v, dual


def _price_rounds(n: int, arc_m: np.ndarray, arc_o: np.ndarray, arc_p: np.ndarray, assigned: np.ndarray,
                  capacity: np.ndarray, max_rounds: int = 200):
    m = capacity.size
    order = np.argsort(arc_o, kind="stable")
    arc_m, arc_o, arc_p = arc_m[order], arc_o[order], arc_p[order]
    starts = np.flatnonzero(np.r_[True, arc_o[1:] != arc_o[:-1]])
    seg_option = arc_o[starts]
    placed = assigned >= 0
    own = np.zeros(n, dtype=np.int64)
    on_assigned = assigned[arc_m] == arc_o
    own[arc_m[on_assigned]] = arc_p[on_assigned]
    u = np.where(placed, own, 0)
    v = np.zeros(m, dtype=np.int64)
    rounds = 0
    for _ in range(max_rounds):
        rounds += 1
        v = np.zeros(m, dtype=np.int64)  # (u, v) is dual feasible after this line, whatever u is
        v[seg_option] = np.maximum(np.maximum.reduceat(arc_p - u[arc_m], starts), 0)
        new_u = np.where(placed, np.maximum(own - v[np.maximum(assigned, 0)], 0), 0)
        if np.array_equal(new_u, u):
            break
        u = new_u
    return u, v, int(u.sum() + (capacity * v).sum()), rounds


def _duals(flow: _Flow, index: OptionIndex, capacity: np.ndarray | None = None,
           max_rounds: int = 200) -> tuple[np.ndarray, np.ndarray, int]:
    """Dual prices of the relaxation (LP duality) over every eligible arc: per member u >= 0, per option v >= 0,
    with u + v >= profit on every arc. Returns (u, v, dual objective); the objective bounds the relaxation and
    equals its optimum when the prices are optimal (they are computed from the optimal flow by Bellman-Ford
    rounds over alternating paths, usually a handful)."""
    capacity = index.capacity if capacity is None else capacity
    u, v, dual, flow.dual_rounds = _price_rounds(len(flow.members), flow.arc_member, flow.arc_option,
                                                 flow.arc_profit, flow.assigned, capacity, max_rounds)
    return u, v, dual


def _group_losses(units: Sequence[Unit], flow: _Flow, index: OptionIndex, capacity: np.ndarray | None = None):
    """The dual objective of the relaxation, and per unit its options' reduced costs and what leaving it out loses.

    By LP duality, any allocation's value is the dual objective minus, for each arc it uses, that arc's reduced
    cost (u + v - profit >= 0), minus u of each child it leaves unplaced (and minus v on empty places). A unit
    placed together in option o loses the sum of its members' reduced costs at o (`reduced[k]`, aligned with
    `unit.rows`); left out, the sum of their u (`away[k]`).
    """
    u, v, dual = _duals(flow, index, capacity)
    reduced: list[np.ndarray] = []
    away: list[int] = []
    i = 0
    for unit in units:
        together = np.zeros(unit.rows.size, dtype=np.int64)
        out = 0
        for _ in unit.members:
            profit = flow.arc_profit[flow.arc_start[i]:flow.arc_start[i + 1]]  # same order as unit.rows
            if unit.rows.size:
                together += u[i] + v[unit.rows] - profit
            out += int(u[i])
            i += 1
        reduced.append(together)
        away.append(out)
    return dual, reduced, away


def _group_bound(units: Sequence[Unit], flow: _Flow, index: OptionIndex,
                 capacity: np.ndarray | None = None) -> tuple[int, list[np.ndarray]]:
    """An upper bound on the weighted objective that accounts for sibling groups, and each unit's reduced costs.

    A sibling group is either placed together in some option, or left unplaced (`_group_losses`). The cheapest of
    these, summed over the groups, is lost by every allocation that keeps siblings together, so subtracting it
    from the dual objective leaves a valid bound: the flow relaxation's, tightened by what it gained from
    splitting groups. The reduced costs also say which options are cheap to move a unit to: the exact model takes
    its candidates from them.
    """
    dual, reduced, away = _group_losses(units, flow, index, capacity)
    loss = sum(min(int(together.min()), out) for unit, together, out in zip(units, reduced, away)
               if unit.size > 1 and unit.rows.size)
    return dual - loss, reduced


def count_weights(units: Sequence[Unit]) -> dict[str, int]:
    """Band weights for counting placed children lexicographically (no scores): one child in a band outweighs
    all children of the less urgent bands."""
    counts = dict.fromkeys(BANDS, 0)
    for unit in units:
        if unit.rows.size:
            for m in unit.members:
                counts[m.urgency] += 1
    over = 1
    within = counts["over_5_days"] * over + 1
    today = counts["within_5_days"] * within + counts["over_5_days"] * over + 1
    return {"today": today, "within_5_days": within, "over_5_days": over}


def _repair(units: Sequence[Unit], index: OptionIndex, weights: dict[str, int], flow_choice: dict[str, int],
            reduced: list[np.ndarray], hint: dict[int, int | None], safety: _Safety):
    """The exact model's best allocation from `hint` (counts, then scores), and whether it is proven optimal."""
    repair = _Repair(units, index, flow_choice, reduced, index.policy.candidates_per_request)
    choice = dict(hint)
    counted = repair.best_counts(choice, safety)
    if counted is not None:
        counted = dict(counted)
        _fill(units, index, counted)
        counted = _reflow_singles(units, index, weights, counted)
        if _value(units, counted, weights) > _value(units, choice, weights):
            choice = counted
    if safety.expired():
        return choice, False
    scored = repair.best_scores(choice, safety)
    if scored is not None and _value(units, scored, weights) >= _value(units, choice, weights):
        choice = scored
    _fill(units, index, choice)
    return choice, repair.proven


class _Repair:
    """The sibling-exact 0/1 model (CP-SAT) over each unit's `k` cheapest candidates plus the flow's choices.

    Cheapest by reduced cost (what moving there costs against the relaxation's optimum, given how contested the
    option is); where places are plentiful that is simply the best scores. Solved in two stages with small integer
    coefficients (CP-SAT's LP and bounds work far better than with the big-M weights): first the band counts,
    lexicographically; then, holding those counts, the score sum. `proven` is set when both stages were proven
    optimal on a model that saw every eligible option of every unit (then it is the whole problem).
    """

    def __init__(self, units: Sequence[Unit], index: OptionIndex, flow_choice: dict[str, int],
                 reduced: list[np.ndarray], k: int):
        from ortools.sat.python import cp_model

        self.cp = cp_model
        self.units = units
        self.model = model = cp_model.CpModel()
        self.complete = True
        self.proven = False
        self.count_proven = False
        self.best_count: int | None = None
        counts_w = count_weights(units)
        self.x: dict[tuple[int, int], object] = {}
        by_option: dict[int, list[tuple[int, object]]] = {}
        terms, count_coefs, score_coefs = [], [], []
        for u, unit in enumerate(units):
            if not unit.rows.size:
                continue
            self.complete &= unit.rows.size <= k
            cheapest = np.lexsort((-unit.scores, reduced[u]))[:k]
            keep = dict(zip(unit.rows[cheapest].tolist(), unit.scores[cheapest].tolist()))
            for m in unit.members:
                o = flow_choice.get(m.id)
                if o is not None and o not in keep:
                    keep[o] = unit.score_for(o)
            count = sum(counts_w[m.urgency] for m in unit.members)
            row = []
            for o, score in keep.items():
                var = model.NewBoolVar(f"x{u}_{o}")
                self.x[u, o] = var
                row.append(var)
                by_option.setdefault(o, []).append((unit.size, var))
                terms.append(var)
                count_coefs.append(count)
                score_coefs.append(score)
            model.AddAtMostOne(row)
        for o, entries in by_option.items():
            capacity = int(index.capacity[o])
            if sum(size for size, _ in entries) > capacity:
                model.Add(cp_model.LinearExpr.WeightedSum([v for _, v in entries], [s for s, _ in entries])
                          <= capacity)
        self.counts_w = counts_w
        self.counted = cp_model.LinearExpr.WeightedSum(terms, count_coefs)
        self.scored = cp_model.LinearExpr.WeightedSum(terms, score_coefs)

    def _hint(self, choice: dict[int, int | None]) -> None:
        self.model.ClearHints()
        for (u, o), var in self.x.items():
            self.model.AddHint(var, choice.get(u) == o)

    def _solve(self, objective, safety: _Safety):
        solver = self.cp.CpSolver()
        # Deterministic: one worker, a fixed seed and a work limit decide; the clock is only the safety net.
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 1
        solver.parameters.max_deterministic_time = REPAIR_DETERMINISTIC_TIME
        solver.parameters.max_time_in_seconds = safety.remaining()
        self.model.Maximize(objective)
        with _SOLVE_LOCK:  # one CP-SAT solve at a time per process; its work limit, not the clock, decides
            status = solver.Solve(self.model)
        safety.expired()
        if status not in (self.cp.OPTIMAL, self.cp.FEASIBLE):
            return None, False
        choice: dict[int, int | None] = dict.fromkeys(range(len(self.units)))
        for (u, o), var in self.x.items():
            if solver.BooleanValue(var):
                choice[u] = o
        return choice, status == self.cp.OPTIMAL

    def _count(self, choice: dict[int, int | None]) -> int:
        return sum(self.counts_w[m.urgency] for u, o in choice.items() if o is not None
                   for m in self.units[u].members)

    def best_counts(self, hint: dict[int, int | None], safety: _Safety) -> dict[int, int | None] | None:
        """Stage 1: the most children per band, lexicographically (hinted with a feasible choice)."""
        self._hint(hint)
        choice, proven = self._solve(self.counted, safety)
        self.count_proven = proven
        self.best_count = self._count(choice) if choice is not None else None
        return choice

    def best_scores(self, hint: dict[int, int | None], safety: _Safety) -> dict[int, int | None] | None:
        """Stage 2: the best score sum among choices placing as many children per band as `hint` (which must be
        a choice within the model's candidates or the stage-1 answer; anything else is only a hint)."""
        need = self._count(hint)
        if self.best_count is None or need > self.best_count:
            return None  # the hint places more children than the restricted model can: nothing to gain here
        self.model.Add(self.counted >= need)
        self._hint(hint)
        choice, proven = self._solve(self.scored, safety)
        self.proven = proven and self.count_proven and self.complete
        return choice


def _reflow_singles(units: Sequence[Unit], index: OptionIndex, weights: dict[str, int],
                    choice: dict[int, int | None]) -> dict[int, int | None]:
    """Keep the sibling groups where they are and re-place every single child with one exact flow.

    Given the groups' places, singles are a pure flow problem, so this is the best they can do: it never lowers
    the value of `choice`.
    """
    capacity = index.capacity.copy()
    singles = []
    for u, unit in enumerate(units):
        if unit.size > 1:
            if choice.get(u) is not None:
                capacity[choice[u]] -= unit.size
        elif unit.rows.size:
            singles.append(u)
    flow = _flow([units[u] for u in singles], index, weights, capacity)
    picks = flow.choice()
    out = dict(choice)
    for u in singles:
        out[u] = picks.get(units[u].members[0].id)
    return out


def _free(units: Sequence[Unit], index: OptionIndex, choice: dict[int, int | None]) -> np.ndarray:
    free = index.capacity.copy()
    for u, o in choice.items():
        if o is not None:
            free[o] -= units[u].size
    return free


def _fill(units: Sequence[Unit], index: OptionIndex, choice: dict[int, int | None]) -> None:
    """Give still-unplaced units their best eligible option with room left, most urgent first (only helps)."""
    free = _free(units, index, choice)
    for u in sorted(range(len(units)), key=lambda u: (units[u].band, -units[u].size, u)):
        unit = units[u]
        if choice.get(u) is not None or not unit.rows.size:
            continue
        roomy = np.flatnonzero(free[unit.rows] >= unit.size)
        if roomy.size:
            o = int(unit.rows[roomy[0]])
            choice[u] = o
            free[o] -= unit.size


def _value(units: Sequence[Unit], choice: dict[int, int | None], weights: dict[str, int]) -> int:
    """The weighted (lexicographic) objective of a choice."""
    return sum(unit.score_for(o) + sum(weights[m.urgency] for m in unit.members)
               for u, unit in enumerate(units) if (o := choice.get(u)) is not None)


def _polish(units: Sequence[Unit], index: OptionIndex, choice: dict[int, int | None]) -> None:
    """When not proven optimal: apply single moves that are certainly better (validation checks for them).

    An unplaced single child takes the place of a less urgent single child, and a placed unit moves to an
    eligible option with room for a higher score; then `_fill` again.
    """
    holders: dict[int, list[int]] = {}
    for u, o in choice.items():
        if o is not None:
            holders.setdefault(o, []).append(u)
    for u in sorted(range(len(units)), key=lambda u: (units[u].band, u)):
        unit = units[u]
        if choice.get(u) is not None or unit.size != 1:
            continue
        for o in unit.rows.tolist():
            less = [h for h in holders.get(o, ()) if units[h].size == 1 and units[h].band > unit.band]
            if less:
                h = max(less, key=lambda h: units[h].band)
                holders[o].remove(h)
                holders[o].append(u)
                choice[h], choice[u] = None, o
                break
    free = _free(units, index, choice)
    changed = True
    while changed:
        changed = False
        for u, o in list(choice.items()):
            if o is None:
                continue
            unit = units[u]
            current = unit.score_for(o)
            better = np.flatnonzero((free[unit.rows] >= unit.size) & (unit.scores > current))
            if better.size:
                p = int(unit.rows[better[0]])
                free[o] += unit.size
                free[p] -= unit.size
                choice[u] = p
                changed = True
    _fill(units, index, choice)


# -------------------------------------------------------------------------------------------------- reasons

def _describe(units: Sequence[Unit], index: OptionIndex, choice: dict[int, int | None], status: str):
    holders: dict[int, list[int]] = {}
    for u, o in choice.items():
        if o is not None:
            holders.setdefault(o, []).append(u)
    order = {}
    for u, unit in enumerate(units):
        for m in unit.members:
            order[m.id] = u
    assignments, unplaced = [], []
    for u, unit in enumerate(units):
        o = choice.get(u)
        for m in unit.members:
            if o is not None:
                assignments.append((m.arrival_order, m.id, Assignment(m.id, index.ids[o])))
            else:
                unplaced.append((m.arrival_order, m.id, Unplaced(m.id, _why(unit, m, index, holders, units,
                                                                            status))))
    assignments.sort(key=lambda t: t[:2])
    unplaced.sort(key=lambda t: t[:2])
    return [a for *_, a in assignments], [p for *_, p in unplaced]


def _why(unit: Unit, member: RequestSpec, index: OptionIndex, holders: dict[int, list[int]],
         units: Sequence[Unit], status: str) -> str:
    if not unit.rows.size:
        if unit.size > 1:
            alone, _ = eligible_scores(index, member, Group(frozenset({member.id})))
            return (f"No setting can take the sibling group of {unit.size} together "
                    f"({alone.size} option{'s' if alone.size != 1 else ''} could take this child alone)")
        total, sentence = exclusion_summary(index, member, unit.group)
        if sentence is None:
            return "No options to consider"
        return f"No eligible option among {total:,}; the most common reason: {sentence}"
    band = BANDS.index(member.urgency)
    options = unit.rows.tolist()
    more_urgent = sum(1 for o in options
                      if any(min(BANDS.index(m.urgency) for m in units[h].members) < band
                             for h in holders.get(o, ())))
    count = len(options)
    noun = "option" if count == 1 else "options"
    if more_urgent == count:
        return (f"Every eligible option ({count}) was given to a more urgent child"
                if count > 1 else "The one eligible option was given to a more urgent child")
    text = f"All {count} eligible {noun} went to other children ({more_urgent} to more urgent children)"
    if count == 1:
        text = f"The one eligible option went to another child{' who is more urgent' if more_urgent else ''}"
    if status == "optimal":
        text += "; placing this child would leave a child at least as urgent without a place"
    return text


# ---------------------------------------------------------------------------------------------------- greedy

def greedy_assign(requests: Sequence[RequestSpec], options: OptionIndex | Sequence[OptionSpec],
                  policy: Policy | None = None) -> dict[str, str]:
    """Baseline for the benchmark: most urgent first, then arrival order; each unit takes its best remaining option.

    This is how a first-come-first-served portal behaves; `allocate` is measured against it.
    """
    index = _as_index(options, policy)
    units = build_units(requests, index)
    free = index.capacity.copy()
    out: dict[str, str] = {}
    for unit in sorted(units, key=lambda u: (u.band, min(m.arrival_order for m in u.members))):
        roomy = np.flatnonzero(free[unit.rows] >= unit.size)  # rows are best first
        if roomy.size:
            o = int(unit.rows[roomy[0]])
            free[o] -= unit.size
            for m in unit.members:
                out[m.id] = index.ids[o]
    return out
