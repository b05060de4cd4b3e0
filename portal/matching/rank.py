"""Rank every option for one request, fast enough for every page view.

`OptionIndex.build(options)` lays the region's open options out as NumPy arrays once (it is immutable; building
10,000 options takes a few hundred milliseconds, and `patched` makes the same index from the changed options alone
after a vacancy changes). `rank(request, index)` then applies the hard rules and the score formulas to all options at once and builds explanation objects only for what
it returns:

* `matches`: every eligible option, best first (or the best `limit` of them: the portal's page shows a few dozen;
  `RankResult.eligible` still counts them all);
* the excluded options, as `exclusions` asks: "all" lists every one with its reasons in input order (the default
  of `rank`), "counts" says per rule how many options fail it (the CLI's default), "none" only how many. The
  portal passes "none" and asks `explain_exclusions(request, index,
  option_ids)` when an officer opens "why not this home".

Ordering: connected persons carry a tier bonus larger than any spread of other points (policy.py), so sorting by
score alone puts every eligible connected person first; ties go to the nearer option, then to input order.

The formulas and sentences are those of eligibility.py and scoring.py; the tests check this module against that
scalar reference on random problems.
"""

from __future__ import annotations

import gc
import json
from itertools import chain
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial

import numpy as np

from . import eligibility as rules
from . import vocabulary as vocab
from .eligibility import Group, group_for, group_members, member_labels, merge_reasons
from .policy import DEFAULT_POLICY, Policy
from .scoring import (
    ALWAYS_SHOWN,
    CRITERIA,
    FLAGS,
    FORMULAS,
    KINDS,
    OFSTED_CODES,
    SETTING_TYPE_INDEX,
    RequestContext,
    distance_tenths_array,
    fee_pence,
    merge_parts,
    reason,
    regional_medians,
    s22c_class,
)
from .types import EXCLUSION_MODES, Exclusion, Match, OptionSpec, RankResult, RequestSpec, ScorePart

__all__ = ["OptionIndex", "eligible_options", "explain_exclusions", "rank"]

_STAGES = tuple(vocab.CONNECTED_PERSON_STAGES)
_NO_SCHOOL = -1


def _bit_table(codes: Sequence[str], seen: set[str]) -> dict[str, int]:
    names = list(codes) + sorted(seen - set(codes))
    if len(names) > 62:
        raise ValueError(f"too many distinct codes ({len(names)}) for the option index")
    return {name: 1 << i for i, name in enumerate(names)}


def _mask(codes, bits: dict[str, int]) -> int:
    value = 0
    for code in codes:
        value |= bits[code]
    return value


def _positions(ids: tuple[str, ...]) -> dict[str, int]:
    position = {oid: i for i, oid in enumerate(ids)}
    if len(position) != len(ids):
        seen: set[str] = set()
        dup = next(oid for oid in ids if oid in seen or seen.add(oid))
        raise ValueError(f"option {dup!r}: duplicate id")
    return position


def _columns(options: Sequence[OptionSpec], policy: Policy, la_index: dict[str, int], sex_bits: dict[str, int],
             need_bits: dict[str, int], risk_bits: dict[str, int]) -> dict[str, np.ndarray]:
    """The index's per-option arrays that depend on each option alone (and the fixed tables)."""
    for o in options:
        if o.ofsted not in OFSTED_CODES:
            raise ValueError(f"option {o.id!r}: unknown Ofsted rating {o.ofsted!r}")

    def arr(values, dtype):
        return np.fromiter(values, dtype=dtype, count=len(options))

    return dict(
        easting=arr((o.location.easting for o in options), np.int64),
        northing=arr((o.location.northing for o in options), np.int64),
        kind=arr((KINDS.index(o.kind) for o in options), np.int64),
        setting_type=arr((SETTING_TYPE_INDEX[o.setting_type] for o in options), np.int64),
        s22c=arr((s22c_class(o) for o in options), np.int64),
        la=arr((la_index[o.la] for o in options), np.int64),
        capacity=arr((o.capacity for o in options), np.int64),
        takes_siblings=arr((o.takes_siblings for o in options), bool),
        solo_only=arr((o.solo_only for o in options), bool),
        has_pets=arr((o.has_pets for o in options), bool),
        stale=arr((o.stale for o in options), bool),
        approved=arr((o.provider_approved for o in options), bool),
        available=arr((o.available_from.toordinal() for o in options), np.int64),
        age_min=arr((o.age_min for o in options), np.int64),
        age_max=arr((o.age_max for o in options), np.int64),
        sexes=arr((_mask(o.sexes, sex_bits) for o in options), np.int64),
        needs=arr((_mask(o.needs_met, need_bits) for o in options), np.int64),
        risks=arr((_mask(o.risks_managed, risk_bits) for o in options), np.int64),
        ofsted=arr((OFSTED_CODES.index(o.ofsted) for o in options), np.int64),
        fee_pence=arr((fee_pence(o.fee_gbp_week) if o.fee_gbp_week is not None else -1 for o in options),
                      np.int64),
        fee=arr((float(o.fee_gbp_week) if o.fee_gbp_week is not None else np.nan for o in options), np.float64),
        cp_stage=arr((_STAGES.index(o.connected_stage) if o.kind == "connected_person" else -1
                      for o in options), np.int64),
        cp_stage_ok=arr((o.kind == "connected_person" and o.connected_stage in policy.connected_person_stages
                         for o in options), bool),
        is_cp=arr((o.kind == "connected_person" for o in options), bool),
    )


def _median_params(columns: dict[str, np.ndarray], medians: dict[str, float], policy: Policy) -> np.ndarray:
    """`scoring.median_param` for every option at once (the same comparisons, in the same floating point)."""
    fee, kind = columns["fee"], columns["kind"]
    out = np.zeros(fee.size, dtype=np.int64)
    has_fee = ~np.isnan(fee)
    for k, name in enumerate(KINDS):
        median_fee = medians.get(name)
        if median_fee is None:
            continue
        mine = has_fee & (kind == k)
        status = np.where(fee <= median_fee, 1, np.where(fee > median_fee * policy.above_median_ratio, 2, 0))
        scored = mine & (status > 0)
        out[scored] = (columns["fee_pence"][scored] * 4 + k) * 4 + status[scored]
    return out


def _lookups(options: Sequence[OptionSpec], first: int) -> dict[str, dict[str, np.ndarray]]:
    """The positions (from `first`) of the connected persons per child and of the options per language and
    religion (case-folded), ascending."""
    tables: dict[str, dict[str, list[int]]] = {"cp_for": {}, "languages": {}, "religions": {}}
    for i, o in enumerate(options, start=first):
        if o.kind == "connected_person":
            tables["cp_for"].setdefault(o.for_request, []).append(i)
        for lang in {v.casefold() for v in o.languages}:
            tables["languages"].setdefault(lang, []).append(i)
        for rel in {v.casefold() for v in o.religions}:
            tables["religions"].setdefault(rel, []).append(i)
    return {name: {k: np.array(v, dtype=np.int64) for k, v in table.items()} for name, table in tables.items()}


