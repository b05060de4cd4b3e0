"""An offer's fee follows the vacancy chosen in Chromium (issue 11 §6): choosing another vacancy fills in its
fee, and what the provider typed is kept."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_journey_browser import sign_in
from tests.factories import create_setting, create_vacancy
from tests.providers.helpers import scene

pytestmark = pytest.mark.browser


def test_choosing_another_vacancy_fills_in_its_fee(live_app, browser_page):
    page, base = browser_page, live_app.config["LIVE_URL"]
    with live_app.app_context():
        s = scene(needed_in_days=5)
        create_vacancy(create_setting(s.provider, postcode="CV2 4GA", name="Rowan household",
                                      needs_met=["therapeutic_support"]), places=1, fee_gbp_week="840")
        referral_id, email = s.referral.id, s.manager.email
    sign_in(page, base, email)
    page.goto(f"{base}/provider/referrals/{referral_id}")
    fee = page.get_by_label("Weekly fee in pounds")
    willow = page.get_by_label("Willow household", exact=False)
    rowan = page.get_by_label("Rowan household", exact=False)
    willow.check()
    expect(fee).to_have_value("880.00")
    rowan.check()
    expect(fee).to_have_value("840.00")
    willow.check()
    expect(fee).to_have_value("880.00")
    fee.fill("865")
    rowan.check()
    expect(fee).to_have_value("865")  # typed by the provider: kept
    page.get_by_role("button", name="Make offer").click()
    expect(page.get_by_text("Rowan household: £865 a week")).to_be_visible()
