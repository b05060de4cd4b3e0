from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.models import AllocationRun
from portal.db import db


def find_latest_run() -> AllocationRun | None:
    return db.session.scalar(select(AllocationRun).order_by(AllocationRun.created_at.desc()).limit(1))


def find_scheduled_run_since(since: datetime) -> AllocationRun | None:
    """The latest run the daily job saved (no person started it) at or after `since`."""
    return db.session.scalar(
        select(AllocationRun)
        .where(AllocationRun.created_by_id.is_(None), AllocationRun.created_at >= since)
        .order_by(AllocationRun.created_at.desc())
        .limit(1)
    )
