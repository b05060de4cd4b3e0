"""The options version counter: every change to what matching reads (vacancies, settings, approvals) bumps it.

Each process keeps its matching index in memory and rebuilds it when this number moves, so any number of
stateless processes and hosts stay consistent without sharing memory (DESIGN.md §3).
"""

from __future__ import annotations

from sqlalchemy import select, update

from portal.db import db
from portal.models import OptionsVersion


def get_options_version() -> int:
    """The number that moves whenever matching inputs change."""
    return db.session.scalar(select(OptionsVersion.version).where(OptionsVersion.id == 1)) or 0


def bump_options_version() -> None:
    """Tell every process that vacancies, settings or approvals changed. Part of the caller's transaction."""
    db.session.execute(update(OptionsVersion).where(OptionsVersion.id == 1).values(version=OptionsVersion.version + 1))
