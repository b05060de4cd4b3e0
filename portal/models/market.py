"""A commissioner's saved what-if scenario (issue 13 §1): hypothetical provision and its last computed figures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdMixin, utcnow


class WhatIfScenario(IdMixin, Base):
    """A named set of hypothetical provision items, shared by the region's commissioners.

    `items` is a list of provision items as plain values (places, kind, la, postcode, easting, northing, age_min,
    age_max, sexes, needs_met, risks_managed, fee_gbp_week). `results` holds the last figures computed for each run
    ("open": today's open requests, "replay": the last 12 months), each with when it was computed and against
    which options version, so comparing scenarios reads them instead of solving again. The figures are counts by
    local authority and need (no row per child); every page and download suppresses small numbers when it shows
    them (portal/market/scenarios.py).
    """

    __tablename__ = "whatif_scenario"

    name: Mapped[str] = mapped_column(String(120))
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    items: Mapped[list] = mapped_column(default=list)
    results: Mapped[dict] = mapped_column(default=dict)