@dataclass(frozen=True, eq=False)
class OptionIndex:
    """The region's open options as arrays, built once and shared by every rank call (read-only)."""

    options: tuple[OptionSpec, ...]
    policy: Policy
    medians: dict[str, float]
    ids: tuple[str, ...]
    position: dict[str, int]
    easting: np.ndarray
    northing: np.ndarray
    kind: np.ndarray
    setting_type: np.ndarray
    s22c: np.ndarray
    la: np.ndarray
    la_index: dict[str, int]
    capacity: np.ndarray
    takes_siblings: np.ndarray
    solo_only: np.ndarray
    has_pets: np.ndarray
    stale: np.ndarray
    approved: np.ndarray
    available: np.ndarray
    age_min: np.ndarray
    age_max: np.ndarray
    sexes: np.ndarray
    sex_bits: dict[str, int]
    needs: np.ndarray
    need_bits: dict[str, int]
    risks: np.ndarray
    risk_bits: dict[str, int]
    ofsted: np.ndarray
    fee_pence: np.ndarray
    fee: np.ndarray  # weekly fee in pounds, NaN without one
    median_param: np.ndarray
    cp_stage: np.ndarray
    cp_stage_ok: np.ndarray
    is_cp: np.ndarray
    cp_for: dict[str, np.ndarray]
    languages: dict[str, np.ndarray]
    religions: dict[str, np.ndarray]
    _json: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, options: Sequence[OptionSpec], policy: Policy = DEFAULT_POLICY) -> OptionIndex:
        """Index `options` (their ids must be unique) for ranking under `policy`."""
        options = tuple(options)
        ids = tuple(o.id for o in options)
        position = _positions(ids)
        medians = policy.pinned_medians() or regional_medians(options)
        la_index: dict[str, int] = {}
        for o in options:
            la_index.setdefault(o.la, len(la_index))
        sex_bits = _bit_table(tuple(vocab.SEXES), {s for o in options for s in o.sexes})
        need_bits = _bit_table(tuple(vocab.NEEDS), {s for o in options for s in o.needs_met})
        risk_bits = _bit_table(tuple(vocab.RISKS), {s for o in options for s in o.risks_managed})
        columns = _columns(options, policy, la_index, sex_bits, need_bits, risk_bits)
        return cls(
            options=options, policy=policy, medians=medians, ids=ids, position=position, la_index=la_index,
            sex_bits=sex_bits, need_bits=need_bits, risk_bits=risk_bits,
            median_param=_median_params(columns, medians, policy),
            **_lookups(options, 0), **columns,
        )

    def patched(self, removed: Collection[str], added: Sequence[OptionSpec]) -> OptionIndex:
        """This index without the options whose ids are in `removed` and with `added` after the rest: the index
        `build` makes of the kept options (in their order) followed by `added`, computed from the changed options
        alone, so a vacancy change in a region of 10,000 options costs milliseconds instead of a rebuild.

        The regional medians are worked out again over the result (a changed fee moves them, and with them every
        option's median part). Falls back to `build` when the code tables would change: an option with a code
        outside the vocabulary, kept or added. An unknown id in `removed` is ignored; an added id that is kept
        raises ValueError, as `build` does for a duplicate.
        """
        added = tuple(added)
        plain = (len(self.sex_bits), len(self.need_bits), len(self.risk_bits)) == (
            len(vocab.SEXES), len(vocab.NEEDS), len(vocab.RISKS))
        if not plain or any(not (o.sexes <= vocab.SEXES.keys() and o.needs_met <= vocab.NEEDS.keys()
                                 and o.risks_managed <= vocab.RISKS.keys()) for o in added):
            kept = [o for o in self.options if o.id not in removed]
            return OptionIndex.build([*kept, *added], self.policy)
        keep = np.ones(len(self.options), dtype=bool)
        for oid in removed:
            pos = self.position.get(oid)
            if pos is not None:
                keep[pos] = False
        kept_positions = np.flatnonzero(keep)
        if kept_positions.size == len(self.options):
            kept_options, kept_ids = self.options, self.ids
        else:
            kept_options = tuple(self.options[i] for i in kept_positions.tolist())
            kept_ids = tuple(o.id for o in kept_options)
        options = kept_options + added
        ids = kept_ids + tuple(o.id for o in added)
        position = _positions(ids)
        la_index = dict(self.la_index)
        for o in added:
            la_index.setdefault(o.la, len(la_index))
        new = _columns(added, self.policy, la_index, self.sex_bits, self.need_bits, self.risk_bits)
        columns = {name: np.concatenate((getattr(self, name)[keep], new[name])) for name in new}
        medians = self.policy.pinned_medians() or regional_medians(options)
        # Where each kept option now is; the added ones follow.
        moved = np.cumsum(keep) - 1
        lookups = {}
        for name, fresh in _lookups(added, len(kept_options)).items():
            table: dict[str, np.ndarray] = {}
            for key, at in getattr(self, name).items():
                still = moved[at[keep[at]]]
                if still.size:
                    table[key] = still
            for key, at in fresh.items():
                table[key] = np.concatenate((table[key], at)) if key in table else at
            lookups[name] = table
        return OptionIndex(
            options=options, policy=self.policy, medians=medians, ids=ids, position=position, la_index=la_index,
            sex_bits=self.sex_bits, need_bits=self.need_bits, risk_bits=self.risk_bits,
            median_param=_median_params(columns, medians, self.policy), **lookups, **columns,
        )

    def __len__(self) -> int:
        return len(self.options)

    def members(self, index_list: Sequence[int] | np.ndarray) -> np.ndarray:
        mask = np.zeros(len(self.options), dtype=bool)
        mask[np.asarray(index_list, dtype=np.int64)] = True
        return mask


# --------------------------------------------------------------------------------------------- evaluation

@dataclass
class _Checks:
    """Failed-check masks for one request (None: the check cannot fail for this request)."""

    masks: dict[str, np.ndarray | None]
    unknown_needs: frozenset[str]
    unknown_risks: frozenset[str]
    req_needs: int
    req_risks: int

    def failed(self, n: int) -> np.ndarray:
        bad = np.zeros(n, dtype=bool)
        for mask in self.masks.values():
            if mask is not None:
                bad |= mask
        return bad


def _checks(index: OptionIndex, request: RequestSpec, group: Group, policy: Policy) -> _Checks:
    n = len(index)
    masks: dict[str, np.ndarray | None] = dict.fromkeys(rules.CHECKS)
    if index.cp_for:
        for_group = np.zeros(n, dtype=bool)
        for rid in group.ids:
            hits = index.cp_for.get(rid)
            if hits is not None:
                for_group[hits] = True
        masks["cp_other_child"] = index.is_cp & ~for_group
        masks["cp_stage"] = index.is_cp & ~index.cp_stage_ok
    unsuitable = np.array([request.suitability.get(t) == "unsuitable" for t in vocab.SETTING_TYPES])
    if unsuitable.any():
        masks["suitability"] = unsuitable[index.setting_type]
    age = request.age_years
    masks["age"] = (index.age_min > age) | (index.age_max < age)
    if age < rules.SUPPORTED_MIN_AGE:
        masks["under_16"] = index.kind == KINDS.index("supported")
    sex_bit = index.sex_bits.get(request.sex, 0)
    masks["sex"] = (index.sexes & sex_bit) == 0
    places = index.capacity < group.size
    if group.size > 1:
        places = places | ~index.takes_siblings
    masks["places"] = places
    unknown_needs = frozenset(request.needs - index.need_bits.keys())
    unknown_risks = frozenset(request.risks - index.risk_bits.keys())
    req_needs = _mask(request.needs - unknown_needs, index.need_bits)
    req_risks = _mask(request.risks - unknown_risks, index.risk_bits)
    if unknown_needs:
        masks["needs"] = np.ones(n, dtype=bool)
    elif req_needs:
        masks["needs"] = (req_needs & ~index.needs) != 0
    if unknown_risks:
        masks["risks"] = np.ones(n, dtype=bool)
    elif req_risks:
        masks["risks"] = (req_risks & ~index.risks) != 0
    masks["availability"] = index.available > request.needed_by.toordinal()
    masks["approval"] = ~index.approved
    masks["ofsted"] = index.ofsted == OFSTED_CODES.index("inadequate")
    if request.pets == "no":
        masks["pets"] = index.has_pets
    elif request.pets == "must":
        masks["pets"] = ~index.has_pets
    if request.living_companions == "solo":
        masks["solo"] = ~index.solo_only
    avoid = [index.la_index[la] for la in request.avoid_las if la in index.la_index]
    if avoid:
        masks["avoid_la"] = np.isin(index.la, avoid)
    return _Checks(masks, unknown_needs, unknown_risks, req_needs, req_risks)


