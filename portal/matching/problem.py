"""Problem files: the JSON contract of `python -m portal.matching` (docs/matching.md).

`parse_problem(data)` checks a decoded problem object completely before anything is computed and turns it into
typed objects; the first mistake raises `ProblemError` naming the record and the field, so a bad file never gives
partial output. Grid points may be given as `{"postcode": ...}`: those are resolved with `portal.geo.lookup`,
the one import from outside the core (see `_resolve_postcode`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import vocabulary as vocab
from .policy import DEFAULT_POLICY, Policy
from .types import GridPoint, OptionSpec, RequestSpec

__all__ = ["OPTION_FIELDS", "REQUEST_FIELDS", "Problem", "ProblemError", "option_record", "parse_problem",
           "request_record"]

_ONS_CODE = re.compile(r"[EWSN]\d{8}\Z")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_MAX_AGE = 25  # care leavers are supported to 25; no child's age or age range goes beyond it
_MAX_EASTING, _MAX_NORTHING = 800_000, 1_300_000  # the OS National Grid's extent, in metres


class ProblemError(ValueError):
    """A problem file that cannot be used; the message names the record and the field."""

    def __init__(self, record: str, field: str | None, message: str):
        self.record, self.field, self.message = record, field, message
        where = record + (f": field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Problem:
    policy: Policy
    requests: tuple[RequestSpec, ...]
    options: tuple[OptionSpec, ...]


# ------------------------------------------------------------------------------------------- field readers

class _Record:
    """One request or option being read, so every error can name it."""

    def __init__(self, data: Any, kind: str, position: int):
        self.label = f"{kind}[{position}]"
        if not isinstance(data, Mapping):
            raise ProblemError(self.label, None, "must be an object")
        self.data = data
        rid = data.get("id")
        if isinstance(rid, str) and rid:
            self.label = f"{kind[:-1]} {rid!r} ({kind}[{position}])"

    def error(self, field: str | None, message: str) -> ProblemError:
        return ProblemError(self.label, field, message)

    def has(self, field: str) -> bool:
        return self.data.get(field) is not None

    def get(self, field: str, read: Callable[[str, Any], Any], *, required: bool = False, default: Any = None):
        if field not in self.data or self.data[field] is None:
            if required:
                raise self.error(field, "missing (required)")
            return default
        return read(field, self.data[field])

    # -- readers: (field, value) -> parsed value -----------------------------------------------------------
    def text(self, field: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, f"must be a non-empty string, not {_show(value)}")
        return value

    def boolean(self, field: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.error(field, f"must be true or false, not {_show(value)}")
        return value

    def integer(self, low: int, high: int) -> Callable[[str, Any], int]:
        def read(field: str, value: Any) -> int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.error(field, f"must be a whole number, not {_show(value)}")
            if not low <= value <= high:
                raise self.error(field, f"must be between {low} and {high}, not {value}")
            return value
        return read

    def money(self, field: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise self.error(field, f"must be a number of pounds a week (0 or more) or null, not {_show(value)}")
        return float(value)

    def day(self, field: str, value: Any) -> date:
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            raise self.error(field, f"{_show(value)} is not a date in the form YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.error(field, f"{_show(value)} is not a valid date") from None

    def la(self, field: str, value: Any) -> str:
        if not isinstance(value, str) or not _ONS_CODE.match(value):
            raise self.error(field, f"unknown code {_show(value)}: expected an ONS local authority code like "
                                    "'E08000026'")
        return value

    def code(self, table: Mapping[str, str]) -> Callable[[str, Any], str]:
        def read(field: str, value: Any) -> str:
            if not isinstance(value, str) or value not in table:
                raise self.error(field, _unknown(value, table))
            return value
        return read

    def codes(self, table: Mapping[str, str] | None) -> Callable[[str, Any], frozenset[str]]:
        def read(field: str, value: Any) -> frozenset[str]:
            if not isinstance(value, list):
                raise self.error(field, f"must be a list, not {_show(value)}")
            out = set()
            for item in value:
                if table is None:
                    out.add(self.text(field, item))
                elif not isinstance(item, str) or item not in table:
                    raise self.error(field, _unknown(item, table))
                else:
                    out.add(item)
            return frozenset(out)
        return read

    def las(self, field: str, value: Any) -> frozenset[str]:
        if not isinstance(value, list):
            raise self.error(field, f"must be a list of ONS codes, not {_show(value)}")
        return frozenset(self.la(field, item) for item in value)

    def point(self, field: str, value: Any) -> GridPoint:
        if not isinstance(value, Mapping):
            raise self.error(field, 'must be {"easting": metres, "northing": metres} or {"postcode": "CV1 2AB"}')
        if set(value) == {"postcode"}:
            return _resolve_postcode(self, field, value["postcode"])
        if set(value) != {"easting", "northing"}:
            raise self.error(field, 'must be {"easting": metres, "northing": metres} or {"postcode": "CV1 2AB"}')
        return GridPoint(self.integer(0, _MAX_EASTING)(f"{field}.easting", value["easting"]),
                         self.integer(0, _MAX_NORTHING)(f"{field}.northing", value["northing"]))

    def suitability(self, field: str, value: Any) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise self.error(field, 'must be an object like {"foster": "preferred", "residential": "suitable", '
                                    '"supported": "unsuitable"}')
        out = {}
        for key, level in value.items():
            if key not in vocab.SETTING_TYPES:
                raise self.error(f"{field}.{key}", _unknown(key, vocab.SETTING_TYPES))
            out[key] = self.code(vocab.SUITABILITY)(f"{field}.{key}", level)
        return out

    def check_keys(self, allowed: Mapping[str, Any]) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.error(key, "unknown field" + _hint(key, allowed))


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _hint(value: Any, choices) -> str:
    if not isinstance(value, str):
        return ""
    from rapidfuzz import process

    hit = process.extractOne(value, list(choices), score_cutoff=70)
    return f" (did you mean {hit[0]!r}?)" if hit else ""


def _unknown(value: Any, table: Mapping[str, str]) -> str:
    choices = ", ".join(table)
    return f"unknown code {_show(value)}{_hint(value, table)}; expected one of: {choices}"


def _resolve_postcode(record: _Record, field: str, postcode: Any) -> GridPoint:
    """The one import from outside the core: portal.geo (pure, no Flask) turns a postcode into a grid point.

    Imported here, lazily, so that the rest of the core never needs it (tests/matching/test_purity.py).
    """
    if not isinstance(postcode, str):
        raise record.error(f"{field}.postcode", f"must be a string, not {_show(postcode)}")
    try:
        from portal import geo
    except ImportError as err:  # pragma: no cover - portal.geo ships with the portal
        raise record.error(f"{field}.postcode", f"postcode lookup is unavailable ({err})") from None
    try:
        info = geo.lookup(postcode)
    except geo.PostcodeError as err:
        raise record.error(f"{field}.postcode", str(err)) from None
    return GridPoint(int(info.easting), int(info.northing))


# ----------------------------------------------------------------------------------------------- records

# field -> required? (documented in docs/matching.md; the parsers below follow this table)
REQUEST_FIELDS = {
    "id": True, "la": True, "home": True, "school": False, "keep_school": False, "age_years": True, "sex": True,
    "needed_by": True, "urgency": True, "suitability": True, "needs": True, "risks": True, "sibling_group": False,
    "budget_gbp_week": False, "language": False, "religion": False, "cultural_needs": False, "pets": False,
    "living_companions": False, "avoid_las": False, "family": False, "arrival_order": False,
}
OPTION_FIELDS = {
    "id": True, "kind": True, "for_request": False, "provider_code": True, "provider_approved": False, "la": True,
    "location": True, "places": True, "available_from": True, "age_min": True, "age_max": True, "sexes": True,
    "needs_met": True, "risks_managed": True, "ofsted": False, "fee_gbp_week": False, "languages": False,
    "religions": False, "has_pets": False, "takes_siblings": False, "solo_only": False, "stale": False,
    "connected_stage": False, "provider_id": False, "setting_id": False,
}


def _request(data: Any, position: int) -> RequestSpec:
    r = _Record(data, "requests", position)
    r.check_keys(REQUEST_FIELDS)
    req = lambda name, read: r.get(name, read, required=REQUEST_FIELDS[name])
    keep_school = r.get("keep_school", r.boolean, default=False)
    school = r.get("school", r.point)
    if keep_school and school is None:
        raise r.error("school", "missing: keep_school is true, so the school's location is needed")
    return RequestSpec(
        id=req("id", r.text),
        la=req("la", r.la),
        home=req("home", r.point),
        school=school,
        keep_school=keep_school,
        age_years=req("age_years", r.integer(0, _MAX_AGE)),
        sex=req("sex", r.code(vocab.SEXES)),
        needed_by=req("needed_by", r.day),
        urgency=req("urgency", r.code(vocab.URGENCY)),
        suitability=req("suitability", r.suitability),
        needs=req("needs", r.codes(vocab.NEEDS)),
        risks=req("risks", r.codes(vocab.RISKS)),
        sibling_group=r.get("sibling_group", r.text),
        budget_gbp_week=r.get("budget_gbp_week", r.money),
        language=r.get("language", r.text),
        religion=r.get("religion", r.text),
        cultural_needs=r.get("cultural_needs", r.code(vocab.CULTURAL_NEEDS), default="not_known"),
        pets=r.get("pets", r.code(vocab.PETS), default="unknown"),
        living_companions=r.get("living_companions", r.code(vocab.LIVING_COMPANIONS), default="no_preference"),
        avoid_las=r.get("avoid_las", r.las, default=frozenset()),
        family=r.get("family", r.point),
        arrival_order=r.get("arrival_order", r.integer(0, 2**31), default=position),
    )


def _option(data: Any, position: int) -> OptionSpec:
    r = _Record(data, "options", position)
    r.check_keys(OPTION_FIELDS)
    req = lambda name, read: r.get(name, read, required=OPTION_FIELDS[name])
    kind = req("kind", r.code(vocab.OPTION_KINDS))
    for_request = r.get("for_request", r.text)
    stage = r.get("connected_stage", r.code(vocab.CONNECTED_PERSON_STAGES))
    if kind == "connected_person":
        if for_request is None:
            raise r.error("for_request", "missing: a connected person must name the request it is for")
        stage = stage or "approved"
    else:
        if for_request is not None:
            raise r.error("for_request", "only a connected person is for one request; remove it")
        if stage is not None:
            raise r.error("connected_stage", "only a connected person has an assessment stage; remove it")
    age_min = req("age_min", r.integer(0, _MAX_AGE))
    age_max = req("age_max", r.integer(0, _MAX_AGE))
    if age_max < age_min:
        raise r.error("age_max", f"{age_max} is below age_min {age_min}")
    return OptionSpec(
        id=req("id", r.text),
        kind=kind,
        for_request=for_request,
        provider_code=req("provider_code", r.code(vocab.PROVIDER_CODES)),
        provider_approved=r.get("provider_approved", r.boolean, default=True),
        la=req("la", r.la),
        location=req("location", r.point),
        places=req("places", r.integer(0, 1000)),
        available_from=req("available_from", r.day),
        age_min=age_min,
        age_max=age_max,
        sexes=req("sexes", r.codes(vocab.SEXES)),
        needs_met=req("needs_met", r.codes(vocab.NEEDS)),
        risks_managed=req("risks_managed", r.codes(vocab.RISKS)),
        ofsted=r.get("ofsted", r.code(vocab.OFSTED_RATINGS)),
        fee_gbp_week=r.get("fee_gbp_week", r.money),
        languages=r.get("languages", r.codes(None), default=frozenset()),
        religions=r.get("religions", r.codes(None), default=frozenset()),
        has_pets=r.get("has_pets", r.boolean, default=False),
        takes_siblings=r.get("takes_siblings", r.boolean, default=True),
        solo_only=r.get("solo_only", r.boolean, default=False),
        stale=r.get("stale", r.boolean, default=False),
        connected_stage=stage,
        provider_id=r.get("provider_id", r.text),
        setting_id=r.get("setting_id", r.text),
    )


def parse_problem(data: Any) -> Problem:
    """Check a decoded problem file and return typed objects; raises ProblemError on the first mistake."""
    if not isinstance(data, Mapping):
        raise ProblemError("problem", None, 'must be an object {"policy": {...}, "requests": [...], '
                                            '"options": [...]}')
    for key in data:
        if key not in ("policy", "requests", "options"):
            raise ProblemError("problem", key, "unknown field" + _hint(key, ("policy", "requests", "options")))
    try:
        policy = Policy.from_overrides(data.get("policy"), DEFAULT_POLICY)
    except ValueError as err:
        raise ProblemError("problem", "policy", str(err)) from None
    lists = {}
    for key in ("requests", "options"):
        if key not in data:
            raise ProblemError("problem", key, "missing (required; may be an empty list)")
        if not isinstance(data[key], list):
            raise ProblemError("problem", key, "must be a list")
        lists[key] = data[key]
    requests = tuple(_request(item, i) for i, item in enumerate(lists["requests"]))
    options = tuple(_option(item, i) for i, item in enumerate(lists["options"]))
    _unique(requests, "requests")
    _unique(options, "options")
    request_ids = {r.id for r in requests}
    for i, option in enumerate(options):
        if option.for_request is not None and option.for_request not in request_ids:
            raise ProblemError(f"option {option.id!r} (options[{i}])", "for_request",
                               f"no request with id {option.for_request!r} in this problem")
    return Problem(policy, requests, options)


def _unique(records, kind: str) -> None:
    first: dict[str, int] = {}
    for i, record in enumerate(records):
        if record.id in first:
            raise ProblemError(f"{kind[:-1]} {record.id!r} ({kind}[{i}])", "id",
                               f"duplicate id (also {kind}[{first[record.id]}])")
        first[record.id] = i


# ------------------------------------------------------------------------------------------ writing one

def _point(point: GridPoint | None) -> dict | None:
    return None if point is None else {"easting": point.easting, "northing": point.northing}


def request_record(spec: RequestSpec) -> dict:
    """A request as a problem file holds it (docs/matching.md; fields with no value left out): what
    `parse_problem` reads back to the same RequestSpec. No name, no date of birth: the core has neither."""
    return _without_none({
        "id": spec.id, "la": spec.la, "home": _point(spec.home), "school": _point(spec.school),
        "keep_school": spec.keep_school, "age_years": spec.age_years, "sex": spec.sex,
        "needed_by": spec.needed_by.isoformat(), "urgency": spec.urgency, "suitability": dict(spec.suitability),
        "needs": sorted(spec.needs), "risks": sorted(spec.risks), "sibling_group": spec.sibling_group,
        "budget_gbp_week": spec.budget_gbp_week, "language": spec.language, "religion": spec.religion,
        "cultural_needs": spec.cultural_needs, "pets": spec.pets, "living_companions": spec.living_companions,
        "avoid_las": sorted(spec.avoid_las), "family": _point(spec.family), "arrival_order": spec.arrival_order,
    })


def option_record(spec: OptionSpec) -> dict:
    """An option as a problem file holds it: what `parse_problem` reads back to the same OptionSpec."""
    return _without_none({
        "id": spec.id, "kind": spec.kind, "for_request": spec.for_request, "provider_code": spec.provider_code,
        "provider_approved": spec.provider_approved, "la": spec.la, "location": _point(spec.location),
        "places": spec.places, "available_from": spec.available_from.isoformat(), "age_min": spec.age_min,
        "age_max": spec.age_max, "sexes": sorted(spec.sexes), "needs_met": sorted(spec.needs_met),
        "risks_managed": sorted(spec.risks_managed), "ofsted": spec.ofsted, "fee_gbp_week": spec.fee_gbp_week,
        "languages": sorted(spec.languages), "religions": sorted(spec.religions), "has_pets": spec.has_pets,
        "takes_siblings": spec.takes_siblings, "solo_only": spec.solo_only, "stale": spec.stale,
        "connected_stage": spec.connected_stage, "provider_id": spec.provider_id, "setting_id": spec.setting_id,
    })


def _without_none(record: dict) -> dict:
    return {key: value for key, value in record.items() if value is not None}


# ------------------------------------------------------------------------------------------ the contract

def _siblings(requests: tuple[RequestSpec, ...]) -> dict[str, list[RequestSpec]]:
    groups: dict[str, list[RequestSpec]] = {}
    for r in requests:
        if r.sibling_group is not None:
            groups.setdefault(r.sibling_group, []).append(r)
    return groups


def rank_problem(problem: Mapping[str, Any], *, exclusions: str = "counts", limit: int | None = None) -> dict[str, Any]:
    """`python -m portal.matching rank`: every request of the problem ranked against every option.

    Returns `{"results": [{"request", "matches", ...}, ...]}` in request order; raises ProblemError. What each
    result says of the excluded options follows `exclusions` ("none", "counts": the default, "all": every one with
    its reasons, as `RankResult.to_dict`); `limit` keeps the best `limit` matches of each request.
    """
    from .rank import OptionIndex, exclusion_mode, rank

    mode = exclusion_mode(None, exclusions)
    parsed = parse_problem(problem)
    index = OptionIndex.build(parsed.options, parsed.policy)
    groups = _siblings(parsed.requests)
    return {"results": [
        rank(r, index, siblings=groups.get(r.sibling_group, ()) if r.sibling_group else (), exclusions=mode,
             limit=limit).to_dict()
        for r in parsed.requests
    ]}


def allocate_problem(problem: Mapping[str, Any], *, time_limit_s: float | None = None) -> dict[str, Any]:
    """`python -m portal.matching allocate`: the region-wide allocation of the problem's requests.

    Returns `{"assignments", "unplaced", "objective", "bound", "gap", "status", "placed", "bound_placed",
    "stopped_by"}`; raises ProblemError. `time_limit_s` is the wall-clock safety net (default
    `solver.SAFETY_TIME_LIMIT_S`); the answer is decided by deterministic work limits.
    """
    from .rank import OptionIndex
    from .solver import SAFETY_TIME_LIMIT_S, allocate

    if time_limit_s is None:
        time_limit_s = SAFETY_TIME_LIMIT_S

    parsed = parse_problem(problem)
    index = OptionIndex.build(parsed.options, parsed.policy)
    return allocate(parsed.requests, index, time_limit_s=time_limit_s).to_dict()
