"""`flask demo load` and `flask demo sign-ins`: the demo West Midlands region for newcomers, tests and benchmarks.

The command starts the unit of work (`portal.unit_of_work`), so it commits, once (STYLE.md habit 2);
portal.demo.services adds rows and flushes.
"""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from portal.models import PROVIDER_ROLES, ROLES, User
from portal.db import db
from portal.demo import people
from portal.demo.services import SCALES, delete_demo_data, existing_data, load_demo
from portal.allocation.services import compute_allocation, save_allocation
from portal.options import bump_options_version
from portal.unit_of_work import unit_of_work

# Exit status when the database already holds data and no flag says what to do (as click's usage errors).
EXIT_NOT_EMPTY = 2


@click.group("demo")
def demo() -> None:
    """The demo West Midlands region."""


@demo.command("load")
@click.option("--seed", type=int, default=2026, show_default=True, help="Same seed and scale, same data.")
@click.option("--scale", type=click.Choice(list(SCALES)), default="region", show_default=True,
              help="small for tests, region for the real region's size, large for benchmarks.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already holds providers or people.")
@click.option("--replace", is_flag=True, help="Delete everything but the reference data first.")
@with_appcontext
def load(seed: int, scale: str, if_empty: bool, replace: bool) -> None:
    """Load a realistic, deterministic West Midlands region into the database."""
    if if_empty and replace:
        raise click.UsageError("Use --if-empty or --replace, not both.")
    session = db.session
    existing = existing_data(session)
    if existing and if_empty:
        click.echo(f"The database already holds data ({_describe(existing)}): demo region not loaded.")
        return
    if existing and not replace:
        click.echo(
            f"The database already holds data ({_describe(existing)}). Nothing was changed.\n"
            "Run with --replace to delete it and load the demo region, or --if-empty to skip loading.",
            err=True,
        )
        raise SystemExit(EXIT_NOT_EMPTY)
    started = time.perf_counter()
    with unit_of_work():
        if replace:
            delete_demo_data(session)
        summary = load_demo(session, seed=seed, scale=scale)
        bump_options_version()  # running portals rebuild their matching index
    seconds = time.perf_counter() - started
    counts = ", ".join(f"{n:,} {name}" for name, n in summary.counts.items())
    click.echo(f"Loaded the demo region (scale {scale}, seed {seed}) in {seconds:.1f} s: {counts}.")
    # Today's region-wide allocation, as the hub's daily `flask allocation run` would save it: the commissioners'
    # sufficiency-gap trend starts from it.
    computed = compute_allocation(time_limit_s=5.0)
    with unit_of_work():
        run = save_allocation(None, computed)
    click.echo(f"Saved today's regional allocation: {run.placed_count} of {run.requests_count} children placed "
               f"({run.status}, {run.seconds:.1f} s).")


@demo.command("sign-ins")
@with_appcontext
def sign_ins() -> None:
    """Print the demo sign-ins: role, organisation, email and the shared demo password."""
    loaded = set(db.session.scalars(select(User.email).where(User.email.like(f"%@{people.DEMO_DOMAIN}"))))
    rows = [("Role", "Organisation", "Email", "Password")]
    for person in people.demo_people():
        rows.append((_role(person), _organisation(person), person.email, people.DEMO_PASSWORD))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for n, row in enumerate(rows):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * width for width in widths))
    click.echo("\nEach sign-in asks for a security code: `flask demo mfa-code EMAIL` prints the current one.")
    if not loaded:
        click.echo("\nThe demo people are not in this database yet: run `flask demo load` first.")


@demo.command("mfa-code")
@click.argument("email")
@with_appcontext
def mfa_code(email: str) -> None:
    """Print the current six-digit security code of a demo account (development only)."""
    from flask import current_app

    from portal.auth.mfa import current_code

    if current_app.config.get("PORTAL_ENV") != "development":
        raise click.ClickException("Demo security codes are printed only when PORTAL_ENV=development.")
    email = email.strip().lower()
    if not email.endswith("@" + people.DEMO_DOMAIN):
        raise click.ClickException(f"Only demo accounts (@{people.DEMO_DOMAIN}) have demo security codes.")
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        raise click.ClickException(f"No demo account uses {email}: run `flask demo sign-ins` to list them.")
    if not user.mfa_secret:
        raise click.ClickException(f"{email} has no security code yet: it sets one up at its next sign-in.")
    click.echo(current_code(user.mfa_secret))


def _describe(counts: dict[str, int]) -> str:
    words = {"provider": "providers", "user_account": "people", "placement_request": "placement requests"}
    return ", ".join(f"{n:,} {words.get(table, table)}" for table, n in counts.items())


def _role(person: people.DemoPerson) -> str:
    if person.role == "provider":
        return f"Provider {PROVIDER_ROLES[person.provider_role].lower()}"
    if person.extract_access:
        return f"{ROLES[person.role]} (data extract)"
    return ROLES[person.role]


def _organisation(person: people.DemoPerson) -> str:
    if person.provider and person.provider.startswith("la_fostering:"):
        return people.la_fostering_name(people.REGION_BY_CODE[person.provider.split(":")[1]].name)
    if person.provider:
        demo_providers = (people.DEMO_IFA, people.DEMO_HOME, people.DEMO_SUPPORTED)
        return next(p.name for p in demo_providers if p.key == person.provider)
    if person.la_code:
        return people.REGION_BY_CODE[person.la_code].name
    return "West Midlands region" if person.role == "commissioner" else "Regional hub"
