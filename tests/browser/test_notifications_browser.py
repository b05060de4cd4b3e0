"""Notifications in Chromium: the header's unread count, the Notifications page and marking read, the hub's
Emails not sent page with Send again; each page passes axe (WCAG 2.2 A and AA)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.db import db, utcnow
from portal.models import InAppNotification, Notification
from portal.notifications.services import link
from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.test_journey_browser import sign_in, sign_out
from tests.factories import create_user

pytestmark = pytest.mark.browser


def test_reading_notifications_and_sending_an_email_again(live_app, browser_page):
    page, base = browser_page, live_app.config["LIVE_URL"]
    with live_app.app_context():
        officer = create_user("officer", email="olu@example.test")
        hub = create_user("admin", la_code=None, email="hub@example.test")
        start = utcnow() - timedelta(hours=1)
        db.session.add_all([InAppNotification(
            user_id=officer.id, kind="offer_received", template="offer_received",
            personalisation={"provider": f"Provider {i}", "summary": "Male, age 11", "link": link("auth.account")},
            created_at=start + timedelta(minutes=i)) for i in range(2)])
        db.session.add(Notification(user_id=officer.id, kind="offer_received", template="offer_received",
                                    personalisation={"provider": "P", "summary": "Male, age 11",
                                                     "link": link("auth.account")},
                                    status="dead", attempts=8, last_error="SMTPRecipientsRefused"))
        db.session.commit()

    sign_in(page, base, "olu@example.test")
    expect(page.get_by_test_id("unread-count")).to_have_text("(2 unread)")
    page.get_by_test_id("notifications-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    assert_no_axe_violations(page, context="notifications")
    newest = page.locator("[data-notification]").first
    expect(newest).to_contain_text("New offer from Provider 1 for Male, age 11")
    newest.get_by_role("button", name="Mark as read").click()
    expect(page.get_by_test_id("unread-count")).to_have_text("(1 unread)")
    page.get_by_test_id("mark-all-read").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("1 notification marked as read.")
    expect(page.get_by_test_id("unread-count")).to_have_count(0)
    assert_no_axe_violations(page, context="notifications-read")
    sign_out(page)

    sign_in(page, base, "hub@example.test")
    page.goto(f"{base}/admin/notifications")
    assert_no_axe_violations(page, context="emails-not-sent")
    page.get_by_test_id("send-again").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The email will be sent again")
    expect(page.get_by_test_id("send-again")).to_have_count(0)
    assert_no_axe_violations(page, context="emails-not-sent-after")