@dataclass
class _Scored:
    """Eligible options of one request with their score-part parameters (rows sorted best first)."""

    rows: np.ndarray  # option positions, best first (ascending when built with sort=False)
    score: np.ndarray
    params: dict[str, np.ndarray]
    points: dict[str, np.ndarray]
    flags: np.ndarray
    tenths: np.ndarray
    school: np.ndarray

    def take(self, order: np.ndarray) -> _Scored:
        return _Scored(
            rows=self.rows[order], score=self.score[order], params={k: v[order] for k, v in self.params.items()},
            points={k: v[order] for k, v in self.points.items()}, flags=self.flags[order],
            tenths=self.tenths[order], school=self.school[order],
        )


def _score(index: OptionIndex, request: RequestSpec, ctx: RequestContext, eligible: np.ndarray,
           sort: bool = True) -> _Scored:
    rows = np.flatnonzero(eligible)
    e, n = index.easting[rows], index.northing[rows]
    tenths = distance_tenths_array(e, n, request.home)
    if ctx.keeps_school:
        school = distance_tenths_array(e, n, request.school)
    else:
        school = np.full(rows.size, _NO_SCHOOL, dtype=np.int64)
    if request.family is not None:
        near = distance_tenths_array(e, n, request.family) <= ctx.family_limit
    else:
        near = np.zeros(rows.size, dtype=bool)
    inside = index.la[rows] == index.la_index.get(request.la, -1)
    fee = index.fee_pence[rows]
    if ctx.budget_pence >= 0:
        budget = np.where(fee < 0, 0, fee * 4 + np.where(fee <= ctx.budget_pence, 1, 2))
    else:
        budget = np.zeros(rows.size, dtype=np.int64)

    def has(table: dict[str, np.ndarray], value: str | None) -> np.ndarray:
        if value is None or value.casefold() not in table:
            return np.zeros(rows.size, dtype=bool)
        return index.members(table[value.casefold()])[rows]

    language = has(index.languages, request.language)
    religion = has(index.religions, request.religion)
    culture = (language | religion) if request.cultural_needs == "required" else np.zeros(rows.size, dtype=bool)
    cp = np.where(index.is_cp[rows], index.cp_stage[rows] + 1, 0)
    params = {
        "connected_person": cp,
        "setting_type": index.s22c[rows],
        "preferred_setting": index.setting_type[rows],
        "own_la": inside.astype(np.int64),
        "distance": tenths,
        "over_20_miles": (tenths > ctx.far_limit).astype(np.int64),
        "school_distance": school,
        "near_family": near.astype(np.int64),
        "siblings_together": np.full(rows.size, int(ctx.group.size > 1), dtype=np.int64),
        "ofsted": index.ofsted[rows],
        "budget": budget,
        "regional_median": index.median_param[rows],
        "stale_vacancy": index.stale[rows].astype(np.int64),
        "language": language.astype(np.int64),
        "religion": religion.astype(np.int64),
        "culture": culture.astype(np.int64),
    }
    score = np.zeros(rows.size, dtype=np.int64)
    points = {}
    for criterion in CRITERIA:
        points[criterion] = FORMULAS[criterion](params[criterion], ctx)
        score += points[criterion]
    bits = (~inside).astype(np.int64)
    bits |= params["over_20_miles"] << 1
    bits |= ((budget & 3) == 2).astype(np.int64) << 2
    bits |= (school > ctx.school_far_limit).astype(np.int64) << 3
    bits |= params["stale_vacancy"] << 4
    scored = _Scored(rows=rows, score=score, params=params, points=points, flags=bits, tenths=tenths, school=school)
    return scored.take(np.lexsort((rows, tenths, -score))) if sort else scored


def _context(index: OptionIndex, request: RequestSpec, policy: Policy | None,
             siblings: Sequence[RequestSpec]) -> tuple[Policy, Group, RequestContext]:
    if policy is not None and policy != index.policy:
        raise ValueError("rank: the index was built with a different policy; rebuild it with this one")
    group = group_for(request, siblings)
    return index.policy, group, RequestContext.build(request, index.policy, group)


@dataclass
class _Unit:
    """What rank places: the child alone, or their sibling group placed together (members in the group's order,
    each with their own context and failed checks; `failed` fails an option for the unit if it fails any member)."""

    members: tuple[RequestSpec, ...]
    labels: tuple[str, ...]
    group: Group
    contexts: list[RequestContext]
    checks: list[_Checks]
    failed: np.ndarray

    @property
    def size(self) -> int:
        return len(self.members)


def _unit(index: OptionIndex, request: RequestSpec, policy: Policy | None,
          siblings: Sequence[RequestSpec]) -> _Unit:
    if policy is not None and policy != index.policy:
        raise ValueError("rank: the index was built with a different policy; rebuild it with this one")
    # The portal asks rank and then eligible_options for the same request objects: the last unit is kept (the
    # specs are frozen and held here, so identity means the same request; units are read-only).
    last = index._json.get("last_unit")
    if (last is not None and last[0] is request and len(last[1]) == len(siblings)
            and all(a is b for a, b in zip(last[1], siblings))):
        return last[2]
    unit = _new_unit(index, request, siblings)
    index._json["last_unit"] = (request, tuple(siblings), unit)
    return unit


def _new_unit(index: OptionIndex, request: RequestSpec, siblings: Sequence[RequestSpec]) -> _Unit:
    members = group_members(request, siblings)
    group = Group(frozenset(m.id for m in members))
    contexts = [RequestContext.build(m, index.policy, group) for m in members]
    checks = [_checks(index, m, group, index.policy) for m in members]
    failed = checks[0].failed(len(index))
    for c in checks[1:]:
        failed = failed | c.failed(len(index))
    return _Unit(members, member_labels(members), group, contexts, checks, failed)


def _rank_group(index: OptionIndex, request: RequestSpec, unit: _Unit, limit: int | None, mode: str,
                include: Sequence[str], eligible: np.ndarray, failed: np.ndarray,
                considered: int) -> RankResult:
    """rank() for siblings placed together: one list for the group (see scoring.py and eligibility.py).
    `eligible` and `failed` are the rows to score and to explain; `considered` how many rows were ranked."""
    scored = [_score(index, m, ctx, eligible, sort=False) for m, ctx in zip(unit.members, unit.contexts)]
    rows = scored[0].rows
    total = np.sum([s.score for s in scored], axis=0)
    farthest = np.max([s.tenths for s in scored], axis=0)
    top = _best(rows, total, farthest, limit, _include_rows(index, include))
    with _no_cycle_collection():
        matches = _group_matches(index, unit, [s.take(top) for s in scored])
        excluded = _group_exclusions(index, unit, np.flatnonzero(failed)) if mode == "all" else ()
    counts = _exclusion_counts(unit, failed) if mode == "counts" else {}
    return RankResult(request.id, matches, excluded, eligible=int(rows.size), ineligible=considered - int(rows.size),
                      exclusion_counts=counts, exclusions=mode)


def _group_exclusions(index: OptionIndex, unit: _Unit, rows: np.ndarray) -> tuple[Exclusion, ...]:
    """The group's exclusions for `rows` (all failing for the unit): each member's reasons, merged."""
    if rows.size == 0:
        return ()
    per_member = []
    for member, checks in zip(unit.members, unit.checks):
        groups = _exclusion_groups(index, member, unit.group, checks, rows)
        per_member.append((groups.of_row.tolist(), groups.reasons()))
    merged: dict[tuple[int, ...], tuple[str, ...]] = {}
    out = []
    ids = index.ids
    for i, row in enumerate(rows.tolist()):
        key = tuple(of_row[i] for of_row, _ in per_member)
        reasons = merged.get(key)
        if reasons is None:
            reasons = merged[key] = merge_reasons(unit.labels, [table[g] for (_, table), g in zip(per_member, key)])
        out.append(Exclusion(ids[row], reasons))
    return tuple(out)


