"""A sibling group of two placed from one offer, in Chromium (issue 11 §2): the officer refers the brother and
sister together, the provider sees one anonymised referral for both and offers one home, and accepting it places
both children in that home."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.models import Placement, SiblingGroup
from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.test_journey_browser import sign_in, sign_out
from tests.factories import create_provider, create_request, create_setting, create_user, create_vacancy

pytestmark = pytest.mark.browser


def test_a_brother_and_sister_are_placed_together_from_one_offer(live_app, browser_page):
    page, base = browser_page, live_app.config["LIVE_URL"]
    with live_app.app_context():
        officer = create_user("officer", email="officer@example.test")
        boy = create_request(officer, first_name="Jayden", last_name="Cole", age=11, sex="male",
                             needs=["therapeutic_support"], risks=["going_missing"])
        girl = create_request(officer, first_name="Maya", last_name="Cole", age=8, sex="female")
        group = SiblingGroup(la_code=officer.la_code, together=True)
        db.session.add(group)
        db.session.flush()
        boy.sibling_group_id = girl.sibling_group_id = group.id
        db.session.commit()
        agency = create_provider(name="Arden Fostering")
        create_vacancy(create_setting(agency, postcode="CV2 4GA", name="Willow household",
                                      needs_met=["therapeutic_support"], risks_managed=["going_missing"]), places=2)
        create_vacancy(create_setting(agency, postcode="CV2 4GA", name="Rowan household",
                                      needs_met=["therapeutic_support"], risks_managed=["going_missing"]), places=1)
        create_user("provider", provider=agency, email="provider@example.test")
        boy_id, girl_id = boy.id, girl.id

    sign_in(page, base, officer.email)
    page.goto(f"{base}/requests/{girl_id}")
    expect(page.get_by_test_id("sibling-unit")).to_contain_text("matched as one unit")
    matches = page.get_by_test_id("matches-table")
    expect(matches).to_contain_text("Willow household")
    expect(matches).not_to_contain_text("Rowan household")  # one place: not enough for both
    page.get_by_label("Send to Arden Fostering").check()
    page.get_by_test_id("send-selected").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Referral sent to 1 provider")
    sign_out(page)

    sign_in(page, base, "provider@example.test")
    page.get_by_role("link", name=re.compile(r"Sibling group of 2: boy 11, girl 8")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sibling group of 2: boy 11, girl 8")
    expect(page.get_by_test_id("sibling-group")).to_contain_text("one offer is for all 2 children")
    assert "Jayden" not in page.content() and "Maya" not in page.content()
    assert_no_axe_violations(page, context="provider-sibling-referral")
    expect(page.get_by_label("Rowan household", exact=False)).to_have_count(0)
    page.get_by_label("Message to the placement officer (optional)").fill("Two bedrooms ready.")
    page.get_by_role("button", name="Make offer").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Offer made")
    sign_out(page)

    sign_in(page, base, officer.email)
    page.goto(f"{base}/requests/{boy_id}")
    expect(page.get_by_test_id("offers-table")).to_contain_text("Two bedrooms ready.")
    page.get_by_test_id("accept-offer").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("all 2 brothers and sisters are placed together")
    expect(page.get_by_test_id("placement-panel")).to_contain_text("Placement recorded")
    page.goto(f"{base}/requests/{girl_id}")
    expect(page.get_by_test_id("placement-panel")).to_contain_text("Placement recorded")
    expect(page.get_by_test_id("sibling-list")).to_contain_text("Willow household")

    with live_app.app_context():
        placements = db.session.query(Placement).all()
        assert sorted(p.request_id for p in placements) == sorted([boy_id, girl_id])
        assert len({p.setting_id for p in placements}) == 1
        assert {p.siblings_placed_together for p in placements} == {2}
