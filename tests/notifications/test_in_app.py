"""In-app notifications mirror every email (issue 17 §2): the Notifications page (one's own, newest first, paged),
mark as read (one or all; POST; idempotent), the unread count in every signed-in page's header; and the hub's
Send again for a given-up email. Both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from portal import create_app
from portal.db import utcnow
from portal.models import AuditEvent, InAppNotification, Notification, NotificationPreference
from portal.notifications import worker
from portal.notifications.senders import configured_sender
from portal.notifications.services import link
from tests.conftest import AuthActions
from tests.factories import create_provider, create_request, create_setting, create_user, create_vacancy
from tests.pages import get_page, post_page


def _signed_in(app, user):
    client = app.test_client()
    AuthActions(client).sign_in(user)
    return client


def _notify(db_session, user, n: int, *, start=None):
    """`n` in-app notifications for `user`, a minute apart, the last newest."""
    start = start or utcnow() - timedelta(hours=1)
    rows = [InAppNotification(user_id=user.id, kind="offer_received", template="offer_received",
                              personalisation={"provider": f"Provider {i}", "summary": "Male, age 11",
                                               "link": link("auth.account")},
                              created_at=start + timedelta(minutes=i)) for i in range(n)]
    db_session.add_all(rows)
    db_session.commit()
    return rows


def _badge(page) -> str:
    """The header's unread count as read aloud: "(3 unread)"."""
    return page.testid("unread-count").replace(" )", ")")


def _unread(db_session, user) -> int:
    db_session.rollback()
    return db_session.scalar(select(func.count()).select_from(InAppNotification).where(
        InAppNotification.user_id == user.id, InAppNotification.read_at.is_(None)))


def test_every_email_has_its_in_app_copy_even_a_kind_turned_off(app, smtp, db_session):
    officer = create_user("officer")
    req = create_request(officer, first_name="Zebedee", last_name="Quartermaine", age=11, sex="male")
    provider = create_provider(name="Quiet Care")
    quiet = create_user("provider", provider=provider, provider_role="admin", email="quiet@example.test")
    create_vacancy(create_setting(provider, postcode="CV2 4GA"))
    db_session.add(NotificationPreference(user_id=quiet.id, kind="referral_received", choice="off"))
    db_session.commit()
    assert _signed_in(app, officer).post(f"/requests/{req.id}/referrals", data={"providers": [provider.id]}).status_code == 302
    worker.send_due(configured_sender(app.config))
    assert smtp.inbox.to("quiet@example.test") == []  # not emailed ...
    page = get_page(_signed_in(app, quiet), "/notifications")  # ... but on the page, the record of it
    (item,) = page.soup.select("[data-notification]")
    assert "New referral: Male, age 11" in item.get_text()
    assert item.find("a")["href"].startswith("/provider/referrals/")
    assert _badge(page) == "(1 unread)"
    assert "Zebedee" not in page.html


def test_the_page_lists_ones_own_newest_first_paged_and_marks_them_read(app, db_session, monkeypatch):
    monkeypatch.setattr("portal.listing.PER_PAGE", 3)
    me, someone = create_user("officer"), create_user("officer")
    mine = _notify(db_session, me, 4)
    theirs = _notify(db_session, someone, 2)
    client = _signed_in(app, me)
    page = get_page(client, "/notifications")
    items = page.soup.select("[data-notification]")
    assert [i["data-notification"] for i in items] == [mine[3].id, mine[2].id, mine[1].id]  # newest first
    assert "New offer from Provider 3 for Male, age 11" in items[0].get_text()
    assert page.testid("in-app-count") == "Showing 1 to 3 of 4 notifications"
    assert [i["data-notification"] for i in get_page(client, "/notifications?page=2").soup.select(
        "[data-notification]")] == [mine[0].id]
    assert theirs[0].id not in page.html and _badge(page) == "(4 unread)"

    # Mark one read, twice: the second changes nothing. Another person's, or none, is a 404 and stays unread.
    assert client.post(f"/notifications/{mine[3].id}/read").status_code == 302
    read_at = db_session.get(InAppNotification, mine[3].id).read_at
    assert read_at is not None and _unread(db_session, me) == 3
    assert client.post(f"/notifications/{mine[3].id}/read").status_code == 302
    assert db_session.get(InAppNotification, mine[3].id).read_at == read_at
    assert client.post(f"/notifications/{theirs[0].id}/read").status_code == 404
    assert client.post("/notifications/nosuchnotification/read").status_code == 404
    assert _unread(db_session, someone) == 2
    assert client.get(f"/notifications/{mine[2].id}/read").status_code == 405  # a POST only

    # The header of any signed-in page shows the count.
    assert _badge(get_page(client, "/account")) == "(3 unread)"
    page = get_page(client, client.post("/notifications/read").headers["Location"])
    assert "3 notifications marked as read." in " ".join(page.banners)
    assert _badge(page) == "" and _unread(db_session, me) == 0
    assert _unread(db_session, someone) == 2  # only one's own
    again = get_page(client, client.post("/notifications/read").headers["Location"])
    assert "You have no unread notifications." in " ".join(again.banners)