def _as_index(options: OptionIndex | Sequence[OptionSpec], policy: Policy | None) -> OptionIndex:
    if isinstance(options, OptionIndex):
        return options
    return OptionIndex.build(options, policy or DEFAULT_POLICY)


def eligible_scores(index: OptionIndex, request: RequestSpec, group: Group) -> tuple[np.ndarray, np.ndarray]:
    """Positions and scores of the eligible options, best first (no explanations). Used by the solver."""
    ctx = RequestContext.build(request, index.policy, group)
    checks = _checks(index, request, group, index.policy)
    scored = _score(index, request, ctx, ~checks.failed(len(index)))
    return scored.rows, scored.score


# ------------------------------------------------------------------------------------------ explanations

def _context_key(criterion: str, ctx: RequestContext):
    """What, besides the param, a part's points and sentence depend on (None: only the policy)."""
    if criterion == "preferred_setting":
        return tuple(ctx.preferred_points.tolist())
    if criterion == "budget":
        return ctx.budget_pence
    if criterion == "language":
        return ctx.request.language
    if criterion == "religion":
        return ctx.request.religion
    if criterion == "siblings_together":
        return ctx.group.size
    return None


_CACHE_LIMIT = 500_000

# How a part's JSON text is joined to its neighbours in a match's "parts" list: an always-shown part (distance)
# is in every match, so the parts before it carry the ", " after them and the parts after it the ", " before.
_SEP_NONE, _SEP_AFTER, _SEP_BEFORE = 1, 2, 3


def _part_json(parts: Sequence[ScorePart]) -> bytes:
    return ", ".join([json.dumps(p.to_dict(), ensure_ascii=False) for p in parts]).encode("utf-8")


def _separated(text: bytes, sep: int) -> bytes:
    if not text or sep == _SEP_NONE:
        return text
    return text + b", " if sep == _SEP_AFTER else b", " + text


def _separators(active: Sequence[str]) -> list[int]:
    """The separator of each active criterion's text (see _SEP_NONE)."""
    anchor = next(i for i, c in enumerate(active) if c in ALWAYS_SHOWN)
    return [_SEP_AFTER if i < anchor else _SEP_NONE if i == anchor else _SEP_BEFORE for i in range(len(active))]


class _Parts:
    """ScorePart objects and their JSON text, shared by every rank call on one index.

    Keyed by (criterion, param, context key): the param fixes the points and the sentence given the policy, and
    the context key covers the few parts that also depend on the request (its budget, language, group size...).
    """

    def __init__(self, index: OptionIndex, ctx: RequestContext):
        self.index = index
        self.ctx = ctx
        store = index._json
        if len(store.get("parts", ())) > _CACHE_LIMIT:
            store.clear()
        self.parts = store.setdefault("parts", {})
        self.texts = store.setdefault("part_texts", {})

    def part(self, criterion: str, param: int, context) -> ScorePart | None:
        key = (criterion, param, context)
        try:
            return self.parts[key]
        except KeyError:
            points = int(FORMULAS[criterion](param, self.ctx))
            value = None
            if points or criterion in ALWAYS_SHOWN:
                value = ScorePart(criterion, points, reason(criterion, param, self.ctx, self.index.medians))
            self.parts[key] = value
            return value

    def text(self, criterion: str, param: int, context, sep: int = _SEP_NONE) -> bytes:
        key = (criterion, param, context, sep)
        try:
            return self.texts[key]
        except KeyError:
            part = self.part(criterion, param, context)
            value = self.texts[key] = _separated(_part_json((part,) if part is not None else ()), sep)
            return value

    def column(self, criterion: str, params: np.ndarray, rows: np.ndarray, as_text: bool,
               sep: int = _SEP_NONE) -> np.ndarray:
        """An object array of ScorePart-or-None (or of UTF-8 JSON text with the separator `sep` asks for, b""
        for none) for a column of params."""
        make = partial(self.text, sep=sep) if as_text else self.part
        as_text = sep if as_text else False
        context = _context_key(criterion, self.ctx)
        if criterion in _PER_OPTION:
            # request-independent and different for nearly every option: made once per option and index
            key = ("per_option", criterion, as_text)
            table = self.index._json.get(key)
            if table is None:
                table = np.empty(len(self.index), dtype=object)
                table[:] = [make(criterion, p, context) for p in self.index.median_param.tolist()]
                self.index._json[key] = table
            return table[rows]
        if params.size and params.max() < _SMALL and params.min() >= 0:
            key = ("small", criterion, context, as_text)
            table = self.index._json.get(key)
            if table is None:
                table = np.empty(_SMALL, dtype=object)
                table[:] = [make(criterion, p, context) if _valid(criterion, p) else None
                            for p in range(_SMALL)]
                self.index._json[key] = table
            return table[params]
        if params.size and params.max() < _DENSE and params.min() >= 0:
            # distances in tenths of a mile: a table by param, filled as values turn up
            return self._dense(("dense", criterion, context, as_text), params,
                               lambda p: make(criterion, p, context))
        # large params (fees in pence, against the request's budget): the values made so far, sorted, searched
        key = ("sorted", criterion, context, as_text)
        store = self.index._json
        known, table = store.get(key, (np.zeros(0, dtype=np.int64), np.empty(0, dtype=object)))
        at = np.minimum(np.searchsorted(known, params), max(known.size - 1, 0))
        if known.size == 0 or not np.array_equal(known[at], params):
            new = np.setdiff1d(params, known)
            made = np.empty(new.size, dtype=object)
            made[:] = [make(criterion, p, context) for p in new.tolist()]
            known, table = np.concatenate((known, new)), np.concatenate((table, made))
            order = np.argsort(known, kind="stable")
            known, table = known[order], table[order]
            store[key] = (known, table)
            at = np.searchsorted(known, params)
        return table[at]

    def _dense(self, key, params: np.ndarray, make) -> np.ndarray:
        store = self.index._json
        entry = store.get(key)
        top = int(params.max()) + 1
        if entry is None or entry[0].size < top:
            size = min(_DENSE, max(top, 2 * entry[0].size if entry is not None else 1024))
            table, filled = np.empty(size, dtype=object), np.zeros(size, dtype=bool)
            if entry is not None:
                table[:entry[0].size], filled[:entry[0].size] = entry
            entry = store[key] = (table, filled)
        table, filled = entry
        missing = params[~filled[params]]
        if missing.size:
            missing = np.unique(missing)
            for p in missing.tolist():
                table[p] = make(p)
            filled[missing] = True  # after the entries: a thread reading `filled` finds them made
        return table[params]


_SMALL = 64
_DENSE = 1 << 16
_PER_OPTION = frozenset({"regional_median"})


def _valid(criterion: str, param: int) -> bool:
    """Whether a small param value can occur for a criterion (tables are filled for all small values)."""
    if criterion == "connected_person":
        return param <= len(_STAGES)
    if criterion == "setting_type":
        return param < 5
    if criterion == "preferred_setting":
        return param < 3
    if criterion == "ofsted":
        return param < len(OFSTED_CODES)
    if criterion in ("budget",):
        return (param & 3) != 3
    return True


_FLAG_SETS: dict[int, frozenset[str]] = {}


def _flag_set(bits: int) -> frozenset[str]:
    value = _FLAG_SETS.get(bits)
    if value is None:
        value = _FLAG_SETS[bits] = frozenset(name for i, name in enumerate(FLAGS) if bits >> i & 1)
    return value


def _active(scored: _Scored, k: int) -> list[str]:
    """Criteria with a part (points) in at least one of the first k rows."""
    return [c for c in CRITERIA if c in ALWAYS_SHOWN or scored.points[c][:k].any()]


