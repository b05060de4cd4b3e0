"""The whole journey in a real Chromium: officer -> matches -> referral -> provider offer -> acceptance ->
placement -> commissioner. Also checks the GOV.UK JavaScript runs, the live match list updates by itself, and
axe-core finds no WCAG A/AA violation on the pages the journey passes (tests/browser/accessibility.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.conftest import totp_code
from tests.factories import TEST_MFA_SECRET, create_provider, create_setting, create_user, create_vacancy

pytestmark = pytest.mark.browser


def sign_in(page, base: str, email: str) -> None:
    """Email and password, then the security code from the authenticator app (the factories' test secret)."""
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill("password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter the security code")).to_be_visible()
    page.get_by_label("Security code").fill(totp_code(TEST_MFA_SECRET, fresh=True, key=email))
    page.get_by_role("button", name="Continue").click()


def sign_out(page) -> None:
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_journey_in_chromium(live_app, browser_page):
    page, base = browser_page, live_app.config["LIVE_URL"]
    with live_app.app_context():
        officer = create_user("officer", email="officer@example.test")
        agency = create_provider(name="Arden Fostering")
        create_vacancy(create_setting(agency, postcode="CV2 4GA", name="Willow household"))
        create_user("provider", provider=agency, email="provider@example.test")
        create_user("commissioner", la_code=None, email="commissioner@example.test")
        other = create_provider(name="Late Provider")
        late_setting = create_setting(other, postcode="CV1 5FB", name="Late household")
    needed_by = date.today() + timedelta(days=3)

    sign_in(page, base, officer.email)
    expect(page.get_by_role("heading", name="Placement requests")).to_be_visible()
    assert "js-enabled" in page.evaluate("document.body.className")  # GOV.UK Frontend JavaScript ran
    assert_no_axe_violations(page, context="officer-requests")
    page.get_by_role("button", name="Start a new placement request").click()

    # A mistake first: the error summary appears, focused, and what was typed is kept.
    page.get_by_label("Your local authority's reference for the child").fill("COV-9")
    page.get_by_label("First name").fill("Amara")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    expect(page.get_by_label("First name")).to_have_value("Amara")
    assert_no_axe_violations(page, context="request-section-error")

    page.get_by_label("Last name").fill("Okafor")
    dob = page.get_by_role("group", name="Date of birth")
    dob.get_by_label("Day").fill("1")
    dob.get_by_label("Month").fill("1")
    dob.get_by_label("Year").fill(str(needed_by.year - 10))
    page.get_by_label("Female").check()
    page.get_by_role("button", name="Save and continue").click()

    # The task list: each section in turn.
    expect(page.get_by_role("link", name="Home, school and family")).to_be_visible()
    assert_no_axe_violations(page, context="task-list")
    page.get_by_role("link", name="Home, school and family").click()
    page.get_by_label("Home postcode").fill("not a postcode")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a real postcode")
    page.get_by_label("Home postcode").fill("CV1 2AB")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("link", name="When the placement is needed").click()
    page.get_by_label("In less than 5 days").check()
    nb = page.get_by_role("group", name="Needed by")
    nb.get_by_label("Day").fill(str(needed_by.day))
    nb.get_by_label("Month").fill(str(needed_by.month))
    nb.get_by_label("Year").fill(str(needed_by.year))
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("link", name="Type of placement").click()
    page.get_by_role("group", name="Foster care").get_by_label("Preferred", exact=True).check()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("Completed")).to_have_count(4)
    page.get_by_test_id("check-answers").click()
    expect(page.get_by_role("heading", name="Check your answers before you submit")).to_be_visible()
    page.get_by_test_id("submit-request").click()

    matches = page.get_by_test_id("matches-table")
    expect(matches).to_contain_text("Willow household")
    page.get_by_text("Why this rank").first.click()
    expect(page.locator(".app-score-breakdown li").first).to_be_visible()
    assert_no_axe_violations(page, context="matches")

    # The live list updates by itself when a new vacancy opens (polling every second in this test).
    with live_app.app_context():
        create_vacancy(late_setting)
    expect(matches.or_(page.get_by_test_id("matches-table"))).to_contain_text("Late household", timeout=10_000)
    # ... and says so to screen reader users (WCAG 4.1.3).
    expect(page.get_by_role("status")).to_contain_text("The list of matches has been updated")

    page.get_by_label("Send to Arden Fostering").check()
    page.get_by_test_id("send-selected").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Referral sent to 1 provider")
    request_url = page.url
    sign_out(page)

    sign_in(page, base, "provider@example.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals")
    assert_no_axe_violations(page, context="provider-inbox")
    page.get_by_role("link", name=re.compile(r"Female, age 10")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Female, age 10")
    assert "Okafor" not in page.content()
    assert_no_axe_violations(page, context="provider-referral")
    start = page.get_by_role("group", name="Earliest start date")  # today: counted in this month's figures
    start.get_by_label("Day").fill(str(date.today().day))
    start.get_by_label("Month").fill(str(date.today().month))
    start.get_by_label("Year").fill(str(date.today().year))
    page.get_by_label("Message to the placement officer (optional)").fill("Room ready.")
    page.get_by_role("button", name="Make offer").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Offer made")
    sign_out(page)

    sign_in(page, base, officer.email)
    page.goto(request_url)
    expect(page.get_by_test_id("offers-table")).to_contain_text("Room ready.")
    page.get_by_test_id("accept-offer").click()
    expect(page.get_by_test_id("placement-panel")).to_contain_text("Placement recorded")
    sign_out(page)

    sign_in(page, base, "commissioner@example.test")
    expect(page.get_by_role("heading", name="Market overview")).to_be_visible()
    expect(page.locator('[data-figure="placements_12_months"]')).to_have_text("c")
    assert_no_axe_violations(page, context="market-overview")


def test_an_officer_searches_their_requests_in_chromium(live_app, browser_page):
    """The search form posts with its CSRF token (it once failed with "Your form expired" in every browser), finds
    a name typed with a typo, and keeps the search out of the address bar."""
    from tests.factories import create_request

    page, base = browser_page, live_app.config["LIVE_URL"]
    with live_app.app_context():
        officer = create_user("officer", email="searcher@example.test")
        create_request(officer, first_name="Amara", last_name="Okafor")
        create_request(officer, first_name="Jayden", last_name="Smith")
    sign_in(page, base, officer.email)
    expect(page.get_by_role("heading", name="Placement requests")).to_be_visible()
    page.get_by_label("Search by reference or name").fill("Amara Okafr")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("heading", name="Placement requests")).to_be_visible()
    table = page.get_by_test_id("requests-table")
    expect(table).to_contain_text("Amara")
    expect(table).not_to_contain_text("Jayden")
    expect(page.get_by_label("Search by reference or name")).to_have_value("Amara Okafr")
    assert "Amara" not in page.url and "Okaf" not in page.url
