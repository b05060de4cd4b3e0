from __future__ import annotations

from sqlalchemy import select

from portal.models import AllocationRun
from portal.db import db


def find_latest_run() -> AllocationRun | None:
    return db.session.scalar(select(AllocationRun).order_by(AllocationRun.created_at.desc()).limit(1))
