"""The accessibility statement, the privacy notice and the cookies page: linked from the footer of every page and
open to everyone, signed in or not (tests/test_architecture.py lists these endpoints as public).

What the pages say about the portal is read from the running configuration where it can be (the session cookie's
name and flags, the small-number threshold), so the pages stay true when a setting changes; tests/public/ checks
that the cookies listed are the cookies the portal sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, current_app, render_template

from portal.geo import WM_LOCAL_AUTHORITIES

bp = Blueprint("public", __name__)

# When the accessibility statement and the privacy notice were written and last reviewed (update on every review).
STATEMENT_PREPARED = date(2026, 12, 2)
STATEMENT_REVIEWED = date(2026, 12, 2)
PRIVACY_UPDATED = date(2026, 12, 3)

# The pages the automated accessibility checks run on, by the `context=` each check names in tests/browser/
# (assert_no_axe_violations): tests/public/test_public_pages.py fails unless every key here is checked there and
# every check there is listed here, so the statement says exactly what was tested.
AXE_CHECKED_PAGES: dict[str, str] = {
    "start": "the start page",
    "sign-in": "sign in",
    "sign-in-error": "sign in, showing an error",
    "forgot-password": "asking for a link to reset a forgotten password",
    "accessibility": "this accessibility statement",
    "privacy": "the privacy notice",
    "cookies": "the cookies page",
    "not-found": "the page shown when a page is not found",
    "officer-requests": "a placement officer's list of placement requests",
    "request-section-error": "the first section of a new placement request, showing errors",
    "task-list": "a placement request's task list",
    "check-answers": "checking a placement request's answers before submitting it",
    "request-changed": "a placement request ranked again after a change of circumstances",
    "matches": "a placement request with its ranked matches",
    "earlier-placements": "a child's earlier placements, to say whether each is the same child (re-entry to care)",
    "provider-inbox": "a provider's list of referrals",
    "provider-referral": "one referral as a provider sees it",
    "provider-sibling-referral": "a referral for brothers and sisters to be placed together, as a provider sees it",
    "market-overview": "the commissioners' market overview",
    "whatif-form-error": "building a commissioners' what-if scenario, showing an error",
    "whatif-compare": "commissioners' what-if scenarios compared side by side",
    "mfa-set-up": "setting up an authenticator app at the first sign-in (QR code and key)",
    "mfa-set-up-error": "setting up an authenticator app, showing an error",
    "recovery-codes": "the recovery codes shown once",
    "security-code": "entering the security code",
    "recovery-code": "entering a recovery code",
    "account": "your account (password, recovery codes, sessions)",
    "notifications": "your notifications, with some unread",
    "notifications-read": "your notifications, all read",
    "emails-not-sent": "the regional hub's list of emails not sent, with one to send again",
    "emails-not-sent-after": "the regional hub's list of emails not sent, after sending one again",
    "timeout-warning": "the warning shown two minutes before you are signed out for inactivity",
}

# Children's records and the audit trail: how long they are kept (the privacy notice; to be confirmed by the
# data protection officer, see the notice).
CHILD_RECORD_RETENTION = "75 years from the child's date of birth"
AUDIT_RETENTION_YEARS = 7
ACCOUNT_RETENTION_YEARS = 2


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: str
    expires: str


def public(view):
    """Marks a page anyone may open without signing in (tests/test_architecture.py lists these endpoints)."""
    view.public = True
    return view


def portal_cookies() -> list[Cookie]:
    """Every cookie the portal sets. There are two: the session cookie (Flask's, signed with SECRET_KEY), which
    holds the random token of the server-side session (portal.auth.sessions), the form security (CSRF) token and
    one-off messages such as "You have signed out"; and the known-device cookie (portal.auth.devices), a random
    code that a sign-in from a new device is told by."""
    config = current_app.config
    return [Cookie(
        name=config["SESSION_COOKIE_NAME"],
        purpose=("Keeps you signed in as you move from page to page (it holds a random code that names your "
                 "sign-in on the portal's server), holds the security token that protects every form from being "
                 "sent by another website, and carries one-off messages such as 'You have signed out'. It is set "
                 "when you first open a page with a form, before you sign in."),
        expires="When you close your browser",
    ), Cookie(
        name=config["DEVICE_COOKIE_NAME"],
        purpose=("Lets the portal recognise this browser when you sign in, so that it can email you when your "
                 "account is signed into from a browser or device it has not seen before. It holds a random code "
                 "and nothing about you; it is set when you first sign in on this browser."),
        expires="After 400 days",
    )]


@bp.get("/accessibility")
@public
def accessibility():
    return render_template("public/accessibility.html", prepared=STATEMENT_PREPARED, reviewed=STATEMENT_REVIEWED,
                           checked_pages=AXE_CHECKED_PAGES.values(),
                           idle_minutes=current_app.config["SESSION_IDLE_MINUTES"])


@bp.get("/privacy")
@public
def privacy():
    return render_template("public/privacy.html", updated=PRIVACY_UPDATED, local_authorities=WM_LOCAL_AUTHORITIES,
                           threshold=current_app.config["SUPPRESSION_THRESHOLD"],
                           child_record_retention=CHILD_RECORD_RETENTION, audit_years=AUDIT_RETENTION_YEARS,
                           account_years=ACCOUNT_RETENTION_YEARS)


@bp.get("/cookies")
@public
def cookies():
    config = current_app.config
    return render_template("public/cookies.html", cookies=portal_cookies(),
                           secure=config["SESSION_COOKIE_SECURE"], httponly=config["SESSION_COOKIE_HTTPONLY"],
                           samesite=config["SESSION_COOKIE_SAMESITE"], idle_minutes=config["SESSION_IDLE_MINUTES"],
                           absolute_hours=config["SESSION_ABSOLUTE_HOURS"])
