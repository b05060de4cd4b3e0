"""The outbox and its worker against a real SMTP server on loopback (issue 17 §1): each message sent once, retried
after the server was down, nothing sent for a change that rolled back, dead letters after repeated failure."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.db import utcnow
from portal.errors import ServiceError
from portal.models import Notification
from portal.notifications import worker
from portal.notifications.senders import SmtpSender, configured_sender
from portal.notifications.services import link, queue_notification
from portal.unit_of_work import unit_of_work
from tests.factories import create_provider, create_user
from tests.smtp import body


def _queue_reset(user) -> None:
    with unit_of_work():
        queue_notification(user, "password_reset", minutes="30", link=link("auth.reset_password", token="abc"))


def _send(app, now=None) -> worker.Sent:
    return worker.send_due(configured_sender(app.config), now)


def _rows(db_session) -> list[Notification]:
    db_session.rollback()
    # The worker ran in the test's app context, so its session is this one: read the rows afresh.
    return list(db_session.scalars(select(Notification).execution_options(populate_existing=True)))


def test_a_queued_message_is_sent_once(app, smtp, db_session):
    user = create_user("officer", email="olu@example.test")
    _queue_reset(user)
    assert isinstance(configured_sender(app.config), SmtpSender)
    assert smtp.inbox.messages == []  # queued, not sent: the worker sends
    done = _send(app)
    assert (done.sent, done.failed, done.dead) == (1, 0, 0)
    assert _send(app).attempted == 0  # nothing left to send: never twice
    (message,) = smtp.inbox.messages
    assert message["To"] == "olu@example.test" and message["X-Envelope-To"] == "olu@example.test"
    assert message["From"] == "Portal <portal@example.test>"
    assert message["Subject"] == "Reset your password for the West Midlands placement portal"
    assert "https://portal.example.test/reset-password/abc" in body(message)
    (row,) = _rows(db_session)
    assert (row.status, row.attempts, row.sender, row.last_error) == ("sent", 1, "smtp", None)
    assert row.sent_at is not None and row.sender_reference == message["Message-ID"]


def test_server_down_the_message_waits_and_is_sent_when_it_is_back(app, smtp, db_session):
    user = create_user("officer", email="olu@example.test")
    _queue_reset(user)
    smtp.stop()
    started = utcnow()
    done = _send(app)
    assert (done.sent, done.failed) == (0, 1)
    (row,) = _rows(db_session)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "ConnectionRefusedError")
    first_wait = row.next_attempt_at - started
    assert timedelta(seconds=55) <= first_wait <= timedelta(seconds=70)  # RETRY_SECONDS (60) after the attempt
    assert _send(app).attempted == 0  # not due yet: nothing is tried before its time

    # Still down at the next attempt: the wait doubles.
    second_try = row.next_attempt_at + timedelta(seconds=1)
    assert _send(app, second_try).failed == 1
    (row,) = _rows(db_session)
    assert row.attempts == 2 and timedelta(seconds=115) <= row.next_attempt_at - second_try <= timedelta(seconds=125)

    smtp.start()
    assert _send(app, row.next_attempt_at + timedelta(seconds=1)).sent == 1
    assert len(smtp.inbox.messages) == 1
    (row,) = _rows(db_session)
    assert (row.status, row.attempts) == ("sent", 3)


def test_nothing_is_sent_for_a_change_that_rolled_back(app, smtp, db_session):
    user = create_user("officer", email="olu@example.test")
    with unit_of_work() as work:
        queue_notification(user, "password_reset", minutes="30", link=link("auth.reset_password", token="abc"))
        raise ServiceError("the change failed after the message was queued")
    assert not work.ok
    assert _rows(db_session) == []
    assert _send(app).attempted == 0 and smtp.inbox.messages == []


def test_an_invitation_that_fails_saves_and_sends_nothing(app, client, auth, smtp, db_session):
    """Through the page: an invitation refused (the address is taken) writes no message; one accepted writes one."""
    provider = create_provider(name="Acorn Fostering")
    auth.sign_in(create_user("provider", provider=provider, provider_role="admin"))
    create_user("officer", email="taken@example.test")
    assert client.post("/provider/users/new", data={"name": "Dup", "email": "taken@example.test",
                                                    "provider_role": "staff"}).status_code == 422
    assert _rows(db_session) == []
    assert client.post("/provider/users/new", data={"name": "Sam Staff", "email": "sam@example.test",
                                                    "provider_role": "staff"}).status_code == 200
    assert _send(app).sent == 1
    (message,) = smtp.inbox.to("sam@example.test")
    assert message["Subject"] == "You have been invited to the West Midlands placement portal"
    text = body(message)
    assert "Acorn Fostering has given you an account" in text
    path = re.search(r"https://portal\.example\.test(/provider/set-password/\S+)", text).group(1)
    assert client.get(path).status_code == 200  # the emailed link is the invitation's one-time link


def test_dead_after_the_last_attempt_and_listed_for_the_hub(app, client, auth, smtp, db_session):
    app.config["NOTIFICATIONS_MAX_ATTEMPTS"] = 3
    user = create_user("officer", email="olu@example.test", name="Olu Officer")
    _queue_reset(user)
    smtp.stop()
    now = utcnow()
    for _ in range(3):
        _send(app, now)
        now += timedelta(days=1)
    (row,) = _rows(db_session)
    assert (row.status, row.attempts, row.last_error) == ("dead", 3, "ConnectionRefusedError")
    smtp.start()
    assert _send(app, now + timedelta(days=30)).attempted == 0  # a dead letter is never tried again by itself
    assert smtp.inbox.messages == []

    auth.sign_in(create_user("admin", la_code=None))
    page = client.get("/admin/notifications").get_data(as_text=True)
    assert "Olu Officer" in page and "olu@example.test" in page and "Given up" in page
    assert "ConnectionRefusedError" in page and "1 email" in page
    assert "Olu Officer" not in client.get("/admin/notifications?status=failed").get_data(as_text=True)
    assert client.get("/admin/notifications?status=nonsense&page=x").status_code == 200


def test_a_refused_address_is_dead_at_once(app, smtp, db_session):
    """A failure that waiting cannot mend (the server refuses the recipient) is not retried."""

    class Refusing:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 No such user"

    smtp.stop()
    smtp.inbox.handle_RCPT = Refusing().handle_RCPT
    smtp.start()
    _queue_reset(create_user("officer", email="gone@example.test"))
    assert _send(app).dead == 1
    (row,) = _rows(db_session)
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, "SMTPRecipientsRefused")


def test_the_command_sends_what_is_due_and_exits(app, smtp, db_session):
    _queue_reset(create_user("officer", email="olu@example.test"))
    result = app.test_cli_runner().invoke(args=["notifications", "send", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 to try again later, 0 given up (smtp)" in result.output
    assert len(smtp.inbox.messages) == 1


def test_production_without_a_sender_refuses_to_start(app):
    app.config.update(PORTAL_ENV="production", SMTP_HOST=None, NOTIFY_API_KEY=None)
    result = app.test_cli_runner().invoke(args=["notifications", "send", "--once"])
    assert result.exit_code != 0 and "set NOTIFY_API_KEY (GOV.UK Notify) or SMTP_HOST" in result.output


def test_a_deactivated_account_is_sent_nothing(app, db_session):
    user = create_user("officer", email="gone@example.test")
    user.active = False
    db_session.commit()
    with unit_of_work():
        assert queue_notification(user, "password_reset", minutes="30", link=link("auth.reset_password", token="x")) is None
    assert _rows(db_session) == []


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_two_workers_claim_different_messages(app, db_session):
    """PostgreSQL: a worker claiming skips the rows another worker's claim holds (FOR UPDATE SKIP LOCKED)."""
    from portal.notifications.services import claim_due

    user = create_user("officer", email="olu@example.test")
    for _ in range(4):
        _queue_reset(user)
    db_session.rollback()
    with app.app_context():
        with unit_of_work():
            first = claim_due(limit=2)
            with app.app_context():  # a second worker, on its own connection, while the first still holds its claim
                with unit_of_work():
                    second = claim_due(limit=10)
    assert len(first) == 2 and len(second) == 2
    assert not {m.id for m in first} & {m.id for m in second}
    assert {row.status for row in _rows(db_session)} == {"sending"}


