"""The one unit of work: every view and CLI command that writes does it inside `unit_of_work()`.

    with unit_of_work(form) as work:
        services.accept_offer(current_user, placement_request, offer)
    if work.ok:
        return redirect(...)
    return render_template(..., error=work.message), work.status

On success it commits once. On a service error it rolls back, puts the message on the form field it names (or
returns it as `work.message` for the page) and `work.status` is the error's status. A unique violation on one of
the schema's own constraints (someone else got there first) is a `Conflict` (409) in the same way. A PostgreSQL
deadlock or serialization failure rolls back and raises `RetryTransaction`: the app runs the whole view again, a
bounded number of times with jitter (`retry_transient`), so the retry reads fresh data. On SQLite the unit of work
takes the write lock at BEGIN; a lock wait past the busy timeout is `DatabaseBusy` (503 with Retry-After).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from portal import idempotency
from portal.db import DatabaseBusy, RetryTransaction, db, is_busy, is_retryable
from portal.errors import Conflict, ServiceError
from portal.models import metadata

T = TypeVar("T")
ATTEMPTS = 3

# Messages for the unique constraints a race can hit; any other unique constraint of the schema gets the generic one.
CONFLICT_MESSAGES = {
    "uq_placement_request": "This request already has a placement. Nothing has been saved",
    "uq_placement_offer_request": "This offer has already been accepted. Nothing has been saved",
    "uq_offer_one_accepted_per_request": "Another offer has already been accepted for this child. Nothing has been saved",
    "uq_offer_live_per_referral_vacancy": "You have already offered this vacancy for this child. Nothing has been saved",
    "uq_referral_request_provider": "The referral has already been sent to this provider. Nothing has been saved",
    "uq_re_entry_link_request_placement": "Someone has already answered for this earlier placement. Nothing has "
                                          "been saved: reload the page to see the answer",
}
GENERIC_CONFLICT = "Someone else changed this record while you were working. Nothing has been saved: reload and try again"


@dataclass
class Work:
    """What happened in a unit of work: `ok`, or the service error, its status and its page-level message."""

    error: ServiceError | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        return self.error.status if self.error is not None else 200


@cache
def _unique_constraints() -> dict[str, str]:
    """Every unique constraint and index of the schema, by name and by the columns SQLite names in its message."""
    known: dict[str, str] = {}
    for table in metadata.tables.values():
        groups = [(c.name, [col.name for col in c.columns]) for c in table.constraints
                  if c.__class__.__name__ == "UniqueConstraint"]
        groups += [(i.name, [col.name for col in i.columns]) for i in table.indexes if i.unique]
        groups += [(f"uq_{table.name}_{col.name}", [col.name]) for col in table.columns if col.unique]
        for name, columns in groups:
            if name:
                known[name] = name
                known[", ".join(f"{table.name}.{col}" for col in columns)] = name
    return known


def conflict_for(error: IntegrityError) -> Conflict | None:
    """The Conflict a unique violation on one of our constraints means, or None for any other integrity error."""
    orig = error.orig
    name = getattr(getattr(orig, "diag", None), "constraint_name", None)  # PostgreSQL names it
    text = str(orig)
    if name is None and "UNIQUE constraint failed: " in text:  # SQLite names the columns
        name = text.split("UNIQUE constraint failed: ", 1)[1].strip()
    elif name is None or getattr(orig, "sqlstate", None) not in (None, "23505"):
        return None
    constraint = _unique_constraints().get(name)
    if constraint is None:
        return None
    return Conflict(CONFLICT_MESSAGES.get(constraint, GENERIC_CONFLICT), code=f"conflict:{constraint}")


def attach(form: Any, error: ServiceError) -> str | None:
    """Show a service error at its form field; return it as a page-level message when it has none."""
    if form is not None and error.field and hasattr(form, error.field):
        getattr(form, error.field).errors = [str(error)]
        return None
    return str(error)


@contextmanager
def unit_of_work(form: Any = None) -> Iterator[Work]:
    """Run the block as one transaction: commit once on success; on a service error roll back and report it."""
    work = Work()
    db.begin_write()
    try:
        idempotency.claim()
    except BaseException:
        db.session.rollback()
        db.end_write()
        raise
    committed = False
    try:
        yield work
        db.session.commit()
        committed = True
    except ServiceError as error:
        db.session.rollback()
        work.error, work.message = error, attach(form, error)
    except IntegrityError as error:
        db.session.rollback()
        conflict = conflict_for(error)
        if conflict is None:
            raise
        work.error, work.message = conflict, attach(form, conflict)
    except DBAPIError as error:
        db.session.rollback()
        if is_retryable(error):
            raise RetryTransaction() from error
        if is_busy(error):
            raise DatabaseBusy() from error
        raise
    except BaseException:
        db.session.rollback()
        raise
    finally:
        if not committed:
            idempotency.release()
        db.end_write()


def retry_transient(run: Callable[[], T], *, attempts: int = ATTEMPTS) -> T:
    """Run `run` again when its transaction lost a deadlock or a serialization check (PostgreSQL), at most
    `attempts` times in all, with a short random pause; the last loss is a Conflict (409), never a 500.

    A page read (GET or HEAD) whose database connection was lost under it (PostgreSQL restarted or failed over)
    is run again on a fresh connection after a pause, at most `len(READ_AGAIN_PAUSES_S)` times: a short restart
    then costs the reader a second, not an error page. A form post is never run again here (its outcome is for
    the person to see: 503, and their one-time form key makes sending it again safe)."""
    losses = reads_again = 0
    while True:
        try:
            return run()
        except (RetryTransaction, DBAPIError) as error:
            if isinstance(error, DBAPIError) and not is_retryable(error):
                if _may_read_again(error) and reads_again < len(READ_AGAIN_PAUSES_S):
                    db.rollback_quietly()
                    time.sleep(READ_AGAIN_PAUSES_S[reads_again])
                    reads_again += 1
                    continue
                if is_busy(error):
                    db.rollback_quietly()
                    raise DatabaseBusy() from error
                raise
            db.session.rollback()
            db.end_write()
            losses += 1
            if losses == attempts:
                raise Conflict(GENERIC_CONFLICT, code="conflict:retries") from error
            time.sleep(random.uniform(0.01, 0.05) * losses)


# Pauses before a page read whose connection was lost is run again (about a second in all: a fast PostgreSQL
# restart takes well under that; longer, and the reader gets the 503 with Retry-After).
READ_AGAIN_PAUSES_S = (0.3, 0.7)


def _may_read_again(error: DBAPIError) -> bool:
    """A lost connection (not a lock wait: SQLite's has already waited its busy timeout), under a page read."""
    return error.connection_invalidated and has_request_context() and request.method in ("GET", "HEAD")


def guard_writes(session_factory) -> None:
    """In tests, refuse a write made by a request outside a unit of work (so no view can forget one)."""

    def _outside() -> bool:
        return has_request_context() and not db.writing and current_app.config.get("STRICT_UNIT_OF_WORK")

    @event.listens_for(session_factory, "before_flush")
    def _before_flush(session: Session, _context, _instances):
        if (session.new or session.dirty or session.deleted) and _outside():
            raise RuntimeError("a request wrote outside unit_of_work()")

    @event.listens_for(session_factory, "do_orm_execute")
    def _before_execute(state):
        if (state.is_insert or state.is_update or state.is_delete) and _outside():
            raise RuntimeError("a request wrote outside unit_of_work()")
