from __future__ import annotations

from sqlalchemy import select

from portal.allocation.models import AllocationRun
from portal.db import db


def find_latest_run() -> AllocationRun | None:
    return db.session.scalar(select(AllocationRun).order_by(AllocationRun.created_at.desc()).limit(1))


def recommended_option_for(request_id: str) -> str | None:
    """The option the latest region-wide allocation recommends for one request, if any."""
    run = find_latest_run()
    if run is None:
        return None
    for assignment in run.result.get("assignments", []):
        if assignment["request"] == request_id:
            return assignment["option"]
    return None
