"""A saved region-wide allocation: the solver's recommendation, re-checked by the independent validator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdMixin, utcnow


class AllocationRun(IdMixin, Base):
    """One run of `portal.matching.allocate` over the region's open requests and options.

    `result` holds the assignments (request id -> option id) and the unplaced requests with reasons; it is saved
    only after `validate_allocation` found no problem. Commissioners see only its aggregates.
    """

    __tablename__ = "allocation_run"

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    options_version: Mapped[int]
    requests_count: Mapped[int]
    options_count: Mapped[int]
    placed_count: Mapped[int]
    unplaced_count: Mapped[int]
    objective: Mapped[int]
    bound: Mapped[int]
    gap: Mapped[float]
    status: Mapped[str] = mapped_column(String(20))
    seconds: Mapped[float]
    placed_by_urgency: Mapped[dict] = mapped_column(default=dict)
    result: Mapped[dict] = mapped_column(default=dict)
