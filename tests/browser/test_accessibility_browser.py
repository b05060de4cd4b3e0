"""Accessibility in a real Chromium: axe-core (WCAG 2.0/2.1/2.2 A and AA) on the public pages, sign-in and the
error page; at 320 CSS pixels wide (400% zoom) nothing scrolls sideways; the skip link is the first thing the
keyboard reaches and moves focus to the main content. The journey's own pages are checked in
test_journey_browser.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_no_axe_violations, axe_violations

pytestmark = pytest.mark.browser

PUBLIC = ["/", "/sign-in", "/accessibility", "/privacy", "/cookies"]


def test_public_pages_pass_axe(live_app, browser_page):
    page, base = browser_page, live_app.config["LIVE_URL"]
    page.goto(f"{base}/")
    assert_no_axe_violations(page, context="start")
    page.goto(f"{base}/accessibility")
    assert_no_axe_violations(page, context="accessibility")
    page.goto(f"{base}/privacy")
    assert_no_axe_violations(page, context="privacy")
    page.goto(f"{base}/cookies")
    assert_no_axe_violations(page, context="cookies")
    page.goto(f"{base}/sign-in")
    assert_no_axe_violations(page, context="sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    assert_no_axe_violations(page, context="sign-in-error")
    page.goto(f"{base}/no-such-page")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert_no_axe_violations(page, context="not-found")


def test_the_check_finds_a_violation(live_app, browser_page):
    """The helper is not blind: an image without alternative text and an unlabelled field fail it."""
    page, base = browser_page, live_app.config["LIVE_URL"]
    page.goto(f"{base}/cookies")
    page.evaluate("""() => {
        const main = document.querySelector('main');
        const img = document.createElement('img'); img.src = '/static/images/favicon.svg'; main.append(img);
        const input = document.createElement('input'); input.type = 'text'; main.append(input);
    }""")
    found = {violation["id"]: violation for violation in axe_violations(page)}
    assert {"image-alt", "label"} <= set(found)
    with pytest.raises(AssertionError) as failure:
        assert_no_axe_violations(page, context="cookies")
    message = str(failure.value)
    assert "image-alt (critical)" in message and "https://dequeuniversity.com/rules/axe/" in message
    assert "\n    at img" in message and "\n    at input" in message


@pytest.mark.parametrize("path", PUBLIC)
def test_pages_reflow_at_320_pixels_without_scrolling_sideways(live_app, browser_page, path):
    """WCAG 1.4.10 reflow: 320 CSS pixels is a 1280-pixel window at 400% zoom."""
    page, base = browser_page, live_app.config["LIVE_URL"]
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{base}{path}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_the_skip_link_comes_first_and_moves_focus_to_the_main_content(live_app, browser_page):
    page, base = browser_page, live_app.config["LIVE_URL"]
    page.goto(f"{base}/accessibility")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()