def _matches(index: OptionIndex, scored: _Scored, ctx: RequestContext, limit: int | None) -> tuple[Match, ...]:
    k = scored.rows.size if limit is None else min(limit, scored.rows.size)
    if k == 0:
        return ()
    parts = _Parts(index, ctx)
    rows = scored.rows[:k]
    columns = [parts.column(c, scored.params[c][:k], rows, as_text=False).tolist() for c in _active(scored, k)]
    ids = index.ids
    flag_sets = [_flag_set(b) for b in range(1 << len(FLAGS))]
    return tuple(
        Match(ids[row], score, tuple(filter(None, row_parts)), flag_sets[flags], tenths / 10,
              school / 10 if school >= 0 else None)
        for row, score, flags, tenths, school, row_parts in zip(
            scored.rows[:k].tolist(), scored.score[:k].tolist(), scored.flags[:k].tolist(),
            scored.tenths[:k].tolist(), scored.school[:k].tolist(), zip(*columns))
    )


def _group_columns(index: OptionIndex, unit: _Unit, taken: Sequence[_Scored],
                   as_text: bool) -> list[np.ndarray]:
    """A sibling group's parts, criterion by criterion, for the rows of `taken` (each member's scored rows, in
    the same order): per active criterion an object array of the merged parts (`scoring.merge_parts`) of each
    row, as a tuple of ScorePart or as JSON text with its separator. Merged once per distinct combination of the
    members' params, which fix each member's part."""
    k = taken[0].rows.size
    active = [c for c in CRITERIA if c in ALWAYS_SHOWN or any(s.points[c][:k].any() for s in taken)]
    caches = [_Parts(index, ctx) for ctx in unit.contexts]
    merged_store = index._json.setdefault("merged", {})
    if len(merged_store) > _CACHE_LIMIT:
        merged_store.clear()
    out = []
    n = len(taken)
    for criterion, sep in zip(active, _separators(active)):
        contexts = tuple(_context_key(criterion, ctx) for ctx in unit.contexts)
        want = sep if as_text else False
        keys = np.stack([s.params[criterion] for s in taken], axis=1)
        column = np.empty(k, dtype=object)
        # Siblings share a home, so most rows give every member the same param: then the merged part is the
        # member's own "(+n each, ...)" whoever the children are, looked up by the one param.
        same = np.all(keys == keys[:, :1], axis=1) if len(set(contexts)) == 1 else np.zeros(k, dtype=bool)
        if same.any():
            values, inverse = np.unique(keys[same, 0], return_inverse=True)
            table = np.empty(values.size, dtype=object)
            made = []
            for p in values.tolist():
                key = (n, criterion, contexts[0], p, want)
                value = merged_store.get(key)
                if value is None:
                    parts = merge_parts(unit.labels, criterion, [caches[0].part(criterion, p, contexts[0])] * n)
                    value = merged_store[key] = _separated(_part_json(parts), sep) if as_text else parts
                made.append(value)
            table[:] = made
            column[same] = table[inverse.reshape(-1)]
        if not same.all():
            mixed = ~same
            combos, inverse = np.unique(keys[mixed], axis=0, return_inverse=True)
            table = np.empty(len(combos), dtype=object)
            made = []
            for combo in combos.tolist():
                key = (unit.labels, criterion, contexts, tuple(combo), want)
                value = merged_store.get(key)
                if value is None:
                    found = [cache.part(criterion, p, c) for cache, p, c in zip(caches, combo, contexts)]
                    parts = merge_parts(unit.labels, criterion, found)
                    value = merged_store[key] = _separated(_part_json(parts), sep) if as_text else parts
                made.append(value)
            table[:] = made
            column[mixed] = table[inverse.reshape(-1)]
        out.append(column)
    return out


def _group_totals(taken: Sequence[_Scored]) -> tuple[np.ndarray, ...]:
    """A sibling group's (score, flags, distance, school distance) per row: the sum, the union, the farthest."""
    flags = taken[0].flags.copy()
    for s in taken[1:]:
        flags |= s.flags
    return (np.sum([s.score for s in taken], axis=0), flags, np.max([s.tenths for s in taken], axis=0),
            np.max([s.school for s in taken], axis=0))


def _group_matches(index: OptionIndex, unit: _Unit, taken: Sequence[_Scored]) -> tuple[Match, ...]:
    """The group's Match objects for the rows of `taken` (as `scoring.merge_matches` makes them)."""
    k = taken[0].rows.size
    if k == 0:
        return ()
    columns = [c.tolist() for c in _group_columns(index, unit, taken, as_text=False)]
    score, flags, tenths, school = _group_totals(taken)
    ids = index.ids
    flag_sets = [_flag_set(b) for b in range(1 << len(FLAGS))]
    return tuple(
        Match(ids[row], total, tuple(chain.from_iterable(row_parts)), flag_sets[bits], far / 10,
              sch / 10 if sch >= 0 else None)
        for row, total, bits, far, sch, row_parts in zip(
            taken[0].rows.tolist(), score.tolist(), flags.tolist(), tenths.tolist(), school.tolist(),
            zip(*columns))
    )


