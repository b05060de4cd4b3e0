"""Rows to the matching core's types: a placement request as the core reads it, its brothers and sisters, and the
child's connected persons as options of their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from sqlalchemy import select

from portal import matching
from portal.db import db
from portal.geo import postcode_sector
from portal.models import PlacementRequest
from portal.options.index import OptionInfo, current_options


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
        # Only brothers and sisters to be placed together are one unit for the core (issue 11 §1).
        sibling_group=req.sibling_group_id if req.sibling_group is not None and req.sibling_group.together else None,
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
    """A connected person is an option only for their own child (s22C(6)(a): family and friends first), or for
    the whole sibling group when the child's brothers and sisters are to be placed together with them: then a
    person put forward for any of them is a candidate for all (within the number of children they can take)."""
    members = placed_together(req)
    needs = frozenset(n for m in members for n in (m.needs or ()))
    risks = frozenset(r for m in members for r in (m.risks or ()))
    out = []
    for member in members:
        for person in member.connected_persons:
            out.append(_connected_person_option(member, person, needs, risks))
    return out


def _connected_person_option(req: PlacementRequest, person, needs: frozenset[str],
                             risks: frozenset[str]) -> tuple[matching.OptionSpec, OptionInfo]:
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
        # The assessment is of this family for these children: the person is taken to meet their needs.
        needs_met=needs,
        risks_managed=risks,
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
    return spec, info


OPEN_STATUSES = ("searching", "offers")


def _eldest_first(req: PlacementRequest) -> tuple:
    return (req.date_of_birth, req.id)


def _with_siblings(req: PlacementRequest, keep: Callable[[PlacementRequest], bool]) -> list[PlacementRequest]:
    """The child first, then the brothers and sisters to be placed with them that `keep` admits, eldest first; the
    child alone when they have none, or when their group may be placed apart (then each is matched on their own)."""
    group = req.sibling_group
    if group is None or not group.together:
        return [req]
    return [req, *sorted((other for other in group.requests if other.id != req.id and keep(other)),
                         key=_eldest_first)]


def placed_together(req: PlacementRequest) -> list[PlacementRequest]:
    """The child and the brothers and sisters to be placed with them in one setting: the child first, then the
    group's other submitted, not yet placed requests (a child alone, or a group that may be placed apart: [req])."""
    return _with_siblings(req, lambda other: other.status in OPEN_STATUSES and other.needed_by is not None)


def referral_children(req: PlacementRequest) -> list[PlacementRequest]:
    """The children a referral on `req` is for, as its provider reads it before and after the placement: the
    child, and their brothers and sisters to be placed together (submitted, not withdrawn), eldest first."""
    return sorted(_with_siblings(req, lambda other: other.status in (*OPEN_STATUSES, "placed")), key=_eldest_first)


def group_request_ids(req: PlacementRequest) -> list[str]:
    """The requests whose referrals and offers this child's page shows: the whole group when it is placed
    together (whatever each request's status: a referral or offer for the group is on one sibling's request)."""
    return [member.id for member in _with_siblings(req, lambda other: other.status != "draft")]


def sibling_specs(req: PlacementRequest) -> list[matching.RequestSpec]:
    """The brothers and sisters to be placed with this child in one setting (open requests of the same group)."""
    return [request_spec(other) for other in placed_together(req)[1:]]


def open_problem() -> tuple[list[matching.RequestSpec], list[matching.OptionSpec]]:
    """The region's open requests (searching or with offers, in order of submission) and the options open to
    them: every open option, and each child's own connected persons (reads only)."""
    snapshot = current_options()
    open_requests = list(
        db.session.scalars(
            select(PlacementRequest)
            .where(PlacementRequest.status.in_(("searching", "offers")))
            .order_by(PlacementRequest.submitted_at, PlacementRequest.id)
        )
    )
    specs = []
    options = list(snapshot.specs)
    seen: set[str] = set()
    for arrival, req in enumerate(open_requests):
        spec = request_spec(req)
        specs.append(replace(spec, arrival_order=arrival))
        # A sibling group's connected persons come with each of its children: each is one option.
        for option, _info in connected_person_options(req):
            if option.id not in seen:
                seen.add(option.id)
                options.append(option)
    return specs, options
