"""Run the region-wide allocation, validate it independently, and save it. Adds and flushes; never commits.

The solve only reads (`compute_allocation`), so it runs outside the unit of work and holds no write lock; saving
the validated answer (`save_allocation`) is the short write.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from portal import matching
from portal.models import AllocationRun, User
from portal.auth.permissions import audit
from portal.db import db
from portal.errors import ServiceError
from portal.options import current_options, open_problem


class AllocationInvalid(ServiceError):
    """The solver's answer failed the independent validator: it is never saved."""

    status = 500


@dataclass(frozen=True)
class ComputedAllocation:
    """A validated allocation of the region's open requests, not yet saved."""

    specs: list
    options: list
    allocation: matching.Allocation
    seconds: float
    options_version: int


def compute_allocation(*, time_limit_s: float = 10.0) -> ComputedAllocation:
    """Allocate every open request in the region to the open options and check the answer (reads only)."""
    version = current_options().version
    specs, options = open_problem()
    started = time.perf_counter()
    allocation = matching.allocate(specs, options, time_limit_s=time_limit_s)
    seconds = time.perf_counter() - started
    problems = matching.validate_allocation(specs, options, allocation)
    if problems:
        raise AllocationInvalid("; ".join(problems[:5]))
    return ComputedAllocation(specs, options, allocation, seconds, version)


def save_allocation(user: User | None, computed: ComputedAllocation) -> AllocationRun:
    """Save a computed allocation as the region's latest recommendation, audited."""
    specs, options, allocation, seconds = computed.specs, computed.options, computed.allocation, computed.seconds
    run = AllocationRun(
        created_by_id=user.id if user is not None else None,
        options_version=computed.options_version,
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


def unplaced_reasons(run: AllocationRun) -> list[tuple[str, int]]:
    """How many children were left unplaced for each reason (the sufficiency gap), most common first."""
    counts = Counter(item["reason"] for item in run.result.get("unplaced", []))
    return counts.most_common()