def _reason_columns(index: OptionIndex, request: RequestSpec, group: Group, checks: _Checks,
                    rows: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each check failing among `rows`: (positions into rows, table of distinct sentences, index into it)."""
    out = []
    needed_by = request.needed_by
    for check in rules.CHECKS:
        mask = checks.masks[check]
        if mask is None:
            continue
        hit = np.flatnonzero(mask[rows])
        if hit.size == 0:
            continue
        opts = rows[hit]
        if check == "cp_other_child":
            table, inverse = _constant(hit.size, rules.cp_other_child_reason())
        elif check == "cp_stage":
            table, inverse = _lookup(index.cp_stage[opts], lambda s: rules.cp_stage_reason(_STAGES[s]))
        elif check == "suitability":
            table, inverse = _lookup(index.setting_type[opts], lambda t: rules.suitability_reason(_TYPES[t]))
        elif check == "age":
            key = index.age_min[opts] * 1024 + index.age_max[opts]
            table, inverse = _lookup(key, lambda k: rules.age_reason(request.age_years, k // 1024, k % 1024))
        elif check == "under_16":
            table, inverse = _constant(hit.size, rules.under_16_reason(request.age_years))
        elif check == "sex":
            table, inverse = _constant(hit.size, rules.sex_reason(request.sex))
        elif check == "places":
            key = (np.minimum(index.capacity[opts], 255) * 4 + index.takes_siblings[opts] * 2
                   + index.solo_only[opts])
            table, inverse = _lookup(key, lambda k: rules.places_reason(
                k // 4, bool(k & 2), bool(k & 1), group.size))
        elif check in ("needs", "risks"):
            bits = index.need_bits if check == "needs" else index.risk_bits
            have = index.needs if check == "needs" else index.risks
            wanted = checks.req_needs if check == "needs" else checks.req_risks
            unknown = checks.unknown_needs if check == "needs" else checks.unknown_risks
            names = {bit: name for name, bit in bits.items()}
            make = rules.needs_reason if check == "needs" else rules.risks_reason
            table, inverse = _lookup(wanted & ~have[opts], partial(_missing_reason, make, names, unknown))
        elif check == "availability":
            table, inverse = _lookup(index.available[opts], lambda d: rules.availability_reason(
                date.fromordinal(d), needed_by))
        elif check == "approval":
            table, inverse = _constant(hit.size, rules.approval_reason())
        elif check == "ofsted":
            table, inverse = _constant(hit.size, rules.ofsted_reason())
        elif check == "pets":
            table, inverse = _constant(hit.size, rules.pets_reason(request.pets))
        elif check == "solo":
            table, inverse = _constant(hit.size, rules.solo_reason())
        elif check == "avoid_la":
            la_names = {i: la for la, i in index.la_index.items()}
            table, inverse = _lookup(index.la[opts], partial(_la_reason, la_names))
        else:  # pragma: no cover - CHECKS and this function change together
            raise KeyError(check)
        out.append((hit, table, inverse))
    return out


_TYPES = tuple(vocab.SETTING_TYPES)


def _missing_reason(make, names: dict[int, str], unknown: frozenset[str], mask: int) -> str:
    return make([names[1 << i] for i in range(63) if mask >> i & 1] + list(unknown))


def _la_reason(la_names: dict[int, str], i: int) -> str:
    return rules.avoid_la_reason(la_names[i])


def _constant(size: int, text: str) -> tuple[np.ndarray, np.ndarray]:
    table = np.empty(1, dtype=object)
    table[0] = text
    return table, np.zeros(size, dtype=np.int64)


def _lookup(keys: np.ndarray, make) -> tuple[np.ndarray, np.ndarray]:
    """Distinct sentences for integer keys (each made once) and each key's index into them."""
    uniq, inverse = np.unique(keys, return_inverse=True)
    table = np.empty(uniq.size, dtype=object)
    for i, key in enumerate(uniq.tolist()):
        table[i] = make(key)
    return table, inverse.reshape(-1)


@dataclass
class _Groups:
    """Excluded options grouped by their exact list of reasons (thousands of options share a few hundred)."""

    of_row: np.ndarray  # group number of each excluded row
    first: list[int]  # a row of each group
    columns: list[tuple[np.ndarray, np.ndarray]]  # per failing check: (1 + sentence number or 0, sentences)

    def reasons(self) -> list[tuple[str, ...]]:
        return [tuple(table[column[i] - 1] for column, table in self.columns if column[i]) for i in self.first]

    def json(self) -> list[str]:
        encoded = [[json.dumps(t, ensure_ascii=False) for t in table.tolist()] for _, table in self.columns]
        cols = [(column, enc) for (column, _), enc in zip(self.columns, encoded)]
        return ["[" + ", ".join([enc[column[i] - 1] for column, enc in cols if column[i]]) + "]"
                for i in self.first]


def _exclusion_groups(index: OptionIndex, request: RequestSpec, group: Group, checks: _Checks,
                      rows: np.ndarray) -> _Groups:
    if rows.size == 0:
        return _Groups(np.zeros(0, dtype=np.int64), [], [])
    key = np.zeros(rows.size, dtype=np.int64)
    radix = 1
    columns = []
    for hit, table, inverse in _reason_columns(index, request, group, checks, rows):
        if radix * (table.size + 1) >= 2**62:  # keep the key injective without overflow: renumber densely
            _, key = np.unique(key, return_inverse=True)
            key = key.reshape(-1).astype(np.int64)
            radix = int(key.max()) + 1
        column = np.zeros(rows.size, dtype=np.int64)
        column[hit] = inverse + 1
        key += column * radix
        radix *= table.size + 1
        columns.append((column, table))
    _, first, groups = np.unique(key, return_index=True, return_inverse=True)
    return _Groups(groups.reshape(-1), first.tolist(), [(c.tolist(), t) for c, t in columns])


def _exclusions(index: OptionIndex, request: RequestSpec, group: Group, checks: _Checks,
                rows: np.ndarray) -> tuple[Exclusion, ...]:
    groups = _exclusion_groups(index, request, group, checks, rows)
    reasons = groups.reasons()
    ids = index.ids
    return tuple(Exclusion(ids[r], reasons[g]) for r, g in zip(rows.tolist(), groups.of_row.tolist()))


# ------------------------------------------------------------------------------------------------ public

def rank(request: RequestSpec, options: OptionIndex | Sequence[OptionSpec], policy: Policy | None = None, *,
         siblings: Sequence[RequestSpec] = (), limit: int | None = None, with_exclusions: bool | None = None,
         exclusions: str | None = None, include: Sequence[str] = (),
         option_ids: Collection[str] | None = None) -> RankResult:
    """Rank every option for `request`: eligible ones scored and sorted best first, the others with reasons.

    `options` is an `OptionIndex` (fast: build it once) or a plain sequence (indexed on the fly). `policy`
    defaults to the index's policy (DEFAULT_POLICY for a sequence); passing a different one than the index was
    built with is an error. `siblings` are the other requests of the child's sibling group (places must cover the
    group; a connected person put forward for any of them counts). `limit` keeps only the best `limit` matches,
    plus those of the options in `include` (in rank order after them), so a page can show the top and still
    have the matches of, say, the homes that made offers. `exclusions` is "all" (every excluded option with its
    reasons: the default), "counts" (per rule, how many options fail it) or "none"; `with_exclusions` is the
    older spelling (True: "all", False: "none"). `option_ids` ranks only those options of the index (one
    provider's, say): each keeps the score and reasons it has in the whole ranking (scores never depend on the
    other options), and `eligible`, `ineligible` and the counts count only them.
    """
    mode = exclusion_mode(with_exclusions, exclusions)
    index = _as_index(options, policy)
    wanted = _wanted(index, option_ids)
    unit = _unit(index, request, policy, siblings)
    failed = unit.failed
    considered_failed = failed if wanted is None else failed & wanted
    eligible = ~failed if wanted is None else ~failed & wanted
    considered = len(index) if wanted is None else int(np.count_nonzero(wanted))
    if unit.size > 1:
        return _rank_group(index, request, unit, limit, mode, include, eligible, considered_failed, considered)
    group, ctx, checks = unit.group, unit.contexts[0], unit.checks[0]
    scored = _score(index, request, ctx, eligible, sort=False)
    top = _best(scored.rows, scored.score, scored.tenths, limit, _include_rows(index, include))
    with _no_cycle_collection():
        matches = _matches(index, scored.take(top), ctx, None)
        excluded = (_exclusions(index, request, group, checks, np.flatnonzero(considered_failed))
                    if mode == "all" else ())
    counts = _exclusion_counts(unit, considered_failed) if mode == "counts" else {}
    return RankResult(request.id, matches, excluded, eligible=int(scored.rows.size),
                      ineligible=considered - int(scored.rows.size), exclusion_counts=counts, exclusions=mode)


def exclusion_mode(with_exclusions: bool | None, exclusions: str | None) -> str:
    """The exclusion mode from rank's two spellings (`exclusions` wins; neither: "all")."""
    if exclusions is not None:
        if exclusions not in EXCLUSION_MODES:
            raise ValueError(f"rank: exclusions must be one of {', '.join(EXCLUSION_MODES)}, not {exclusions!r}")
        return exclusions
    return "none" if with_exclusions is False else "all"


def _include_rows(index: OptionIndex, include: Sequence[str]) -> np.ndarray | None:
    """The index rows of the options in `include` that it holds (None: none)."""
    wanted = [index.position[oid] for oid in include if oid in index.position]
    return np.array(wanted, dtype=np.int64) if wanted else None


def _sort_key(rows: np.ndarray, score: np.ndarray, tenths: np.ndarray) -> np.ndarray | None:
    """One distinct int64 per option that sorts as `np.lexsort((rows, tenths, -score))` (best first), or None
    when the spread of values would not fit."""
    if rows.size == 0:
        return None
    high = int(score.max())
    spread, far, last = high - int(score.min()) + 1, int(tenths.max()) + 1, int(rows.max()) + 1
    if int(tenths.min()) < 0 or spread * far * last >= 2**62:
        return None
    return ((high - score) * far + tenths) * last + rows


def _best(rows: np.ndarray, score: np.ndarray, tenths: np.ndarray, limit: int | None,
          include_rows: np.ndarray | None = None) -> np.ndarray:
    """Positions into `rows`, best first (higher score, then nearer, then input order): all of them, or the best
    `limit` (found with a partial sort) followed by those further down whose rows are in `include_rows`, in rank
    order."""
    if limit is None or limit >= rows.size:
        return np.lexsort((rows, tenths, -score))
    key = _sort_key(rows, score, tenths)
    if key is None:
        order = np.lexsort((rows, tenths, -score))
        top, rest = order[:limit], order[limit:]
        if include_rows is None:
            return top
        return np.concatenate((top, rest[np.isin(rows[rest], include_rows)]))
    if limit == 0:
        top = np.zeros(0, dtype=np.int64)
    else:
        top = np.argpartition(key, limit - 1)[:limit]
        top = top[np.argsort(key[top])]
    if include_rows is None:
        return top
    further = np.isin(rows, include_rows)
    further[top] = False
    extra = np.flatnonzero(further)
    return np.concatenate((top, extra[np.argsort(key[extra])]))


def _exclusion_counts(unit: _Unit, considered_failed: np.ndarray) -> dict[str, int]:
    """Per rule (eligibility.CHECKS order), how many options fail it for the child or any of their group (of the
    options ranked: `considered_failed` marks the failing ones among them)."""
    out: dict[str, int] = {}
    for check in rules.CHECKS:
        mask = None
        for c in unit.checks:
            m = c.masks[check]
            if m is not None:
                mask = m if mask is None else (mask | m)
        if mask is not None:
            n = int(np.count_nonzero(mask & considered_failed))
            if n:
                out[check] = n
    return out


def eligible_options(request: RequestSpec, options: OptionIndex | Sequence[OptionSpec],
                     policy: Policy | None = None, *, siblings: Sequence[RequestSpec] = ()) -> tuple[str, ...]:
    """The ids of the options eligible for `request` (and its group), in input order: the hard rules only,
    nothing scored or explained (who a referral may go to, without building every match)."""
    index = _as_index(options, policy)
    return tuple(_id_array(index)[~_unit(index, request, policy, siblings).failed].tolist())


def _id_array(index: OptionIndex) -> np.ndarray:
    """The index's option ids as an object array (made once per index)."""
    ids = index._json.get("id_array")
    if ids is None:
        ids = index._json["id_array"] = np.array(index.ids, dtype=object)
    return ids


def fitting_options(request: RequestSpec, options: OptionIndex | Sequence[OptionSpec], policy: Policy | None = None,
                    *, siblings: Sequence[RequestSpec] = (),
                    option_ids: Collection[str] | None = None) -> tuple[tuple[str, float], ...]:
    """The eligible options for `request`, best first, as (option id, distance in miles): the order and distances
    of `rank(...).matches` (a sibling group's distance is its farthest child's) without building the matches and
    their parts. For pages that only list what fits, such as a provider's inbox over fifty referrals."""
    return tuple((oid, miles) for oid, _score, miles in fitting_scores(request, options, policy, siblings=siblings,
                                                                        option_ids=option_ids))


def fitting_scores(request: RequestSpec, options: OptionIndex | Sequence[OptionSpec], policy: Policy | None = None,
                   *, siblings: Sequence[RequestSpec] = (),
                   option_ids: Collection[str] | None = None) -> tuple[tuple[str, int, float], ...]:
    """As `fitting_options`, with each option's score: (option id, score, distance in miles), best first. The
    score is `rank(...).matches`' (a sibling group's is the sum of its children's), without the parts."""
    index = _as_index(options, policy)
    wanted = _wanted(index, option_ids)
    unit = _unit(index, request, policy, siblings)
    eligible = ~unit.failed if wanted is None else ~unit.failed & wanted
    ids = index.ids
    if unit.size > 1:
        scored = [_score(index, m, ctx, eligible, sort=False) for m, ctx in zip(unit.members, unit.contexts)]
        rows = scored[0].rows
        total = np.sum([s.score for s in scored], axis=0)
        farthest = np.max([s.tenths for s in scored], axis=0)
        order = np.lexsort((rows, farthest, -total))
        return tuple((ids[r], s, t / 10) for r, s, t in zip(rows[order].tolist(), total[order].tolist(),
                                                             farthest[order].tolist()))
    scored = _score(index, request, unit.contexts[0], eligible)
    return tuple((ids[r], s, t / 10) for r, s, t in zip(scored.rows.tolist(), scored.score.tolist(),
                                                         scored.tenths.tolist()))


def _wanted(index: OptionIndex, option_ids: Collection[str] | None) -> np.ndarray | None:
    """A mask of the index's rows for `option_ids` (None: every row)."""
    if option_ids is None:
        return None
    mask = np.zeros(len(index), dtype=bool)
    try:
        mask[[index.position[oid] for oid in option_ids]] = True
    except KeyError as err:
        raise KeyError(f"no option {err.args[0]!r} in the index") from None
    return mask


@contextmanager
def _no_cycle_collection():
    """Pause the cyclic garbage collector while building thousands of (acyclic) result objects.

    Allocating them would otherwise trigger full collections over everything the process holds (the index, the
    app), which measured as most of the tail latency. Reference counting still frees everything; the collector
    is resumed by whoever paused it, so overlapping threads leave it running as they found it.
    """
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def eligible_count(request: RequestSpec, options: OptionIndex | Sequence[OptionSpec], policy: Policy | None = None,
                   *, siblings: Sequence[RequestSpec] = ()) -> int:
    """How many options are eligible for `request`: the hard rules only, nothing scored (sufficiency gaps)."""
    index = _as_index(options, policy)
    return int(len(index) - np.count_nonzero(_unit(index, request, policy, siblings).failed))


def explain_exclusions(request: RequestSpec, options: OptionIndex | Sequence[OptionSpec],
                       option_ids: Sequence[str] | None = None, *, policy: Policy | None = None,
                       siblings: Sequence[RequestSpec] = ()) -> tuple[Exclusion, ...]:
    """Why each of `option_ids` (default: all) is not eligible for `request`; eligible ones are left out."""
    index = _as_index(options, policy)
    unit = _unit(index, request, policy, siblings)
    failed = unit.failed
    if option_ids is None:
        rows = np.flatnonzero(failed)
    else:
        try:
            wanted = np.array(sorted({index.position[oid] for oid in option_ids}), dtype=np.int64)
        except KeyError as err:
            raise KeyError(f"no option {err.args[0]!r} in the index") from None
        rows = wanted[failed[wanted]] if wanted.size else wanted
    if unit.size > 1:
        return _group_exclusions(index, unit, rows)
    return _exclusions(index, request, unit.group, unit.checks[0], rows)


def exclusion_summary(index: OptionIndex, request: RequestSpec, group: Group) -> tuple[int, str | None]:
    """(number of options, the most common single reason sentence) for a request with nothing eligible."""
    checks = _checks(index, request, group, index.policy)
    rows = np.flatnonzero(checks.failed(len(index)))
    best: tuple[int, str] | None = None
    for _, table, inverse in _reason_columns(index, request, group, checks, rows):
        counts = np.bincount(inverse, minlength=table.size)
        i = int(np.argmax(counts))
        if best is None or counts[i] > best[0]:
            best = (int(counts[i]), table[i])
    return len(index), (best[1] if best else None)


# -------------------------------------------------------------------------------------------- JSON output

def _json_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def rank_json(request: RequestSpec, index: OptionIndex, siblings: Sequence[RequestSpec] = (), *,
              exclusions: str = "all", limit: int | None = None) -> str:
    """`json.dumps(rank(request, index, siblings=siblings, exclusions=..., limit=...).to_dict(), ensure_ascii=False)`,
    built for the CLI.

    The CLI ranks thousands of requests; building a Python object per excluded option and letting json encode it
    is most of the time, so this function assembles the same text from cached sentence fragments instead. The
    tests check the two are byte-identical.
    """
    return rank_json_bytes(request, index, siblings, exclusions=exclusions, limit=limit).decode("utf-8")


def rank_json_bytes(request: RequestSpec, index: OptionIndex, siblings: Sequence[RequestSpec] = (), *,
                    exclusions: str = "all", limit: int | None = None) -> bytes:
    """`rank_json` as UTF-8 bytes (what the CLI writes)."""
    mode = exclusion_mode(None, exclusions)
    unit = _unit(index, request, None, siblings)
    failed = unit.failed
    if unit.size > 1:
        scored = [_score(index, m, ctx, ~failed, sort=False) for m, ctx in zip(unit.members, unit.contexts)]
        eligible = int(scored[0].rows.size)
        totals = _group_totals(scored)
        top = _best(scored[0].rows, totals[0], totals[2], limit)
        taken = [s.take(top) for s in scored]
        score, flags, tenths, school = _group_totals(taken)
        columns = _group_columns(index, unit, taken, as_text=True)
        rows = taken[0].rows
    else:
        ctx = unit.contexts[0]
        scored = _score(index, request, ctx, ~failed, sort=False)
        eligible = int(scored.rows.size)
        scored = scored.take(_best(scored.rows, scored.score, scored.tenths, limit))
        rows, score, flags, tenths, school = scored.rows, scored.score, scored.flags, scored.tenths, scored.school
        cache = _Parts(index, ctx)
        active = _active(scored, rows.size)
        columns = [cache.column(c, scored.params[c], rows, as_text=True, sep=sep)
                   for c, sep in zip(active, _separators(active))]
    head = [b'{"request": ', _json_str(request.id).encode(), b', "matches": [',
            _matches_json(index, rows, score, flags, tenths, school, columns)]
    if mode == "all":
        if unit.size > 1:
            excluded = json.dumps([e.to_dict() for e in _group_exclusions(index, unit, np.flatnonzero(failed))],
                                  ensure_ascii=False).encode("utf-8")[1:-1]
        else:
            excluded = _exclusions_json(index, request, unit.group, unit.checks[0], np.flatnonzero(failed),
                                        _id_json(index))
        return b"".join((*head, b'], "excluded": [', excluded, b"]}"))
    tail = f'], "eligible": {eligible}, "ineligible": {len(index) - eligible}'
    if mode == "counts":
        tail += ', "exclusion_counts": ' + json.dumps(_exclusion_counts(unit, unit.failed))
    return b"".join((*head, tail.encode(), b"}"))


def _id_json(index: OptionIndex) -> np.ndarray:
    """Each option id as JSON text (made once per index)."""
    id_json = index._json.get("ids")
    if id_json is None:
        id_json = index._json["ids"] = np.array([_json_str(i) for i in index.ids], dtype=object)
    return id_json


_TENTHS_TEXT: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}


