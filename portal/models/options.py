"""The options version: one counter row that tells every process its matching index is out of date, and the
record of what each version changed, so a process brings its index up to date by the changed rows alone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class OptionsVersion(Base):
    """A counter bumped whenever anything that matching reads changes (vacancies, settings, approvals).

    Every web process keeps its matching index in memory and rebuilds it when this number moves, so many
    stateless processes stay consistent without sharing memory (DESIGN.md §3).
    """

    __tablename__ = "options_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


OPTIONS_CHANGE_SCOPES = ("vacancy", "setting", "provider", "all")


class OptionsChange(Base):
    """What one options version changed: a vacancy, a setting (all its vacancies), a provider (all its settings'
    vacancies), or "all" (record_id empty: every process rebuilds its index from the database).

    Written in the transaction that bumps the version, so a process that reads version N finds every change up to
    N. Rows older than a day or two are pruned (`flask retention prune`): a process whose index is older than that
    rebuilds it anyway (the index is rebuilt every day).
    """

    __tablename__ = "options_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(index=True)
    scope: Mapped[str] = mapped_column(String(10))
    record_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
