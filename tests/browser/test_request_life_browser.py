"""A request's life in Chromium: the officer submits through "Check your answers", then the child's needs change
after submission, and the request page shows the matches ranked again (a home that cannot meet the new need is
gone, one that can is still there) with the change recorded."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import PlacementRequest
from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.test_journey_browser import sign_in
from tests.factories import create_provider, create_request, create_setting, create_user, create_vacancy

pytestmark = pytest.mark.browser


def test_submit_through_check_answers_then_change_needs_and_see_the_new_ranking(live_app, browser_page):
    page, base = browser_page, live_app.config["LIVE_URL"]
    with live_app.app_context():
        officer = create_user("officer", email="officer@example.test", name="Olivia Officer")
        draft = create_request(officer, first_name="Amara", last_name="Okafor", status="draft")
        stored = db.session.get(PlacementRequest, draft.id)
        stored.completed_sections = ["child", "location", "timing", "suitability"]
        db.session.commit()
        create_vacancy(create_setting(create_provider(name="Signing Fostering"), postcode="CV2 4GA",
                                      name="Willow household", needs_met=["bsl"]))
        create_vacancy(create_setting(create_provider(name="Plain Fostering"), postcode="CV1 5FB",
                                      name="Oak household"))
        request_id = draft.id

    sign_in(page, base, officer.email)
    page.goto(f"{base}/requests/{request_id}/edit")
    page.get_by_test_id("check-answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers before you submit")
    expect(page.get_by_test_id("answers-child")).to_contain_text("Amara")
    assert_no_axe_violations(page, context="check-answers")
    page.get_by_test_id("submit-request").click()

    matches = page.get_by_test_id("matches-table")
    expect(matches).to_contain_text("Willow household")
    expect(matches).to_contain_text("Oak household")

    # The child's needs change: from the request page, "Change", then the Needs section's own Change link.
    page.get_by_test_id("change-request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The request's answers")
    page.get_by_test_id("answers-needs").get_by_role("link", name="Change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Needs")
    page.get_by_label("British Sign Language (BSL)").check()
    page.get_by_role("button", name="Save and continue").click()

    # Back on check your answers, told the matches were ranked again; the request page shows the new ranking.
    expect(page.get_by_role("heading", level=1)).to_have_text("The request's answers")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Needs: changed. The matches have been ranked again.")
    expect(page.get_by_test_id("answers-needs")).to_contain_text("British Sign Language (BSL)")
    page.get_by_role("link", name="Back to the matches and offers").click()
    matches = page.get_by_test_id("matches-table")
    expect(matches).to_contain_text("Willow household")
    expect(matches).not_to_contain_text("Oak household")
    expect(page.get_by_test_id("changes")).to_contain_text("Needs changed by Olivia Officer")
    assert_no_axe_violations(page, context="request-changed")
