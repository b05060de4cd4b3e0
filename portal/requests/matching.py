"""Glue between the database and the pure matching core: rows in, frozen dataclasses out, and back.

The region's open options are turned into an OptionIndex once per process and rebuilt only when the options
version moves (a vacancy, setting or approval changed) or the day changes (ages, availability, staleness).
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, replace
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from portal import matching
from portal.db import db, utcnow
from portal.providers.models import Provider, Setting, Vacancy
from portal.providers.queries import get_options_version
from portal.requests.models import MatchRun, PlacementRequest


@dataclass(frozen=True)
class OptionInfo:
    """What the pages show about an option beside its score (ids, names, fee, rating)."""

    option_id: str
    kind: str
    provider_id: str | None
    provider_name: str
    setting_id: str | None
    setting_name: str
    la_code: str
    fee_gbp_week: float | None
    ofsted: str | None
    postcode_sector: str
    places_free: int
    available_from: date


def request_spec(req: PlacementRequest, today: date | None = None) -> matching.RequestSpec:
    """The child's needs as the matching core reads them (no name, no date of birth, no address)."""
    needed_by = req.needed_by
    school = (
        matching.GridPoint(req.school_easting, req.school_northing)
        if req.school_easting is not None and req.school_northing is not None
        else None
    )
    family = (
        matching.GridPoint(req.family_easting, req.family_northing)
        if req.family_easting is not None and req.family_northing is not None
        else None
    )
    return matching.RequestSpec(
        id=req.id,
        la=req.la_code,
        home=matching.GridPoint(req.home_easting, req.home_northing),
        school=school,
        keep_school=bool(req.keep_school and school is not None),
        age_years=req.age_on(needed_by),
        sex=req.sex,
        needed_by=needed_by,
        urgency=req.urgency,
        suitability={
            "foster": req.suitability_foster,
            "residential": req.suitability_residential,
            "supported": req.suitability_supported,
        },
        needs=frozenset(req.needs or ()),
        risks=frozenset(req.risks or ()),
        sibling_group=req.sibling_group_id,
        budget_gbp_week=float(req.budget_gbp_week) if req.budget_gbp_week is not None else None,
        language=req.first_language,
        religion=req.religion,
        cultural_needs=req.cultural_needs,
        pets=req.pets,
        living_companions=req.living_companions,
        avoid_las=frozenset(req.avoid_las or ()),
        family=family,
    )


def connected_person_options(req: PlacementRequest) -> list[tuple[matching.OptionSpec, OptionInfo]]:
    """A connected person is an option only for their own child (s22C(6)(a): family and friends first)."""
    from portal.geo import postcode_sector

    out = []
    for person in req.connected_persons:
        spec = matching.OptionSpec(
            id=f"cp-{person.id}",
            kind="connected_person",
            for_request=req.id,
            provider_code="PR1",
            la=person.la_code,
            location=matching.GridPoint(person.easting, person.northing),
            places=person.capacity,
            available_from=req.needed_by,
            age_min=0,
            age_max=18,
            sexes=frozenset({"female", "male"}),
            needs_met=frozenset(req.needs or ()),
            risks_managed=frozenset(req.risks or ()),
            ofsted=None,
            fee_gbp_week=None,
            connected_stage=person.stage,
        )
        info = OptionInfo(
            option_id=spec.id, kind="connected_person", provider_id=None,
            provider_name=f"{person.name} ({person.relationship_to_child})", setting_id=None,
            setting_name=person.name, la_code=person.la_code, fee_gbp_week=None, ofsted=None,
            postcode_sector=postcode_sector(person.postcode), places_free=person.capacity,
            available_from=req.needed_by,
        )
        out.append((spec, info))
    return out


