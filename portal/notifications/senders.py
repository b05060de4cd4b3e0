"""Who delivers a message: an SMTP server, GOV.UK Notify, or (on a developer's machine) the database itself.

The worker picks one from the settings (`configured_sender`): GOV.UK Notify when `NOTIFY_API_KEY` is set, else
SMTP when `SMTP_HOST` is set, else in development the development sender, which delivers nothing and leaves the
sent message in the outbox for the mail viewer (/development/mail). Production without either refuses to start.

A sender raises on failure; `Permanent` marks a failure that retrying cannot mend (the server refuses the
address; Notify answers 400 or 403), which goes straight to the dead letters. Anything else is tried again.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol
from urllib.parse import urlsplit

from portal.config import ConfigError
from portal.notifications.templates import TEMPLATES, render


class Permanent(Exception):
    """A failure that sending again will not mend."""

    def __init__(self, error_type: str):
        super().__init__(error_type)
        self.error_type = error_type


@dataclass(frozen=True)
class Message:
    """One message ready to send: the address, the template, and its fields with links made into addresses."""

    id: str
    to: str
    template: str
    fields: dict[str, str]

    @property
    def rendered(self) -> tuple[str, str]:
        return render(TEMPLATES[self.template], self.fields)


class Sender(Protocol):
    name: str

    def send(self, message: Message) -> str | None:
        """Deliver `message`; return the sender's reference for it (or None); raise on failure."""


def resolve_fields(personalisation: dict, base_url: str, url_map) -> dict[str, str]:
    """The template's fields: links (`{"endpoint", "values"}`) built into full addresses under `base_url`."""
    parts = urlsplit(base_url)
    adapter = url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https")
    fields = {}
    for key, value in personalisation.items():
        if isinstance(value, dict) and "endpoint" in value:
            fields[key] = adapter.build(value["endpoint"], value.get("values") or {}, force_external=True)
        else:
            fields[key] = str(value)
    return fields


class SmtpSender:
    """Plain-text email over SMTP (smtplib), with STARTTLS unless SMTP_STARTTLS=0, and a login when a user is set."""

    name = "smtp"

    def __init__(self, host: str, port: int, *, username: str | None, password: str | None, starttls: bool,
                 mail_from: str, timeout_s: float = 30.0):
        self.host, self.port, self.username, self.password = host, port, username, password
        self.starttls, self.mail_from, self.timeout_s = starttls, mail_from, timeout_s

    def send(self, message: Message) -> str | None:
        subject, body = message.rendered
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = self.mail_from, message.to, subject
        email["Message-ID"] = make_msgid(idstring=message.id, domain="wmportal")
        # Sending again after a lost answer may deliver twice; the id lets a mail client and the log tell.
        email["X-Portal-Notification"] = message.id
        email.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            try:
                smtp.send_message(email)
            except smtplib.SMTPRecipientsRefused:
                raise Permanent("SMTPRecipientsRefused") from None
        return email["Message-ID"]


class NotifySender:
    """GOV.UK Notify through its official client: the template's id (NOTIFY_TEMPLATE_<NAME>) and its fields."""

    name = "notify"

    def __init__(self, api_key: str, template_ids: dict[str, str], *, base_url: str, client=None):
        missing = sorted(set(TEMPLATES) - set(template_ids))
        if missing:
            raise ConfigError("GOV.UK Notify needs a template id for every message: set "
                              + ", ".join(f"NOTIFY_TEMPLATE_{name.upper()}" for name in missing)
                              + " (docs/notifications.md)")
        if client is None:
            from notifications_python_client.notifications import NotificationsAPIClient

            client = NotificationsAPIClient(api_key, base_url=base_url, timeout=30)
        self.client, self.template_ids = client, template_ids

    def send(self, message: Message) -> str | None:
        from notifications_python_client.errors import HTTPError

        try:
            response = self.client.send_email_notification(
                email_address=message.to, template_id=self.template_ids[message.template],
                personalisation=message.fields, reference=message.id)
        except HTTPError as error:
            status = getattr(error, "status_code", None)
            if status in (400, 403):  # a bad address or template, or a bad key: not mended by waiting
                raise Permanent(f"HTTPError {status}") from None
            raise
        return (response or {}).get("id")


class DevelopmentSender:
    """Delivers nothing: the sent message stays in the outbox, and the mail viewer shows it (development only)."""

    name = "development"

    def send(self, message: Message) -> str | None:
        message.rendered  # a message that does not fill its template fails here as it would in production
        return None


def configured_sender(config) -> Sender:
    """The sender the settings ask for (see the module docstring)."""
    if config.get("NOTIFY_API_KEY"):
        return NotifySender(config["NOTIFY_API_KEY"], dict(config.get("NOTIFY_TEMPLATE_IDS") or {}),
                            base_url=config["NOTIFY_BASE_URL"])
    if config.get("SMTP_HOST"):
        return SmtpSender(config["SMTP_HOST"], int(config["SMTP_PORT"]), username=config.get("SMTP_USERNAME"),
                          password=config.get("SMTP_PASSWORD"), starttls=bool(config["SMTP_STARTTLS"]),
                          mail_from=config["MAIL_FROM"], timeout_s=float(config["SMTP_TIMEOUT_SECONDS"]))
    if config.get("PORTAL_ENV") == "development":
        return DevelopmentSender()
    raise ConfigError("Nothing can send the portal's emails: set NOTIFY_API_KEY (GOV.UK Notify) or SMTP_HOST "
                      "(and SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD, MAIL_FROM) (README, Configuration).")
