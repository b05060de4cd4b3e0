"""GOV.UK Notify through its official client, against a stand-in for Notify's API on loopback: the client's own
request (a signed JWT, the template's id, the fields, our reference) is what the stand-in receives."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from sqlalchemy import select

from portal.models import Notification
from portal.notifications import worker
from portal.notifications.senders import NotifySender, configured_sender
from portal.notifications.services import link, queue_notification
from portal.notifications.templates import TEMPLATES
from portal.unit_of_work import unit_of_work
from tests.factories import create_user

SERVICE_ID, SECRET = str(uuid.uuid4()), str(uuid.uuid4())
API_KEY = f"portal_test-{SERVICE_ID}-{SECRET}"


class FakeNotify:
    def __init__(self):
        self.received: list[dict] = []
        self.answer = 201
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                token = self.headers["Authorization"].removeprefix("Bearer ")
                claims = jwt.decode(token, SECRET, algorithms=["HS256"])  # signed with the key's secret
                data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.received.append({"path": self.path, "iss": claims["iss"], **data})
                payload = {"id": str(uuid.uuid4())} if outer.answer == 201 else {
                    "status_code": outer.answer, "errors": [{"error": "BadRequestError", "message": "no"}]}
                raw = json.dumps(payload).encode()
                self.send_response(outer.answer)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def notify(app):
    fake = FakeNotify()
    ids = {name: str(uuid.uuid4()) for name in TEMPLATES}
    app.config.update(NOTIFY_API_KEY=API_KEY, NOTIFY_BASE_URL=fake.url, NOTIFY_TEMPLATE_IDS=ids,
                      SMTP_HOST="127.0.0.1", BASE_URL="https://portal.example.test")
    fake.template_ids = ids
    yield fake
    fake.close()


def _queue(user):
    with unit_of_work():
        queue_notification(user, "password_reset", minutes="30", link=link("auth.reset_password", token="abc"))


def test_notify_is_used_when_a_key_is_set_and_gets_the_template_id_and_fields(app, notify, db_session):
    _queue(create_user("officer", email="olu@example.test"))
    sender = configured_sender(app.config)
    assert isinstance(sender, NotifySender)  # Notify wins over SMTP when both are set
    assert worker.send_due(sender).sent == 1
    (request,) = notify.received
    assert request["path"] == "/v2/notifications/email" and request["iss"] == SERVICE_ID
    assert request["email_address"] == "olu@example.test"
    assert request["template_id"] == notify.template_ids["password_reset"]
    assert request["personalisation"] == {"minutes": "30", "link": "https://portal.example.test/reset-password/abc"}
    row = db_session.scalar(select(Notification).execution_options(populate_existing=True))
    assert request["reference"] == row.id
    assert (row.status, row.sender) == ("sent", "notify") and row.sender_reference


def test_notify_refusing_the_request_is_a_dead_letter_and_its_outage_a_retry(app, notify, db_session):
    _queue(create_user("officer", email="olu@example.test"))
    notify.answer = 503
    assert worker.send_due(configured_sender(app.config)).failed == 1
    row = db_session.scalar(select(Notification).execution_options(populate_existing=True))
    assert (row.status, row.last_error) == ("failed", "HTTP503Error 503")
    row.next_attempt_at = row.created_at  # due again now
    db_session.commit()
    notify.answer = 400
    assert worker.send_due(configured_sender(app.config)).dead == 1
    row = db_session.scalar(select(Notification).execution_options(populate_existing=True))
    assert (row.status, row.attempts, row.last_error) == ("dead", 2, "HTTPError 400")


def test_notify_needs_a_template_id_for_every_message(app, notify):
    from portal.config import ConfigError

    app.config["NOTIFY_TEMPLATE_IDS"] = {"invitation": str(uuid.uuid4())}
    with pytest.raises(ConfigError, match="NOTIFY_TEMPLATE_PASSWORD_RESET"):
        configured_sender(app.config)