def test_retention_prune_deletes_old_sent_and_dead_emails_only(app, db_session):
    user = create_user("officer")
    now = utcnow()
    rows = {
        "old sent": Notification(user_id=user.id, kind="k", template="password_reset", status="sent",
                                 sent_at=now - timedelta(days=31), created_at=now - timedelta(days=31)),
        "new sent": Notification(user_id=user.id, kind="k", template="password_reset", status="sent",
                                 sent_at=now - timedelta(days=29)),
        "old dead": Notification(user_id=user.id, kind="k", template="password_reset", status="dead",
                                 created_at=now - timedelta(days=91)),
        "new dead": Notification(user_id=user.id, kind="k", template="password_reset", status="dead",
                                 created_at=now - timedelta(days=89)),
        "old waiting": Notification(user_id=user.id, kind="k", template="password_reset", status="failed",
                                    created_at=now - timedelta(days=400)),
    }
    db_session.add_all(rows.values())
    db_session.commit()
    ids = {name: row.id for name, row in rows.items()}
    result = app.test_cli_runner().invoke(args=["retention", "prune"])
    assert result.exit_code == 0 and "and 2 old emails from the outbox" in result.output
    left = {row.id for row in _rows(db_session)}
    assert left == {ids["new sent"], ids["new dead"], ids["old waiting"]}