def _load_open_options(today: date) -> tuple[list[matching.OptionSpec], dict[str, OptionInfo]]:
    """Every open vacancy at an approved provider's active setting, one option each (a single query)."""
    from portal.geo import postcode_sector

    stale_days = current_app.config["VACANCY_STALE_DAYS"]
    stale_before = utcnow() - timedelta(days=stale_days)
    # Plain column rows, not ORM objects: ten thousand vacancies load in a fraction of the time.
    rows = db.session.execute(
        select(
            Vacancy.id, Vacancy.places, Vacancy.places_taken, Vacancy.available_from, Vacancy.fee_gbp_week,
            Vacancy.confirmed_at, Vacancy.created_at,
            Setting.id.label("setting_id"), Setting.name, Setting.kind, Setting.postcode, Setting.la_code,
            Setting.easting, Setting.northing, Setting.age_min, Setting.age_max, Setting.sexes, Setting.needs_met,
            Setting.risks_managed, Setting.ofsted_rating, Setting.languages, Setting.religions, Setting.has_pets,
            Setting.takes_siblings, Setting.solo_only,
            Provider.id.label("provider_id"), Provider.name.label("provider_name"), Provider.provider_code,
        )
        .join(Setting, Setting.id == Vacancy.setting_id)
        .join(Provider, Provider.id == Setting.provider_id)
        .where(Vacancy.status == "open", Setting.active.is_(True), Provider.status == "approved")
    ).all()
    specs: list[matching.OptionSpec] = []
    infos: dict[str, OptionInfo] = {}
    for row in rows:
        confirmed = row.confirmed_at or row.created_at
        if confirmed.tzinfo is None:  # SQLite returns naive UTC through column selects of UTCDateTime
            confirmed = confirmed.replace(tzinfo=stale_before.tzinfo)
        places_free = row.places - row.places_taken
        fee = float(row.fee_gbp_week)
        specs.append(matching.OptionSpec(
            id=row.id,
            kind=row.kind,
            for_request=None,
            provider_code=row.provider_code,
            provider_approved=True,
            la=row.la_code,
            location=matching.GridPoint(row.easting, row.northing),
            places=places_free,
            available_from=row.available_from,
            age_min=row.age_min,
            age_max=row.age_max,
            sexes=frozenset(row.sexes),
            needs_met=frozenset(row.needs_met),
            risks_managed=frozenset(row.risks_managed),
            ofsted=row.ofsted_rating,
            fee_gbp_week=fee,
            languages=frozenset(row.languages),
            religions=frozenset(row.religions),
            has_pets=row.has_pets,
            takes_siblings=row.takes_siblings,
            solo_only=row.solo_only,
            stale=confirmed < stale_before,
            provider_id=row.provider_id,
            setting_id=row.setting_id,
        ))
        infos[row.id] = OptionInfo(
            option_id=row.id, kind=row.kind, provider_id=row.provider_id, provider_name=row.provider_name,
            setting_id=row.setting_id, setting_name=row.name, la_code=row.la_code, fee_gbp_week=fee,
            ofsted=row.ofsted_rating, postcode_sector=postcode_sector(row.postcode), places_free=places_free,
            available_from=row.available_from,
        )
    return specs, infos


