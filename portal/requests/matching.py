"""Requests' use of the matching core: rank one child's options, explain the rest, keep the ranking acted on.

The region's options come from `portal.options` (the shared, per-process index); the child's connected persons
are ranked beside them. A `Ranking` carries the options it ranked, so whatever acts on it (a referral, an
acceptance) saves exactly what the officer saw, even if another process has since changed the options.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

from portal import matching
from portal.db import db
from portal.geo import distance_miles
from portal.models import MatchRun, PlacementRequest
from portal.options import OptionInfo, connected_person_options, current_options, request_spec, sibling_specs


@dataclass(frozen=True)
class Ranking:
    result: matching.RankResult
    infos: Mapping[str, OptionInfo]
    version: int
    problem: dict
    excluded_count: int = 0
    # Every option ranked (the region's and the child's connected persons), and the regional median fees the
    # scores used: enough to write the ranking as a problem file that re-runs to the same matches.
    options: Mapping[str, matching.OptionSpec] | None = None
    medians: Mapping[str, float] | None = None
    # Every eligible option's id, even when `result.matches` was cut to the page's top (who a referral may reach).
    eligible_options: tuple[str, ...] | None = None
    # The whole policy the scores used (weights as well as medians): a saved decision re-runs with the weights of
    # its day, not today's defaults.
    policy: matching.Policy | None = None


def rank_request(req: PlacementRequest, *, with_exclusions: bool = False, limit: int | None = None,
                 include: tuple[str, ...] = ()) -> Ranking:
    """Rank every open option (and the child's connected persons) for one submitted request.

    Exclusion reasons for thousands of options cost more than the ranking itself, so pages ask for them only
    on the "why not these homes?" page (`explain_request_exclusions`). A page that shows the best `limit` passes
    it (and `include`: options whose matches it needs further down, such as the homes that made offers); the
    count of eligible options and who they belong to stay complete.
    """
    snapshot = current_options()
    index, specs, infos = snapshot.index, snapshot.specs, snapshot.infos
    spec = request_spec(req)
    siblings = sibling_specs(req)
    result = matching.rank(spec, index, siblings=siblings, with_exclusions=with_exclusions, limit=limit,
                           include=include)
    eligible_ids = (matching.eligible_options(spec, index, siblings=siblings) if limit is not None
                    else tuple(m.option for m in result.matches))
    extra = connected_person_options(req)
    all_infos = dict(infos)
    if extra:
        # The child's own connected persons are ranked on their own (the region's index stays shared and cached)
        # and merged in: an eligible connected person carries the s22C tier bonus, so sorting by score keeps
        # them first, as the core does when ranking one list.
        for cp_spec, cp_info in extra:
            all_infos[cp_spec.id] = cp_info
        family = matching.rank(spec, [s for s, _ in extra], siblings=siblings, with_exclusions=with_exclusions)
        eligible_ids = eligible_ids + tuple(m.option for m in family.matches)
        result = replace(
            result,
            matches=tuple(sorted(family.matches + result.matches, key=lambda m: -m.score)),
            excluded=family.excluded + result.excluded,
            eligible=result.eligible + family.eligible,
        )
    problem = {"request": spec.id}
    options = {**snapshot.by_id, **{s.id: s for s, _ in extra}} if extra else snapshot.by_id
    return Ranking(result=result, infos=all_infos, version=snapshot.version, problem=problem,
                   excluded_count=len(specs) + len(extra) - result.eligible, options=options,
                   medians=dict(index.medians), eligible_options=eligible_ids, policy=index.policy)


@dataclass(frozen=True)
class NotEligible:
    option_id: str
    info: OptionInfo
    distance_miles: float
    reasons: tuple[str, ...]


def explain_request_exclusions(req: PlacementRequest, *, search: str | None = None):
    """Why the region's other homes are not eligible: counts per reason, and every one with its reasons, nearest
    first (the page shows them a page at a time).

    `search` narrows the list to homes or providers whose name contains it ("why not this home?").
    """
    snapshot = current_options()
    index, specs, infos = snapshot.index, snapshot.specs, snapshot.infos
    spec = request_spec(req)
    extra = connected_person_options(req)
    siblings = sibling_specs(req)
    exclusions = list(matching.explain_exclusions(spec, index, siblings=siblings))
    if extra:
        exclusions += matching.explain_exclusions(spec, [s for s, _ in extra], siblings=siblings)
    all_infos = {**infos, **{s.id: i for s, i in extra}}
    locations = {s.id: s.location for s in specs} | {s.id: s.location for s, _ in extra}
    counts = Counter(reason.split(":")[0] for ex in exclusions for reason in ex.reasons)
    if search and search.strip():
        needle = search.strip().lower()
        exclusions = [ex for ex in exclusions
                      if needle in all_infos[ex.option].setting_name.lower()
                      or needle in all_infos[ex.option].provider_name.lower()]
    rows = [
        NotEligible(ex.option, all_infos[ex.option],
                    distance_miles(spec.home.easting, spec.home.northing,
                                   locations[ex.option].easting, locations[ex.option].northing), ex.reasons)
        for ex in exclusions
    ]
    rows.sort(key=lambda row: (row.distance_miles, row.info.setting_name))
    return counts.most_common(15), rows


def eligible_provider_ids(ranking: Ranking) -> set[str]:
    """Providers with at least one eligible option for this child: the only ones a referral may reach."""
    ids = ranking.eligible_options if ranking.eligible_options is not None else [
        m.option for m in ranking.result.matches]
    return {ranking.infos[o].provider_id for o in ids if o in ranking.infos and ranking.infos[o].provider_id}


def ranking_problem(req: PlacementRequest, ranking: Ranking) -> dict:
    """The ranking as a problem file: the child, their siblings, every option that matched, and the whole policy
    (every weight, and the regional median fees pinned), so `python -m portal.matching rank` gives back exactly
    these matches even after the region's default weights change."""
    requests = [request_spec(req), *sibling_specs(req)]
    policy = ranking.policy.to_dict() if ranking.policy is not None else {}
    policy["regional_median_fee_gbp_week"] = dict(ranking.medians)
    return {
        "policy": policy,
        "requests": [matching.request_record(r) for r in requests],
        "options": [matching.option_record(ranking.options[m.option]) for m in ranking.result.matches],
    }


def record_match_run(req: PlacementRequest, user, purpose: str, ranking: Ranking) -> MatchRun:
    """Keep the ranking the officer saw when they acted (inputs and output), so the decision can be re-run with
    `python -m portal.matching rank` and explained later."""
    run = MatchRun(
        request_id=req.id,
        created_by_id=user.id,
        purpose=purpose,
        problem=ranking_problem(req, ranking),
        result={"options_version": ranking.version, "request": req.id,
                "matches": [m.to_dict() for m in ranking.result.matches]},
    )
    db.session.add(run)
    return run


def offer_exclusions(req: PlacementRequest, vacancy_ids) -> dict[str, tuple[str, ...]]:
    """Why each offered vacancy no longer meets the child's needs (each hard rule it now fails, from the matching
    core with the request as it is now, siblings included); vacancies that still fit are left out. An offer is
    flagged, never dropped: the officer and the provider see the reasons and decide."""
    wanted = set(vacancy_ids)
    if not wanted:
        return {}
    snapshot = current_options()
    known = sorted(wanted & set(snapshot.by_id))
    out = {vacancy_id: ("the vacancy offered is no longer open",) for vacancy_id in wanted - set(known)}
    if known:
        for exclusion in matching.explain_exclusions(request_spec(req), snapshot.index, known,
                                                     siblings=sibling_specs(req)):
            out[exclusion.option] = exclusion.reasons
    return out
