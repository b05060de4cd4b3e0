import click
from flask.cli import with_appcontext

from portal.allocation import services
from portal.unit_of_work import unit_of_work


@click.group("allocation")
def allocation() -> None:
    """The region-wide recommended allocation."""


@allocation.command("run")
@click.option("--time-limit", default=10.0, show_default=True, help="Seconds the solver may use.")
@with_appcontext
def run(time_limit: float) -> None:
    """Allocate every open request to the open options, validate, and save."""
    try:
        computed = services.compute_allocation(time_limit_s=time_limit)
    except services.AllocationInvalid as error:
        raise click.ClickException(f"the allocation failed validation and was not saved: {error}") from None
    with unit_of_work():
        result = services.save_allocation(None, computed)
    click.echo(
        f"{result.placed_count} of {result.requests_count} children placed; objective {result.objective}, "
        f"bound {result.bound}, gap {result.gap:.4%}, {result.status}, {result.seconds:.2f} s"
    )
