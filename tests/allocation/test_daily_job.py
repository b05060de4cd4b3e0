"""The daily allocation runs once across hosts (issue 16): a PostgreSQL advisory lock lets one run at a time, and
`--once-per-day` makes a run after today's a no-op, so the jobs service may be started on every host."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from portal.allocation import services
from portal.allocation.cli import DAILY_JOB_LOCK, run_daily_allocation
from portal.db import advisory_lock, advisory_lock_key, db, utcnow
from portal.models import AllocationRun
from tests.conftest import postgres_only
from tests.factories import create_provider, create_request, create_setting, create_user, create_vacancy

def region():
    officer = create_user("officer")
    create_vacancy(create_setting(create_provider()))
    create_request(officer)


def runs(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(AllocationRun))


@postgres_only
def test_two_concurrent_runs_do_one_allocation(app, db_session, monkeypatch):
    """Host A is solving when host B's scheduler starts the job: B does nothing and says so; one run is saved."""
    region()
    a_is_solving, b_is_done = threading.Event(), threading.Event()
    real_compute = services.compute_allocation

    def slow_compute(**kwargs):
        if not a_is_solving.is_set():  # A's solve lasts until B has finished; anyone else's is quick
            a_is_solving.set()
            assert b_is_done.wait(30), "B never finished"
        return real_compute(**kwargs)

    monkeypatch.setattr(services, "compute_allocation", slow_compute)
    said: dict[str, str] = {}

    def host(name: str) -> None:
        with app.app_context():
            said[name] = run_daily_allocation(time_limit_s=5)
            db.session.close()

    a = threading.Thread(target=host, args=("A",))
    a.start()
    assert a_is_solving.wait(30)
    host("B")  # starts while A holds the lock
    b_is_done.set()
    a.join(60)
    assert "children placed" in said["A"]
    assert "in progress" in said["B"] and "nothing done" in said["B"]
    assert runs(db_session) == 1
    # The lock went with A's run: the next run takes it.
    monkeypatch.setattr(services, "compute_allocation", real_compute)
    with app.app_context():
        assert "children placed" in run_daily_allocation(time_limit_s=5)
    assert runs(db_session) == 2


@postgres_only
def test_the_lock_is_one_across_connections_and_released_on_error(app, database_url):
    """Another host's connection cannot take the lock while it is held; an error in the job releases it."""
    other = create_engine(database_url)
    key = advisory_lock_key(DAILY_JOB_LOCK)

    def other_host_can_take_it() -> bool:
        with other.connect() as conn:
            got = conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            return bool(got)

    with app.app_context():
        with advisory_lock(DAILY_JOB_LOCK) as held:
            assert held and not other_host_can_take_it()
            with advisory_lock(DAILY_JOB_LOCK) as second:  # a second run in the same process: refused too
                assert second is False
        assert other_host_can_take_it()
        with pytest.raises(RuntimeError):
            with advisory_lock(DAILY_JOB_LOCK) as held:
                raise RuntimeError("the job failed")
        assert other_host_can_take_it()
        with other.connect() as conn:  # held elsewhere: this process is told at once, and does not wait
            conn.scalar(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            with advisory_lock(DAILY_JOB_LOCK) as held:
                assert held is False
    other.dispose()


def test_once_per_day_runs_once_and_a_hub_run_does_not_count(app, runner, db_session):
    region()
    # The regional hub ran one from its page this morning: the daily job still runs.
    hub = create_user("admin", la_code=None)
    db_session.add(AllocationRun(created_by_id=hub.id, options_version=0, requests_count=0, options_count=0,
                                 placed_count=0, unplaced_count=0, objective=0, bound=0, gap=0.0, status="optimal",
                                 seconds=0.0))
    # Yesterday's daily run does not count for today.
    db_session.add(AllocationRun(created_at=utcnow() - timedelta(days=1), options_version=0, requests_count=0,
                                 options_count=0, placed_count=0, unplaced_count=0, objective=0, bound=0, gap=0.0,
                                 status="optimal", seconds=0.0))
    db_session.commit()
    first = runner.invoke(args=["allocation", "run", "--once-per-day", "--time-limit", "5"])
    assert first.exit_code == 0 and "1 of 1 children placed" in first.output, first.output
    again = runner.invoke(args=["allocation", "run", "--once-per-day", "--time-limit", "5"])
    assert again.exit_code == 0 and "Today's allocation was saved at" in again.output, again.output
    assert runs(db_session) == 3
    # Without the flag (the hub's own command line) it runs again.
    assert "children placed" in runner.invoke(args=["allocation", "run", "--time-limit", "5"]).output
    assert runs(db_session) == 4


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_the_lock_is_not_taken(app):
    with app.app_context():
        with advisory_lock(DAILY_JOB_LOCK) as held, advisory_lock(DAILY_JOB_LOCK) as again:
            assert held and again  # one host: nothing to lock against
