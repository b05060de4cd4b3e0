"""`flask market whatif-run SCENARIO_ID --run open|replay`: run a saved what-if scenario outside a web request.

At the scale of the whole region one run is two allocations (twenty-four for the replay), which can take longer
than a web request may (REQUEST_DEADLINE_SECONDS, the worker timeout): the hub runs it here, and the scenario's page
shows the figures it saved, with when they were computed (docs/market.md, "What-if sufficiency").
"""

import click
from flask.cli import with_appcontext

from portal.market import scenarios
from portal.unit_of_work import unit_of_work


@click.group("market")
def market() -> None:
    """Commissioners' market intelligence."""


@market.command("whatif-run")
@click.argument("scenario_id")
@click.option("--run", "run_on", type=click.Choice(list(scenarios.RUNS)), default="open", show_default=True,
              help="Today's open requests, or a replay of the last 12 months.")
@with_appcontext
def whatif_run(scenario_id: str, run_on: str) -> None:
    """Run a saved what-if scenario and keep its figures (shown, suppressed, on its page)."""
    scenario = scenarios.find_scenarios([scenario_id])
    if not scenario:
        raise click.ClickException(f"no scenario {scenario_id!r}")
    result = scenarios.compute(scenario[0].items, run_on)  # solved before the write: no lock held meanwhile
    with unit_of_work():
        scenarios.save_result(scenarios.get_scenario(scenario_id), run_on, result)
    click.echo(f"{scenario[0].name}: {scenarios.RUNS[run_on]} computed in {result['seconds']:.1f} s "
               f"against options version {result['options_version']}.")