def _tenths_json(tenths: np.ndarray, suffix: bytes) -> np.ndarray:
    """JSON text of tenths / 10 (as json.dumps writes the float), "null" for -1, each followed by `suffix`."""
    shifted = tenths + 1
    if shifted.size and (int(shifted.min()) < 0 or int(shifted.max()) >= _DENSE):
        values, inverse = np.unique(tenths, return_inverse=True)
        table = np.empty(values.size, dtype=object)
        table[:] = [_tenths_text(t, suffix) for t in values.tolist()]
        return table[inverse.reshape(-1)]
    entry = _TENTHS_TEXT.get(suffix)
    if entry is None:
        entry = _TENTHS_TEXT[suffix] = (np.empty(_DENSE, dtype=object), np.zeros(_DENSE, dtype=bool))
    table, filled = entry
    missing = shifted[~filled[shifted]]
    if missing.size:
        missing = np.unique(missing)
        for t in missing.tolist():
            table[t] = _tenths_text(t - 1, suffix)
        filled[missing] = True
    return table[shifted]


def _tenths_text(t: int, suffix: bytes) -> bytes:
    return ("null" if t < 0 else json.dumps(t / 10)).encode() + suffix


_FLAGS_JSON = [f'], "flags": {json.dumps(sorted(name for i, name in enumerate(FLAGS) if b >> i & 1))}, '
               f'"distance_miles": '.encode() for b in range(1 << len(FLAGS))]


