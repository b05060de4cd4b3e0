"""The version counters that keep processes in step without sharing memory (DESIGN.md §3).

* The options version: every change to what matching reads (vacancies, settings, approvals) bumps it, explicitly,
  in the service that makes it, naming what it changed (`options_change`). Each process keeps its matching index
  in memory and, when the version moves, reloads only the changed rows into it (portal/options/index.py).
* The data version: moves with every committed transaction that changed the region's data, whatever changed it.
  Nobody calls it: `track_data_changes` watches each session's flushes and bulk statements and bumps the counter
  once, at commit, in the same transaction (so a reader never sees the new number without the new data). The
  market pages are kept per process under it (portal/market/cache.py).

Accounts, sessions, sign-in attempts, one-time form keys, recovery codes, the audit trail, match runs, the email
outbox and commissioners' saved what-if scenarios are not the region's data (no aggregate reads them), nor is a draft
request, so writing them alone (as most page views and an officer's drafting do) leaves the data version where it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.db import db
from portal.models import DataVersion, OptionsChange, OptionsVersion

# Tables whose changes no region-wide figure reads.
NOT_DATA = frozenset({"audit_event", "user_account", "user_session", "sign_in_attempt", "recovery_code",
                      "form_submission", "match_run", "options_version", "data_version", "alembic_version",
                      "notification", "notification_preference", "options_change", "in_app_notification",
                      "known_device", "whatif_scenario"})
_CHANGED = "portal_data_changed"


def get_options_version() -> int:
    """The number that moves whenever matching inputs change."""
    return db.session.scalar(select(OptionsVersion.version).where(OptionsVersion.id == 1)) or 0


def bump_options_version(*, vacancies: Iterable[str] = (), settings: Iterable[str] = (),
                         providers: Iterable[str] = ()) -> None:
    """Tell every process that vacancies, settings or approvals changed. Part of the caller's transaction.

    Name what changed: the vacancies, the settings (each with all its vacancies) and the providers (each with all
    its settings' vacancies); every process then reloads just those into its index. Naming nothing means anything
    may have changed (the demo loader): every process rebuilds its index from the database."""
    changes = [("vacancy", i) for i in vacancies] + [("setting", i) for i in settings] + \
        [("provider", i) for i in providers]
    version = db.session.execute(
        update(OptionsVersion).where(OptionsVersion.id == 1).values(version=OptionsVersion.version + 1)
        .returning(OptionsVersion.version)
    ).scalar_one()
    db.session.add_all(OptionsChange(version=version, scope=scope, record_id=record_id)
                       for scope, record_id in (changes or [("all", None)]))


def options_changes(after: int, upto: int) -> list[tuple[str, str | None]]:
    """What the options versions after `after`, up to `upto`, changed: (scope, record id) pairs. An "all" pair,
    or a version with no record (pruned, or older than the record), means rebuild everything."""
    rows = db.session.execute(
        select(OptionsChange.version, OptionsChange.scope, OptionsChange.record_id)
        .where(OptionsChange.version > after, OptionsChange.version <= upto)
    ).all()
    if {version for version, _scope, _id in rows} != set(range(after + 1, upto + 1)):
        return [("all", None)]
    return [(scope, record_id) for _version, scope, record_id in rows]


def get_data_version() -> int:
    """The number that moves with every committed change to the region's data."""
    return db.session.scalar(select(DataVersion.version).where(DataVersion.id == 1)) or 0


def _is_data(table_name: str | None) -> bool:
    return table_name is None or table_name not in NOT_DATA


def _changes_data(obj) -> bool:
    table = getattr(obj, "__tablename__", None)
    if not _is_data(table):
        return False
    if table == "placement_request" and obj.status == "draft" and not inspect(obj).attrs.status.history.has_changes():
        # A draft is the officer's work in progress: no aggregate counts it (the market pages count submitted
        # requests only), so writing one leaves the data version alone; submitting or withdrawing it moves it.
        return False
    return True


def _flushed(session: Session, _context) -> None:
    # Still the flush's own lists here: what was new, changed (with a real change) or deleted.
    changed = [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]
    if any(_changes_data(o) for o in changed):
        session.info[_CHANGED] = True


def _executed(state) -> None:
    # Bulk INSERT / UPDATE / DELETE statements (a booking's conditional update, the demo loader's inserts).
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if _is_data(getattr(table, "name", None)):
            state.session.info[_CHANGED] = True


def _before_commit(session: Session) -> None:
    session.flush()  # what the commit would flush, so it is seen above
    if session.info.pop(_CHANGED, False):
        session.execute(update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1))


def _forget(session: Session, *_args) -> None:
    session.info.pop(_CHANGED, None)


def track_data_changes(sessions: sessionmaker) -> None:
    """Bump the data version at the commit of every transaction of these sessions that changed the region's data.

    On PostgreSQL the counter's row is locked from the bump to the commit, the last statement of the transaction:
    writers queue on it only for their commit, and never while holding it wait for another lock."""
    event.listen(sessions, "after_flush", _flushed)
    event.listen(sessions, "do_orm_execute", _executed)
    event.listen(sessions, "before_commit", _before_commit)
    event.listen(sessions, "after_rollback", _forget)
