"""Every message the portal sends, written once, in GOV.UK Notify's template format.

Each template is a subject and a plain-text body with `((placeholder))` fields, as Notify writes them. The SMTP and
development senders fill the fields here; with GOV.UK Notify the same texts are set up as templates in the Notify
service (docs/notifications.md lists them to paste) and the portal sends only the template's id and the fields.

No template has a field for a child's personal data (DESIGN.md §5: no personal data in emails): a link to the
record, which asks the reader to sign in, and at most the anonymised summary providers see ("Sibling group of 2:
boy 11, girl 8"). `tests/notifications/test_no_personal_data.py` renders every template from real events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\(\(([a-z_]+)\)\)")


@dataclass(frozen=True)
class Template:
    name: str
    subject: str
    body: str
    # Security messages (an invitation, a password reset) cannot be turned off by the person.
    security: bool = False
    # Who may choose how they get it (at once, in the daily digest, or not at all), and how the choice is worded.
    audience: str | None = None
    choice_label: str | None = None

    @property
    def fields(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.subject + self.body))


SIGN_OFF = "\n\nWest Midlands placement portal\n\nThis email was sent automatically. Do not reply to it."

TEMPLATES: dict[str, Template] = {t.name: t for t in (
    Template(
        "invitation",
        "You have been invited to the West Midlands placement portal",
        "((inviter_organisation)) has given you an account on the West Midlands placement portal.\n\n"
        "Set your password within ((days)) days:\n\n((link))\n\n"
        "Then sign in with your email address and new password, and set up an authenticator app for your "
        "security code.\n\nIf you were not expecting this email, you can ignore it." + SIGN_OFF,
        security=True,
    ),
    Template(
        "password_reset",
        "Reset your password for the West Midlands placement portal",
        "Someone asked to reset the password of your account on the West Midlands placement portal.\n\n"
        "Use this link within ((minutes)) minutes to set a new password. It works once:\n\n((link))\n\n"
        "Setting a new password signs you out on every device. You will still need your security code to sign in.\n\n"
        "If you did not ask for this, you can ignore this email: your password has not changed." + SIGN_OFF,
        security=True,
    ),
    Template(
        "mfa_reset",
        "Your security code has been reset on the West Midlands placement portal",
        "An administrator of ((administrator_organisation)) has reset the security code of your account on the West "
        "Midlands placement portal, and you have been signed out.\n\n"
        "When you next sign in, after your password you will set up your authenticator app again:\n\n((link))\n\n"
        "If you did not ask for this, tell your administrator or the regional hub at once." + SIGN_OFF,
        security=True,
    ),
    Template(
        "referral_received",
        "New referral: ((summary)), ((urgency))",
        "((local_authority)) has sent you a referral that one of your settings may be able to meet.\n\n"
        "((summary))\nNeeded: ((urgency))\n\n"
        "Sign in to read the referral and make an offer:\n\n((link))" + SIGN_OFF,
        audience="provider", choice_label="A new referral for you",
    ),
    Template(
        "referral_closed",
        "Referral closed: ((summary))",
        "((local_authority)) has closed its referral for ((summary)): ((outcome)).\n\n"
        "Any offer you had made for this referral is closed too. Sign in to see your referrals:\n\n((link))" + SIGN_OFF,
        audience="provider", choice_label="A referral closed by the local authority",
    ),
    Template(
        "offer_decision",
        "Decision on your offer for ((summary))",
        "((local_authority)) has decided on your offer for ((summary)): ((decision)).\n\n"
        "Sign in to see the decision and its reason:\n\n((link))" + SIGN_OFF,
        audience="provider", choice_label="A decision on one of your offers",
    ),
    Template(
        "offer_withdrawn",
        "Offer withdrawn by ((provider)) for ((summary))",
        "((provider)) has withdrawn its offer for a child you referred: ((summary)).\n\n"
        "Sign in to see the offers still open for this child:\n\n((link))" + SIGN_OFF,
        audience="officer", choice_label="An offer withdrawn by a provider",
    ),
    Template(
        "offer_received",
        "New offer from ((provider)) for ((summary))",
        "((provider)) has made an offer for a child you referred: ((summary)).\n\n"
        "Sign in to compare the offers for this child:\n\n((link))" + SIGN_OFF,
        audience="officer", choice_label="A new offer for a child you referred",
    ),
    Template(
        "new_sign_in",
        "New sign-in to your West Midlands placement portal account",
        "Your account on the West Midlands placement portal was signed into from a browser or device it had not "
        "seen before, at ((time)) (UK time).\n\n"
        "If this was you, you need do nothing.\n\n"
        "If it was not you, sign in, change your password and sign out everywhere from Your account, then tell "
        "your administrator or the regional hub:\n\n((link))" + SIGN_OFF,
        security=True,
    ),
    Template(
        "referral_changed",
        "Referral changed: ((summary))",
        "((local_authority)) has changed its referral for ((summary)): ((sections)).\n\n"
        "Sign in to see what changed and whether your offer still fits:\n\n((link))" + SIGN_OFF,
        audience="provider", choice_label="A referral changed by the local authority",
    ),
    Template(
        "sibling_group_split",
        "Referral closed: ((summary)) to be placed apart",
        "((local_authority)) has decided that the brothers and sisters of its referral for a ((summary)) can live "
        "apart, so this referral is closed, with any offer you had made for it. Each child may now be referred on "
        "their own.\n\nSign in to see your referrals:\n\n((link))" + SIGN_OFF,
        audience="provider", choice_label="A sibling group's referral closed because the children can live apart",
    ),
    Template(
        "agreement_to_sign",
        "Placement agreement to sign: ((summary))",
        "((local_authority)) has accepted your offer for ((summary)), and the placement agreement is ready for your "
        "signature. The placement starts on ((start_date)).\n\n"
        "Sign in to read and sign the agreement:\n\n((link))" + SIGN_OFF,
        audience="provider", choice_label="A placement agreement to sign",
    ),
    Template(
        "vacancy_stale_soon",
        "Confirm your vacancy at ((setting)) by ((stale_date))",
        "Your vacancy at ((setting)), from ((available_from)), was last confirmed on ((confirmed_date)). Unless it is "
        "confirmed again, from ((stale_date)) it will be shown as out of date and rank lower in matches.\n\n"
        "Sign in to confirm it is still available, or change it:\n\n((link))" + SIGN_OFF,
        audience="provider", choice_label="A vacancy about to go out of date",
    ),
    Template(
        "agreement_signed",
        "Placement agreement signed by ((provider)) for ((summary))",
        "((provider)) has signed the placement agreement for ((summary)): ((state)).\n\n"
        "Sign in to see the agreement:\n\n((link))" + SIGN_OFF,
        audience="officer", choice_label="A placement agreement signed by a provider",
    ),
    Template(
        "placement_starting",
        "Placement starting ((start_date)): ((summary))",
        "The placement with ((provider)) for ((summary)) starts on ((start_date)).\n\n"
        "Sign in to see the placement and its agreement:\n\n((link))" + SIGN_OFF,
        audience="officer", choice_label="A placement about to start",
    ),
    # The daily digest: the day's messages of the kinds a person asked to have gathered, as one email.
    Template(
        "digest",
        "Your daily summary from the West Midlands placement portal: ((count))",
        "Since your last summary:\n\n((items))\n\n"
        "Choose which emails you get, and which come in this summary, in Your account." + SIGN_OFF,
    ),
)}


def choosable(role: str) -> list[Template]:
    """The kinds of message a person with `role` may choose how to get (security messages are always sent)."""
    return [t for t in TEMPLATES.values() if t.audience == role and not t.security]


class TemplateError(ValueError):
    """A message's fields do not fill its template: a bug, so the message goes straight to the dead letters."""


def render(template: Template, fields: dict[str, str]) -> tuple[str, str]:
    """The subject and body of `template` with its `((fields))` filled in."""
    missing = template.fields - set(fields)
    if missing:
        raise TemplateError(f"missing fields: {', '.join(sorted(missing))}")

    def fill(text: str) -> str:
        return PLACEHOLDER.sub(lambda match: str(fields[match.group(1)]), text)

    return fill(template.subject), fill(template.body)
