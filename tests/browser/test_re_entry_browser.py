"""Re-entry to care in Chromium: a request's task list says the child may have been in care before, the officer
opens the earlier placements, confirms one and sees the request recorded as a re-entry; undo takes it back."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import Placement, PlacementRequest
from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.test_journey_browser import sign_in
from tests.factories import create_request, create_user

pytestmark = pytest.mark.browser


def test_confirm_an_earlier_placement_then_undo(live_app, browser_page):
    page, base = browser_page, live_app.config["LIVE_URL"]
    with live_app.app_context():
        officer = create_user("officer", email="officer@example.test")
        then = create_request(officer, first_name="Amara", last_name="Okafor", status="placed")
        now = create_request(officer, first_name="Amara", last_name="Okafor", status="draft")
        db.session.get(PlacementRequest, now.id).child_reference = then.child_reference
        db.session.add(Placement(
            request_id=then.id, la_code=then.la_code, start_date=date.today() - timedelta(days=300),
            end_date=date.today() - timedelta(days=60), end_reason="E4A", placement_type="U6", provider_code="PR4",
            distance_miles=Decimal("2.0"), inside_la=True, over_20_miles=False))
        db.session.commit()
        request_id = now.id

    sign_in(page, base, officer.email)
    page.goto(f"{base}/requests/{request_id}/edit")
    notice = page.get_by_test_id("earlier-care-notice")
    expect(notice).to_contain_text("This child may have been in care before")
    notice.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Earlier placements of this child")
    card = page.get_by_test_id("earlier-placement")
    expect(card).to_contain_text("The same child reference")
    expect(card).to_contain_text("Returned home")
    assert_no_axe_violations(page, context="earlier-placements")

    card.get_by_role("button", name="This is the same child").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Recorded: the same child")
    expect(page.get_by_test_id("re-entry")).to_contain_text("This request is a re-entry to care")
    page.get_by_role("link", name="Back to the task list").first.click()
    expect(page.get_by_test_id("re-entry")).to_contain_text("Re-entry to care")

    page.goto(f"{base}/requests/{request_id}/earlier-placements")
    page.get_by_test_id("undo").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Answer taken back")
    expect(page.get_by_test_id("confirm")).to_be_visible()
