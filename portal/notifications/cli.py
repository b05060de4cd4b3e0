"""`flask notifications send`: the worker that delivers the outbox (docs/operations.md, "The notifications worker").

It runs until stopped (Ctrl+C or SIGTERM: it finishes the message in hand first); with `--once` it sends what is
due and exits, for a scheduler or a test. Start as many as you like, on any hosts: they never send one message
twice between them.
"""

from __future__ import annotations

import signal

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.config import ConfigError
from portal.notifications import reminders, worker
from portal.notifications.senders import configured_sender
from portal.unit_of_work import unit_of_work


@click.group("notifications")
def notifications() -> None:
    """Emails: the outbox and its worker."""


@notifications.command("send")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@with_appcontext
def send(once: bool) -> None:
    """Deliver queued messages, with retries and backoff; messages that keep failing become dead letters."""
    try:
        sender = configured_sender(current_app.config)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    if not current_app.config.get("BASE_URL"):
        raise click.ClickException("PORTAL_BASE_URL is not set: the links in emails are made from it (for example "
                                   "https://placements.example.gov.uk).")
    if once:
        done = worker.send_due(sender)
        click.echo(f"{done.sent} sent, {done.failed} to try again later, {done.dead} given up ({sender.name}).")
        return
    stopping = {"now": False}

    def _stop(_signum, _frame):
        stopping["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"Sending notifications through {sender.name}; Ctrl+C stops.")
    worker.run_forever(sender, poll_seconds=float(current_app.config["NOTIFICATIONS_POLL_SECONDS"]),
                       stop=lambda: stopping["now"])
    click.echo("Notifications worker stopped.")


@notifications.command("remind")
@with_appcontext
def remind() -> None:
    """Queue the reminders due today (a vacancy about to go stale, a placement about to start), each once only:
    run it daily (deploy/jobs.sh); running it again, or on several hosts at once, queues nothing more."""
    with unit_of_work():
        done = reminders.queue_reminders()
    click.echo(f"Reminders queued: {done.vacancies} about vacancies going stale, {done.placements} about "
               "placements starting.")
