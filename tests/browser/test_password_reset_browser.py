"""Issue 17 §3 in Chromium: "Forgot your password?" on the sign-in page, the emailed link opened from the mail
viewer (what the development sender kept), a new password set, and a sign-in with it that still asks for the
security code."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect

from portal.notifications import worker
from portal.notifications.senders import DevelopmentSender
from tests.browser.accessibility import assert_no_axe_violations
from tests.factories import TEST_MFA_SECRET, create_user

pytestmark = pytest.mark.browser
NEW_PASSWORD = "lantern meadow copper"


def test_a_password_is_reset_from_the_emailed_link_and_the_code_still_asked(live_app, browser_page):
    page, base = browser_page, live_app.config["LIVE_URL"]
    live_app.config["BASE_URL"] = base
    with live_app.app_context():
        create_user("officer", email="forgetful@example.test")

    page.goto(f"{base}/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    assert_no_axe_violations(page, context="forgot-password")
    page.get_by_label("Email address").fill("forgetful@example.test")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    with live_app.app_context():  # the worker's turn
        assert worker.send_due(DevelopmentSender()).sent == 1

    page.goto(f"{base}/development/mail")
    message = page.get_by_test_id("mail-message")
    expect(message.get_by_role("heading")).to_have_text("Reset your password for the West Midlands placement portal")
    expect(message.get_by_test_id("mail-to")).to_have_text("forgetful@example.test")
    message.get_by_role("link").click()

    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email address").fill("forgetful@example.test")
    page.get_by_role("textbox", name="Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter the security code")).to_be_visible()
    page.get_by_label("Security code").fill(pyotp.TOTP(TEST_MFA_SECRET).now())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Placement requests")).to_be_visible()
