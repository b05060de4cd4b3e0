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