def _matches_json(index: OptionIndex, rows: np.ndarray, score: np.ndarray, flags: np.ndarray,
                  tenths: np.ndarray, school: np.ndarray, parts: Sequence[np.ndarray]) -> bytes:
    """The matches' JSON text (without the list's brackets), as `json.dumps` writes `Match.to_dict()`s.

    Assembled column by column from cached fragments: per option `{"option": ..., "score": `, per distinct
    score, each part's text with its separator (`parts`, one object array per active criterion), the flags,
    the distances; one join at the end, so nothing is built per match but the references to its fragments."""
    k = rows.size
    if k == 0:
        return b""
    prefix = index._json.get("match_prefix")
    if prefix is None:
        prefix = index._json["match_prefix"] = np.array(
            [f'{{"option": {i}, "score": '.encode() for i in _id_json(index).tolist()], dtype=object)
    uniq, inverse = np.unique(score, return_inverse=True)
    score_text = np.array([b'%d, "parts": [' % v for v in uniq.tolist()], dtype=object)[inverse.reshape(-1)]
    grid = np.empty((k, len(parts) + 5), dtype=object)
    grid[:, 0] = prefix[rows]
    grid[:, 1] = score_text
    for j, column in enumerate(parts, start=2):
        grid[:, j] = column
    flag_table = np.array(_FLAGS_JSON, dtype=object)
    grid[:, -3] = flag_table[flags]
    grid[:, -2] = _tenths_json(tenths, b', "school_distance_miles": ')
    grid[:, -1] = _tenths_json(school, b"}, ")
    grid[-1, -1] = grid[-1, -1][:-2]
    return b"".join(grid.ravel().tolist())


def _exclusions_json(index: OptionIndex, request: RequestSpec, group: Group, checks: _Checks, rows: np.ndarray,
                     id_json: np.ndarray) -> bytes:
    if rows.size == 0:
        return b""
    groups = _exclusion_groups(index, request, group, checks, rows)
    texts = [(text + "}").encode() for text in groups.json()]
    prefix = index._json.get("exclusion_prefix")
    if prefix is None:
        prefix = index._json["exclusion_prefix"] = [f'{{"option": {i}, "reasons": '.encode()
                                                    for i in id_json.tolist()]
    return b", ".join([prefix[r] + texts[g] for r, g in zip(rows.tolist(), groups.of_row.tolist())])


def iter_rank_json(requests: Sequence[RequestSpec], index: OptionIndex, *, exclusions: str = "all",
                   limit: int | None = None) -> Iterator[bytes]:
    """The CLI's `rank` output as UTF-8 pieces: `{"results": [` ... `]}`, one request at a time."""
    groups = sibling_lists(requests)
    done: dict[str, bytes] = {}
    yield b'{"results": ['
    for i in range(len(requests)):
        yield rank_json_block(requests, index, groups, i, i + 1, exclusions=exclusions, limit=limit, done=done)
    yield b"]}"


def sibling_lists(requests: Sequence[RequestSpec]) -> dict[str, list[RequestSpec]]:
    """Each sibling group's members among `requests`, in their order."""
    groups: dict[str, list[RequestSpec]] = {}
    for r in requests:
        if r.sibling_group is not None:
            groups.setdefault(r.sibling_group, []).append(r)
    return groups


def rank_json_block(requests: Sequence[RequestSpec], index: OptionIndex, groups: dict[str, list[RequestSpec]],
                    start: int, stop: int, *, exclusions: str = "all", limit: int | None = None,
                    done: dict[str, bytes] | None = None) -> bytes:
    """The results of `requests[start:stop]` in the `rank` output, each after its separator (", " before every
    result but the first of all), so blocks joined in order make the list whatever way they were cut.

    A sibling group placed together has one list: every member's result is the same but for "request", so it is
    made once per group (`done` caches the text after the request id, across blocks made by one process).
    """
    done = {} if done is None else done
    out: list[bytes] = []
    for i in range(start, stop):
        r = requests[i]
        siblings = groups.get(r.sibling_group, ()) if r.sibling_group is not None else ()
        if i:
            out.append(b", ")
        if len(group_members(r, siblings)) > 1:
            rest = done.get(r.sibling_group)
            head = b'{"request": ' + _json_str(r.id).encode()
            if rest is None:
                text = rank_json_bytes(r, index, siblings, exclusions=exclusions, limit=limit)
                rest = done[r.sibling_group] = text[len(head):]
            out.append(head + rest)
        else:
            out.append(rank_json_bytes(r, index, siblings, exclusions=exclusions, limit=limit))
    return b"".join(out)
