"""Run the region-wide allocation, validate it independently, and save it. Adds and flushes; never commits."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select

from portal import matching
from portal.allocation.models import AllocationRun
from portal.auth.models import User
from portal.auth.permissions import audit
from portal.db import db
from portal.requests.matching import connected_person_options, option_index_cache, request_spec
from portal.requests.models import PlacementRequest


class AllocationInvalid(Exception):
    """The solver's answer failed the independent validator: it is never saved."""


def run_allocation(user: User | None, *, time_limit_s: float = 10.0) -> AllocationRun:
    """Allocate every open request in the region to the open options, check the answer, and save it."""
    _index, option_specs, _infos = option_index_cache.get()
    open_requests = list(
        db.session.scalars(
            select(PlacementRequest)
            .where(PlacementRequest.status.in_(("searching", "offers")))
            .order_by(PlacementRequest.submitted_at, PlacementRequest.id)
        )
    )
    specs = []
    options = list(option_specs)
    for arrival, req in enumerate(open_requests):
        spec = request_spec(req)
        specs.append(_with_arrival(spec, arrival))
        options.extend(option for option, _info in connected_person_options(req))
    started = time.perf_counter()
    allocation = matching.allocate(specs, options, time_limit_s=time_limit_s)
    seconds = time.perf_counter() - started
    problems = matching.validate_allocation(specs, options, allocation)
    if problems:
        raise AllocationInvalid("; ".join(problems[:5]))
    run = AllocationRun(
        created_by_id=user.id if user is not None else None,
        options_version=option_index_cache.version_seen(),
        requests_count=len(specs),
        options_count=len(options),
        placed_count=len(allocation.assignments),
        unplaced_count=len(allocation.unplaced),
        objective=allocation.objective,
        bound=allocation.bound,
        gap=float(allocation.gap),
        status=allocation.status,
        seconds=round(seconds, 3),
        placed_by_urgency=dict(allocation.placed),
        result=allocation.to_dict(),
    )
    db.session.add(run)
    db.session.flush()
    audit(user, "run_allocation", "allocation_run", run.id, detail=f"requests:{len(specs)} placed:{run.placed_count}")
    return run


def _with_arrival(spec: matching.RequestSpec, arrival: int) -> matching.RequestSpec:
    from dataclasses import replace

    return replace(spec, arrival_order=arrival)


def unplaced_reasons(run: AllocationRun) -> list[tuple[str, int]]:
    """How many children were left unplaced for each reason (the sufficiency gap), most common first."""
    counts = Counter(item["reason"] for item in run.result.get("unplaced", []))
    return counts.most_common()
