"""`flask db upgrade` and friends: the schema comes only from Alembic migrations."""

from __future__ import annotations

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app

from portal.config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    cfg.attributes["skip_logging"] = True  # keep the application's own logging set-up
    return cfg


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Bring the database schema up to `revision` with Alembic."""
    if database_url.startswith("sqlite:///"):
        from pathlib import Path

        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: the newest)."""
    upgrade_database(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database upgraded to {revision}.")


@db_group.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (for example `base`)."""
    command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"Database downgraded to {revision}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
