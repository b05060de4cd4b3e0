"""The worker's loop: claim what is due, send it with no transaction open, record each outcome.

Run by `flask notifications send` (portal/notifications/cli.py). Several workers may run at once, on one host or
many: claims never overlap (portal/notifications/services.py). Logs name the message's id, template and error
type, never an address or a field.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from portal.db import utcnow
from portal.notifications import services
from portal.notifications.senders import Message, Permanent, Sender, resolve_fields
from portal.notifications.templates import TemplateError
from portal.unit_of_work import unit_of_work

log = logging.getLogger("portal.notifications")


@dataclass
class Sent:
    sent: int = 0
    failed: int = 0
    dead: int = 0

    def __iadd__(self, other: Sent) -> Sent:
        self.sent, self.failed, self.dead = self.sent + other.sent, self.failed + other.failed, self.dead + other.dead
        return self

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.dead


def _error_type(error: BaseException) -> str:
    """What went wrong, without the error's message (which can quote an address or a field)."""
    if isinstance(error, Permanent):
        return error.error_type
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__} {status}" if status else type(error).__name__


def _deliveries(claimed: list[services.Claimed], base_url: str, url_map) -> list[tuple[list[services.Claimed], Message]]:
    """What to send for the claimed rows: one email per row, except that a person's digest rows are one email."""
    out: list[tuple[list[services.Claimed], Message]] = []
    digests: dict[str, list[services.Claimed]] = {}
    for message in claimed:
        if message.digest:
            digests.setdefault(message.user_id, []).append(message)
            continue
        fields = resolve_fields(message.personalisation, base_url, url_map)
        out.append(([message], Message(message.id, message.email, message.template, fields)))
    for rows in digests.values():
        items = []
        for row in sorted(rows, key=lambda r: r.id):
            fields = resolve_fields(row.personalisation, base_url, url_map)
            subject, _ = Message(row.id, row.email, row.template, fields).rendered
            items.append(f"{subject}\n{fields.get('link', '')}".strip())
        count = f"{len(rows)} update{'s' if len(rows) != 1 else ''}"
        out.append((rows, Message(rows[0].id, rows[0].email, "digest", {"count": count, "items": "\n\n".join(items)})))
    return out


def send_batch(sender: Sender, now: datetime | None = None, *, limit: int = 20) -> Sent:
    """Claim up to `limit` due messages (and the rest of any digest among them), send them, record each outcome.
    Returns the counts, one per outbox row. `now` (the clock, for tests) is when they are due and when their
    outcome is recorded; by default, the time of each."""
    with unit_of_work():
        claimed = services.claim_due(now, limit=limit)
    done = Sent()
    base_url = current_app.config["BASE_URL"]
    try:
        planned = [(rows, message, None) for rows, message in _deliveries(claimed, base_url, current_app.url_map)]
    except (TemplateError, LookupError):
        # One row's link no longer builds: plan them one by one, so only that row is a dead letter.
        planned = []
        for message in claimed:
            try:
                planned += [(rows, m, None) for rows, m in _deliveries([message], base_url, current_app.url_map)]
            except (TemplateError, LookupError) as error:
                planned.append(([message], None, error))
    for rows, message, problem in planned:
        outcome, error_type, reference = "sent", None, None
        try:
            if problem is not None:
                raise problem
            reference = sender.send(message)
        except (Permanent, TemplateError, LookupError) as error:  # LookupError: a link that no longer builds
            outcome, error_type = "dead", _error_type(error)
        except Exception as error:  # noqa: BLE001 - any failure to deliver is retried later
            outcome, error_type = "failed", _error_type(error)
        with unit_of_work():
            for row in rows:
                if outcome == "sent":
                    services.record_sent(row, sender.name, reference, now)
                    status = "sent"
                else:
                    status = services.record_failure(row, error_type, permanent=outcome == "dead", now=now)
                setattr(done, status, getattr(done, status) + 1)
        for row in rows:
            if outcome == "sent":
                log.info("notification %s sent (%s, attempt %d)", row.id, row.template, row.attempts)
            else:
                log.warning("notification %s %s (%s, attempt %d): %s", row.id, outcome, row.template,
                            row.attempts, error_type)
    return done


def send_due(sender: Sender, now: datetime | None = None) -> Sent:
    """Send everything due at `now` (default: when called), batch after batch, then return. A message that fails
    is due again only later, so this ends."""
    now = now or utcnow()
    total = Sent()
    while True:
        done = send_batch(sender, now)
        total += done
        if done.attempted == 0:
            return total


def run_forever(sender: Sender, *, poll_seconds: float, stop=lambda: False) -> None:
    """Send what is due, then wait `poll_seconds` and look again, until `stop()` says so."""
    while not stop():
        send_due(sender)
        waited = 0.0
        while waited < poll_seconds and not stop():
            time.sleep(min(0.5, poll_seconds))
            waited += 0.5
