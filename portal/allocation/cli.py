"""`flask allocation run`: the region-wide allocation, run daily by the jobs service (docs/operations.md).

With two or more app hosts the job may be started on several of them, or twice on one (a restart, a second
scheduler): it runs once. A PostgreSQL advisory lock (portal.db.advisory_lock) lets one run at a time, across
hosts; a second run started meanwhile does nothing and says so. With `--once-per-day` a run that finds the daily
job's allocation already saved today (UTC) does nothing either, so a run started after the first has finished
does not allocate twice. On SQLite (one host) the lock is not needed and is not taken.
"""

from datetime import datetime, time, timezone

import click
from flask.cli import with_appcontext

from portal.allocation import queries, services
from portal.db import advisory_lock, utcnow
from portal.unit_of_work import unit_of_work

DAILY_JOB_LOCK = "portal:allocation:daily"


@click.group("allocation")
def allocation() -> None:
    """The region-wide recommended allocation."""


def run_daily_allocation(*, time_limit_s: float = 10.0, once_per_day: bool = False) -> str:
    """Allocate every open request to the open options, validate and save, unless another run holds the job's
    lock (or, with `once_per_day`, the daily job already saved today's). Returns what was done, for the log."""
    with advisory_lock(DAILY_JOB_LOCK) as held:
        if not held:
            return "Another allocation run is in progress (on this host or another): nothing done."
        if once_per_day:
            midnight = datetime.combine(utcnow().date(), time.min, tzinfo=timezone.utc)
            earlier = queries.find_scheduled_run_since(midnight)
            if earlier is not None:
                return f"Today's allocation was saved at {earlier.created_at:%H:%M} UTC: nothing done."
        try:
            computed = services.compute_allocation(time_limit_s=time_limit_s)
        except services.AllocationInvalid as error:
            raise click.ClickException(f"the allocation failed validation and was not saved: {error}") from None
        with unit_of_work():
            result = services.save_allocation(None, computed)
    return (f"{result.placed_count} of {result.requests_count} children placed; objective {result.objective}, "
            f"bound {result.bound}, gap {result.gap:.4%}, {result.status}, {result.seconds:.2f} s")


@allocation.command("run")
@click.option("--time-limit", default=10.0, show_default=True, help="Seconds the solver may use.")
@click.option("--once-per-day", is_flag=True,
              help="Do nothing if the daily job already saved today's allocation (UTC): for the scheduler.")
@with_appcontext
def run(time_limit: float, once_per_day: bool) -> None:
    """Allocate every open request to the open options, validate, and save (once across hosts)."""
    click.echo(run_daily_allocation(time_limit_s=time_limit, once_per_day=once_per_day))