def test_the_header_count_is_one_indexed_query(app, db_session):
    """On every signed-in page the count costs one statement, over ix_in_app_notification_unread."""
    me = create_user("officer")
    _notify(db_session, me, 2)
    client = _signed_in(app, me)
    engine = app.extensions["portal_db"][0]
    seen = []

    def _record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    try:
        assert _badge(get_page(client, "/account")) == "(2 unread)"
    finally:
        event.remove(engine, "before_cursor_execute", _record)
    counts = [s for s in seen if "in_app_notification" in s]
    assert len(counts) == 1 and "count(" in counts[0].lower()
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT count(*) FROM in_app_notification WHERE user_id = ? AND read_at IS NULL",
                (me.id,)))
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: show the index is usable
            plan = " ".join(str(row) for row in conn.exec_driver_sql(
                "EXPLAIN SELECT count(*) FROM in_app_notification WHERE user_id = %s AND read_at IS NULL",
                (me.id,)))
    assert "ix_in_app_notification_unread" in plan


@pytest.fixture
def csrf_app(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": True})
    yield app
    app.extensions["portal_db"][0].dispose()


def test_marking_read_needs_the_csrf_token(csrf_app):
    with csrf_app.app_context():
        me = create_user("officer")
        from portal.db import db

        (row,) = _notify(db.session, me, 1)
    client = csrf_app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/sign-in", data={"email": me.email, "password": "password", "csrf_token": token})
    code = AuthActions.code_for(me)
    page = client.get("/sign-in/security-code").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/sign-in/security-code", data={"code": code, "csrf_token": token}).status_code == 302
    assert client.post(f"/notifications/{row.id}/read").status_code == 400
    page = client.get("/notifications").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post(f"/notifications/{row.id}/read", data={"csrf_token": token}).status_code == 302
    with csrf_app.app_context():
        from portal.db import db

        assert db.session.get(InAppNotification, row.id).read_at is not None


def _dead_letter(db_session, user) -> Notification:
    row = Notification(user_id=user.id, kind="offer_received", template="offer_received",
                       personalisation={"provider": "P", "summary": "Male, age 11", "link": link("auth.account")},
                       status="dead", attempts=8, last_error="SMTPRecipientsRefused")
    db_session.add(row)
    db_session.commit()
    return row


def test_the_hub_sends_a_given_up_email_again_once(app, smtp, db_session):
    hub = create_user("admin", la_code=None)
    officer = create_user("officer", email="olu@example.test")
    dead = _dead_letter(db_session, officer)
    client = _signed_in(app, hub)
    page = get_page(client, "/admin/notifications")
    assert page.soup.select_one(f'[data-notification="{dead.id}"] [data-testid="send-again"]') is not None
    assert client.post(f"/admin/notifications/{dead.id}/send-again").status_code == 302
    db_session.rollback()
    row = db_session.get(Notification, dead.id)
    assert (row.status, row.attempts) == ("queued", 0)
    event_ = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "send_notification_again"))
    assert (event_.user_id, event_.record_id, event_.detail) == (hub.id, dead.id, "template:offer_received")
    again = post_page(client, f"/admin/notifications/{dead.id}/send-again", status=409)
    assert "no longer given up" in again.text
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "send_notification_again")) == 1
    assert worker.send_due(configured_sender(app.config)).sent == 1
    assert len(smtp.inbox.to("olu@example.test")) == 1
    assert client.post(f"/admin/notifications/{dead.id}/send-again").status_code == 409  # sent: not dead
    assert client.post("/admin/notifications/nosuch/send-again").status_code == 404
    assert _signed_in(app, officer).post(f"/admin/notifications/{dead.id}/send-again").status_code == 403
