"""A commissioner builds, saves, runs and compares two what-if scenarios in Chromium (issue 13 §1): items added and
removed without losing what was typed, a mistake shown beside its field, the figures side by side."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.test_journey_browser import sign_in
from tests.factories import COVENTRY, create_provider, create_request, create_setting, create_user, create_vacancy

pytestmark = pytest.mark.browser


def _build(page, base: str, name: str, places: str, *, second_item: bool = False) -> None:
    page.goto(f"{base}/market/whatif")
    page.get_by_test_id("new-scenario").click()
    page.get_by_label("Scenario name").fill(name)
    page.locator('[name="items-0-places"]').fill(places)
    page.locator('[name="items-0-kind"]').select_option("agency_foster")
    page.locator('[name="items-0-la"]').select_option(COVENTRY)
    page.locator('[name="items-0-fee_gbp_week"]').fill("900")
    if second_item:
        page.get_by_test_id("add-item").click()
        expect(page.locator('[name="items-0-places"]')).to_have_value(places)  # kept as typed
        page.locator('[name="items-1-places"]').fill("4")
        page.locator('[name="items-1-kind"]').select_option("residential")
        page.locator('[name="items-1-postcode"]').fill("B1 1AA")
        page.get_by_test_id("remove-1").click()
        expect(page.locator('[name="items-1-places"]')).to_have_count(0)
        expect(page.get_by_label("Scenario name")).to_have_value(name)
    page.get_by_test_id("save-scenario").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    page.get_by_label("Today's open requests").check()
    page.get_by_test_id("run-scenario").click()
    expect(page.get_by_test_id("run-open").get_by_text("Computed")).to_be_visible()


def test_a_commissioner_builds_saves_and_compares_two_scenarios(live_app, browser_page):
    page, base = browser_page, live_app.config["LIVE_URL"]
    live_app.config["SUPPRESSION_THRESHOLD"] = 0  # a region of three children: show every figure
    with live_app.app_context():
        officer = create_user("officer", la_code=COVENTRY)
        for k in range(3):
            create_request(officer, first_name=f"Child{k}")
        create_vacancy(create_setting(create_provider(), postcode="CV2 4GA"), places=1)
        email = create_user("commissioner", la_code=None).email
    sign_in(page, base, email)

    # A mistake is shown beside its field, with what was typed kept.
    page.goto(f"{base}/market/whatif/new")
    page.get_by_label("Scenario name").fill("Too few")
    page.locator('[name="items-0-places"]').fill("0")
    page.get_by_test_id("save-scenario").click()
    expect(page.get_by_role("alert").get_by_text("Number of places must be between 1 and 200")).to_be_visible()
    expect(page.get_by_label("Scenario name")).to_have_value("Too few")
    assert_no_axe_violations(page, context="whatif-form-error")

    _build(page, base, "One more place", "1", second_item=True)
    _build(page, base, "Two more places", "2")

    page.goto(f"{base}/market/whatif")
    page.get_by_label("Compare One more place").check()
    page.get_by_label("Compare Two more places").check()
    page.get_by_test_id("compare").click()
    expect(page.get_by_role("heading", name="Compare scenarios")).to_be_visible()
    table = page.locator('[data-table="comparison"]')
    expect(table).to_be_visible()
    headers = table.locator("thead th").all_inner_texts()[1:]
    placed = table.locator('[data-row="placed"] td').all_inner_texts()
    by_column = dict(zip(headers, placed))
    assert by_column["One more place: without"] == "1" and by_column["Two more places: without"] == "1"
    assert by_column["One more place: difference"] == "1" and by_column["Two more places: difference"] == "2"
    expect(page.get_by_test_id("compare-csv")).to_be_visible()
    assert_no_axe_violations(page, context="whatif-compare")
