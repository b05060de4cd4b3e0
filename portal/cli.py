"""`flask db upgrade` and friends: the schema comes only from Alembic migrations; `flask db backup` and
`flask db restore` (portal.backups; docs/operations.md has the drill)."""

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


@db_group.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def backup(path: str) -> None:
    """Back up the database to the new file PATH, while the portal runs.

    SQLite: the online backup API. PostgreSQL: pg_dump in its custom format (pg_restore reads it). The file holds
    children's records: it is made readable by its owner only; keep it encrypted and off the web hosts."""
    from portal.backups import BackupError, backup as back_up

    try:
        done = back_up(current_app.config["DATABASE_URL"], path, pg_bindir=current_app.config.get("PG_BINDIR"))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up the {done.dialect} database (revision {done.revision}) to {done.path}: "
               f"{done.size_bytes / 1e6:.1f} MB in {done.seconds:.1f} s.")


@db_group.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
def restore(path: str, force: bool) -> None:
    """Restore the backup PATH into the database (stop the app services first).

    Refuses a database that is not empty unless --force. PostgreSQL: pg_restore --clean --if-exists, in one
    transaction. Then run `flask db upgrade` if the backup is from an older release."""
    from portal.backups import BackupError, restore as restore_from

    try:
        done = restore_from(current_app.config["DATABASE_URL"], path, force=force,
                            pg_bindir=current_app.config.get("PG_BINDIR"))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {done.path} into the {done.dialect} database (revision {done.revision}) "
               f"in {done.seconds:.1f} s.")
    if done.behind_head:
        click.echo("The backup is from an older release: run `flask db upgrade` before starting the portal.")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
