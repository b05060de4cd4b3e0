"""A real SMTP server on loopback (aiosmtpd) that tests can stop and start again, and the app pointed at it.

Use it with `from tests.smtp import smtp` in a test module or a conftest (the fixture), and `body(message)`.
"""

from __future__ import annotations

import email
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port


class Inbox:
    """What the loopback SMTP server received, as parsed messages."""

    def __init__(self):
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.original_content)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp(app):
    """A running SMTP server on a free loopback port, and the app's SMTP settings pointing at it (no STARTTLS:
    it is loopback). `smtp.stop()` / `smtp.start()` take it down and bring it back on the same port."""
    server = SmtpServer()
    server.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_STARTTLS=False, SMTP_TIMEOUT_SECONDS=5,
                      MAIL_FROM="Portal <portal@example.test>", BASE_URL="https://portal.example.test")
    yield server
    server.stop()


def body(message: Message) -> str:
    return message.get_payload(decode=True).decode()
