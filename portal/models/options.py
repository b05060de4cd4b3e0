"""The options version: one counter row that tells every process its matching index is out of date."""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class OptionsVersion(Base):
    """A counter bumped whenever anything that matching reads changes (vacancies, settings, approvals).

    Every web process keeps its matching index in memory and rebuilds it when this number moves, so many
    stateless processes stay consistent without sharing memory (DESIGN.md §3).
    """

    __tablename__ = "options_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


class DataVersion(Base):
    """A counter that moves with every committed change to the region's data (requests, referrals, offers,
    placements, vacancies, settings, providers...), bumped once per transaction by `portal.options.versions`.

    Pages computed from the whole region's data (the commissioners' market pages and their downloads) are kept
    per process under the number they were computed at, so every process and host serves figures of the same
    data and recomputes them once after a change.
    """

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
