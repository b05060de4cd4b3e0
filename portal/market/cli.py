"""`flask market whatif-run SCENARIO_ID --run open|replay` and `flask market whatif-run --queued`: what-if
scenarios run outside a web request.

The replay of the last 12 months is two allocations per month: at the region's scale minutes, longer than a web
request may take (REQUEST_DEADLINE_SECONDS, the worker timeout). The scenario's page queues it; the jobs service
runs the queued runs (deploy/jobs.sh), and the page then shows the figures, with when they were computed
(docs/market.md, "What-if sufficiency"). The hub can run any scenario at once here too.
"""

import click
from flask.cli import with_appcontext

from portal.market import scenarios
from portal.unit_of_work import unit_of_work


@click.group("market")
def market() -> None:
    """Commissioners' market intelligence."""


@market.command("whatif-run")
@click.argument("scenario_id", required=False)
@click.option("--run", "run_on", type=click.Choice(list(scenarios.RUNS)), default="open", show_default=True,
              help="Today's open requests, or a replay of the last 12 months.")
@click.option("--queued", is_flag=True, help="Run every run commissioners asked for on the pages (the jobs service).")
@with_appcontext
def whatif_run(scenario_id: str | None, run_on: str, queued: bool) -> None:
    """Run a saved what-if scenario (or every queued run) and keep its figures (shown, suppressed, on its page)."""
    if queued == bool(scenario_id):
        raise click.UsageError("Name one scenario, or give --queued.")
    for sid, run in scenarios.list_queued() if queued else [(scenario_id, run_on)]:
        found = scenarios.find_scenarios([sid])
        if not found:
            raise click.ClickException(f"no scenario {sid!r}")
        result = scenarios.compute(found[0].items, run)  # solved before the write: no lock held meanwhile
        with unit_of_work():
            scenarios.save_result(scenarios.get_scenario(sid), run, result)
        click.echo(f"{found[0].name}: {scenarios.RUNS[run]} computed in {result['seconds']:.1f} s "
                   f"against options version {result['options_version']}.")