class _IndexCache:
    """One OptionIndex per process per (database, options version, day). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._value: tuple | None = None

    def get(self) -> tuple[matching.OptionIndex, list[matching.OptionSpec], dict[str, OptionInfo]]:
        key = (current_app.config["DATABASE_URL"], get_options_version(), date.today())
        if self._key == key and self._value is not None:
            return self._value
        with self._lock:
            if self._key != key or self._value is None:
                gc.unfreeze()  # the previous index, if any, can be collected again
                specs, infos = _load_open_options(key[2])
                self._value = (matching.OptionIndex.build(specs), specs, infos)
                self._key = key
                # The index is tens of thousands of long-lived objects: move them out of the garbage collector's
                # sight, or every full collection scans them again (measured: 200-300 ms pauses on page views).
                gc.collect()
                gc.freeze()
            return self._value

    def version_seen(self) -> int:
        """The options version the cached index was built from."""
        return self._key[1] if self._key else 0

    def clear(self) -> None:
        with self._lock:
            self._key = self._value = None


option_index_cache = _IndexCache()


@dataclass(frozen=True)
class Ranking:
    result: matching.RankResult
    infos: dict[str, OptionInfo]
    version: int
    problem: dict
    excluded_count: int = 0


def sibling_specs(req: PlacementRequest) -> list[matching.RequestSpec]:
    """The brothers and sisters to be placed with this child in one setting (open requests of the same group)."""
    group = req.sibling_group
    if group is None or not group.together:
        return []
    return [request_spec(other) for other in group.requests
            if other.id != req.id and other.status in ("searching", "offers") and other.needed_by is not None]


def rank_request(req: PlacementRequest, *, with_exclusions: bool = False) -> Ranking:
    """Rank every open option (and the child's connected persons) for one submitted request.

    Exclusion reasons for thousands of options cost more than the ranking itself, so pages ask for them only
    on the "why not these homes?" page (`explain_request_exclusions`).
    """
    index, specs, infos = option_index_cache.get()
    spec = request_spec(req)
    siblings = sibling_specs(req)
    result = matching.rank(spec, index, siblings=siblings, with_exclusions=with_exclusions)
    extra = connected_person_options(req)
    all_infos = dict(infos)
    if extra:
        # The child's own connected persons are ranked on their own (the region's index stays shared and cached)
        # and merged in: an eligible connected person carries the s22C tier bonus, so sorting by score keeps
        # them first, as the core does when ranking one list.
        for cp_spec, cp_info in extra:
            all_infos[cp_spec.id] = cp_info
        family = matching.rank(spec, [s for s, _ in extra], siblings=siblings, with_exclusions=with_exclusions)
        result = replace(
            result,
            matches=tuple(sorted(family.matches + result.matches, key=lambda m: -m.score)),
            excluded=family.excluded + result.excluded,
            eligible=result.eligible + family.eligible,
        )
    problem = {"request": spec.id}
    return Ranking(result=result, infos=all_infos, version=option_index_cache.version_seen(), problem=problem,
                   excluded_count=len(specs) + len(extra) - len(result.matches))


@dataclass(frozen=True)
class NotEligible:
    option_id: str
    info: OptionInfo
    distance_miles: float
    reasons: tuple[str, ...]


def explain_request_exclusions(req: PlacementRequest, *, search: str | None = None, limit: int = 100):
    """Why the region's other homes are not eligible: counts per reason, and the nearest ones with reasons.

    `search` narrows the list to homes or providers whose name contains it ("why not this home?").
    """
    from collections import Counter

    from portal.geo import distance_miles

    index, specs, infos = option_index_cache.get()
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
    return counts.most_common(15), rows[:limit], len(rows)


def eligible_provider_ids(ranking: Ranking) -> set[str]:
    """Providers with at least one eligible option for this child: the only ones a referral may reach."""
    return {
        ranking.infos[m.option].provider_id
        for m in ranking.result.matches
        if m.option in ranking.infos and ranking.infos[m.option].provider_id
    }


def _point(point: matching.GridPoint | None) -> dict | None:
    return None if point is None else {"easting": point.easting, "northing": point.northing}


def problem_request(spec: matching.RequestSpec) -> dict:
    """A request in the matching core's problem-file format (docs/matching.md): no name, no date of birth."""
    return {
        "id": spec.id, "la": spec.la, "home": _point(spec.home), "school": _point(spec.school),
        "keep_school": spec.keep_school, "age_years": spec.age_years, "sex": spec.sex,
        "needed_by": spec.needed_by.isoformat(), "urgency": spec.urgency, "suitability": dict(spec.suitability),
        "needs": sorted(spec.needs), "risks": sorted(spec.risks), "sibling_group": spec.sibling_group,
        "budget_gbp_week": spec.budget_gbp_week, "language": spec.language, "religion": spec.religion,
        "cultural_needs": spec.cultural_needs, "pets": spec.pets, "living_companions": spec.living_companions,
        "avoid_las": sorted(spec.avoid_las), "family": _point(spec.family), "arrival_order": spec.arrival_order,
    }


def problem_option(spec: matching.OptionSpec) -> dict:
    """An option in the matching core's problem-file format."""
    return {
        "id": spec.id, "kind": spec.kind, "for_request": spec.for_request, "provider_code": spec.provider_code,
        "provider_approved": spec.provider_approved, "la": spec.la, "location": _point(spec.location),
        "places": spec.places, "available_from": spec.available_from.isoformat(), "age_min": spec.age_min,
        "age_max": spec.age_max, "sexes": sorted(spec.sexes), "needs_met": sorted(spec.needs_met),
        "risks_managed": sorted(spec.risks_managed), "ofsted": spec.ofsted, "fee_gbp_week": spec.fee_gbp_week,
        "languages": sorted(spec.languages), "religions": sorted(spec.religions), "has_pets": spec.has_pets,
        "takes_siblings": spec.takes_siblings, "solo_only": spec.solo_only, "stale": spec.stale,
        "connected_stage": spec.connected_stage, "provider_id": spec.provider_id, "setting_id": spec.setting_id,
    }


def _without_none(record: dict) -> dict:
    return {key: value for key, value in record.items() if value is not None}


def ranking_problem(req: PlacementRequest, ranking: Ranking) -> dict:
    """The ranking as a problem file: the child, their siblings, every option that matched, and the regional
    median fees pinned in the policy, so `python -m portal.matching rank` gives back exactly these matches."""
    index, specs, _infos = option_index_cache.get()
    by_id = {s.id: s for s in specs} | {s.id: s for s, _ in connected_person_options(req)}
    requests = [request_spec(req), *sibling_specs(req)]
    return {
        "policy": {"regional_median_fee_gbp_week": dict(index.medians)},
        "requests": [_without_none(problem_request(r)) for r in requests],
        "options": [_without_none(problem_option(by_id[m.option])) for m in ranking.result.matches],
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
