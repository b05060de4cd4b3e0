"""Signing in through the MFA step in Chromium: a first sign-in sets up the authenticator app from the page (QR
code and typed key), saves recovery codes, and later sign-ins ask for the code; signing out ends the session."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect

from portal.db import db
from tests.browser.accessibility import assert_no_axe_violations
from tests.factories import create_user

pytestmark = pytest.mark.browser


def test_first_sign_in_sets_up_the_app_then_asks_for_codes(live_app, browser_page):
    page, base = browser_page, live_app.config["LIVE_URL"]
    with live_app.app_context():
        officer = create_user("officer", email="new.officer@example.test")
        officer.mfa_secret = None
        officer.mfa_enrolled_at = None
        db.session.commit()

    page.goto(f"{base}/requests/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email address").fill("new.officer@example.test")
    page.get_by_role("textbox", name="Password").fill("password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_test_id("mfa-qr").locator("svg")).to_be_visible()  # drawn on the server, inline
    assert_no_axe_violations(page, context="mfa-set-up")
    page.get_by_text("I cannot scan the QR code").click()
    secret = page.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
    # No page past sign-in is reachable before the code step.
    page.goto(f"{base}/requests/")
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    assert page.url.endswith("/sign-in/set-up-authenticator-app")

    page.get_by_label("Security code").fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    assert_no_axe_violations(page, context="mfa-set-up-error")
    page.get_by_label("Security code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert_no_axe_violations(page, context="recovery-codes")
    page.get_by_role("link", name="I have saved my recovery codes").click()
    expect(page.get_by_role("heading", name="Placement requests")).to_be_visible()

    page.get_by_test_id("sign-out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email address").fill("new.officer@example.test")
    page.get_by_role("textbox", name="Password").fill("password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter the security code")).to_be_visible()
    assert_no_axe_violations(page, context="security-code")
    page.get_by_text("I cannot use my authenticator app").click()
    page.get_by_role("link", name="Use a recovery code").click()
    assert_no_axe_violations(page, context="recovery-code")
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Placement requests")).to_be_visible()
    expect(page.get_by_text("You have 9 recovery codes left")).to_be_visible()
    page.get_by_test_id("your-account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert_no_axe_violations(page, context="account")
