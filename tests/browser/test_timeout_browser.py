"""The timeout warning in Chromium (WCAG 2.2.1): two minutes before the idle limit a dialog offers to stay
signed in; staying keeps the session; letting it lapse shows the signed-out page with its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from portal.db import db, utcnow
from portal.models import UserSession
from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.test_journey_browser import sign_in
from tests.factories import create_user

pytestmark = pytest.mark.browser


def _idle_for(app, delta: timedelta) -> None:
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - delta))
        db.session.commit()


def _page_seen_again(page) -> None:
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")


def test_the_warning_offers_to_stay_signed_in_then_signs_out(live_app, browser_page):
    page, base = browser_page, live_app.config["LIVE_URL"]
    with live_app.app_context():
        create_user("officer", email="idle.officer@example.test")
    sign_in(page, base, "idle.officer@example.test")
    expect(page.get_by_role("heading", name="Placement requests")).to_be_visible()
    dialog = page.get_by_role("dialog", name="You are about to be signed out")
    expect(dialog).to_be_hidden()

    _idle_for(live_app, timedelta(minutes=28, seconds=30))
    _page_seen_again(page)
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("2 minutes")
    assert_no_axe_violations(page, context="timeout-warning")
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    with live_app.app_context():
        seen = db.session.scalar(select(UserSession.last_seen_at))
    assert utcnow() - seen < timedelta(seconds=30)  # staying counted as activity

    _idle_for(live_app, timedelta(minutes=31))
    _page_seen_again(page)
    expect(page.get_by_role("heading", name="You have been signed out")).to_be_visible()
    expect(page.get_by_test_id("signed-out-reason")).to_contain_text("30 minutes")
    page.get_by_role("link", name="Sign in again").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
