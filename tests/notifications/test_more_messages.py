"""What is sent, to whom (issue 17 §2, the rest): a referral changed, a sibling group split, an agreement to sign,
an agreement signed, a vacancy about to go stale, a placement about to start, a sign-in from a new device. Through
the pages people use, with a real SMTP server on loopback; both databases."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.db import utcnow
from portal.models import InAppNotification, KnownDevice, Notification, NotificationPreference, Placement, Referral
from portal.notifications import worker
from portal.notifications.reminders import queue_reminders
from portal.notifications.senders import configured_sender
from portal.unit_of_work import unit_of_work
from tests.conftest import AuthActions
from tests.factories import create_offer, create_provider, create_referral, create_request, create_setting, create_user, create_vacancy
from tests.requests.test_request_life import NEEDS_BSL
from tests.smtp import body


def _deliver(app):
    return worker.send_due(configured_sender(app.config))


def _signed_in(app, user):
    client = app.test_client()
    AuthActions(client).sign_in(user)
    return client


def _subjects(smtp, address: str) -> list[str]:
    return sorted(m["Subject"] for m in smtp.inbox.to(address))


def _count(db_session, model, *where) -> int:
    db_session.rollback()
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def _a_live_offer(db_session, **child):
    officer = create_user("officer", email="olu@example.test", name="Olu Officer")
    req = create_request(officer, first_name="Zebedee", last_name="Quartermaine", home_postcode="CV1 2AB", age=11,
                         sex="male", **child)
    provider = create_provider(name="Acorn Fostering")
    boss = create_user("provider", provider=provider, provider_role="admin", email="bo@example.test", name="Bo Boss")
    create_user("provider", provider=provider, provider_role="manager", email="mo@example.test")
    create_user("provider", provider=provider, provider_role="staff", email="sid@example.test")
    vacancy = create_vacancy(create_setting(provider, postcode="CV2 4GA", needs_met=["bsl"]))
    referral = create_referral(req, provider)
    offer = create_offer(referral, vacancy)
    return officer, req, provider, boss, referral, offer


def test_a_change_an_acceptance_and_the_signature_are_each_told_once(app, smtp, db_session):
    officer, req, provider, boss, referral, offer = _a_live_offer(db_session)
    as_officer = _signed_in(app, officer)
    # A change of circumstances the providers see: both who answer referrals are told, once each; staff are not.
    assert as_officer.post(f"/requests/{req.id}/edit/needs", data=NEEDS_BSL).status_code == 302
    assert as_officer.post(f"/requests/{req.id}/edit/risks", data={"action": "continue"}).status_code == 302  # no change
    assert _deliver(app).sent == 2
    (changed,) = smtp.inbox.to("mo@example.test")
    assert changed["Subject"] == "Referral changed: Male, age 11"
    assert "Coventry has changed its referral for Male, age 11: Needs." in body(changed)
    assert f"https://portal.example.test/provider/referrals/{referral.id}" in body(changed)
    assert "British Sign Language" not in body(changed)  # what changed is on the referral's page, not emailed
    assert smtp.inbox.to("sid@example.test") == []

    # The acceptance: the decision and, once, the agreement to sign, to the provider's signers.
    assert as_officer.post(f"/requests/{req.id}/offers/{offer.id}/accept").status_code == 302
    assert _deliver(app).sent == 4
    placement = db_session.scalar(select(Placement))
    to_sign = [m for m in smtp.inbox.to("bo@example.test") if m["Subject"].startswith("Placement agreement")]
    assert [m["Subject"] for m in to_sign] == ["Placement agreement to sign: Male, age 11"]
    assert f"https://portal.example.test/placements/{placement.id}" in body(to_sign[0])

    # The provider signs: the officer is told it now needs their signature; the officer's own signature is not
    # emailed to anyone.
    as_boss = _signed_in(app, boss)
    assert as_boss.post(f"/placements/{placement.id}/sign", data={"full_name": "Bo Boss"}).status_code == 302
    assert as_officer.post(f"/placements/{placement.id}/sign", data={"full_name": "Olu Officer"}).status_code == 302
    assert _deliver(app).sent == 1
    (signed,) = [m for m in smtp.inbox.to("olu@example.test") if "signed" in m["Subject"]]
    assert signed["Subject"] == "Placement agreement signed by Acorn Fostering for Male, age 11"
    assert "it now needs your signature" in body(signed)
    assert _deliver(app).attempted == 0  # nothing more, nothing twice
    for address in ("bo@example.test", "mo@example.test", "olu@example.test"):
        subjects = _subjects(smtp, address)
        assert len(subjects) == len(set(subjects)), subjects


def test_the_officer_is_told_when_both_sides_have_signed(app, smtp, db_session):
    officer, req, provider, boss, referral, offer = _a_live_offer(db_session)
    as_officer = _signed_in(app, officer)
    assert as_officer.post(f"/requests/{req.id}/offers/{offer.id}/accept").status_code == 302
    placement = db_session.scalar(select(Placement))
    assert as_officer.post(f"/placements/{placement.id}/sign", data={"full_name": "Olu Officer"}).status_code == 302
    assert _signed_in(app, boss).post(f"/placements/{placement.id}/sign", data={"full_name": "Bo Boss"}).status_code == 302
    _deliver(app)
    (signed,) = [m for m in smtp.inbox.to("olu@example.test") if "signed" in m["Subject"]]
    assert "both sides have signed, so it is now locked" in body(signed)


def test_splitting_a_sibling_group_tells_its_providers_and_names_no_child(app, smtp, db_session):
    officer = create_user("officer")
    boy = create_request(officer, first_name="Jayden", last_name="Cole", age=11, sex="male")
    girl = create_request(officer, first_name="Maya", last_name="Cole", age=8, sex="female")
    provider = create_provider(name="Arden Fostering")
    create_user("provider", provider=provider, provider_role="admin", email="arden@example.test")
    create_vacancy(create_setting(provider, postcode="CV2 4GA"), places=2)
    as_officer = _signed_in(app, officer)
    assert as_officer.post(f"/requests/{boy.id}/siblings", data={"child_reference": girl.child_reference,
                                                                  "together": "y"}).status_code == 302
    assert as_officer.post(f"/requests/{boy.id}/referrals", data={"providers": [provider.id]}).status_code == 302
    referral = db_session.scalar(select(Referral))
    _deliver(app)
    reason = "Maya Cole needs a placement of her own"
    assert as_officer.post(f"/requests/{girl.id}/siblings/split", data={"reason": reason}).status_code == 302
    assert as_officer.post(f"/requests/{girl.id}/siblings/split", data={"reason": reason}).status_code == 409
    assert _deliver(app).sent == 1
    split = [m for m in smtp.inbox.to("arden@example.test") if "placed apart" in m["Subject"]]
    assert [m["Subject"] for m in split] == ["Referral closed: sibling group of 2 to be placed apart"]
    text = body(split[0])
    assert f"https://portal.example.test/provider/referrals/{referral.id}" in text
    for secret in ("Maya", "Jayden", "Cole", "placement of her own", "boy 11", "girl 8"):
        assert secret not in text and secret not in split[0]["Subject"], secret


def _placement_starting(db_session, *, in_days: int):
    officer, req, provider, boss, referral, offer = _a_live_offer(db_session)
    offer.start_date = date.today() + timedelta(days=in_days)
    db_session.commit()
    return officer, req, offer, provider


def test_reminders_are_queued_once_however_often_the_daily_step_runs(app, smtp, db_session):
    app.config.update(VACANCY_STALE_DAYS=14, VACANCY_REMINDER_DAYS=3, PLACEMENT_REMINDER_DAYS=2)
    officer, req, offer, provider = _placement_starting(db_session, in_days=1)
    assert _signed_in(app, officer).post(f"/requests/{req.id}/offers/{offer.id}/accept").status_code == 302
    later = create_request(officer, age=9, sex="female")
    far = create_offer(create_referral(later, provider), create_vacancy(create_setting(provider)))
    far.start_date = date.today() + timedelta(days=5)  # too far off to remind yet
    db_session.commit()
    assert _signed_in(app, officer).post(f"/requests/{later.id}/offers/{far.id}/accept").status_code == 302
    # Vacancies: one going stale in 2 days, one confirmed today, one stale already.
    home = create_setting(provider, name="Larch household")
    soon, fresh, stale = (create_vacancy(home) for _ in range(3))
    now = utcnow()
    soon.confirmed_at, fresh.confirmed_at, stale.confirmed_at = (now - timedelta(days=12), now,
                                                                 now - timedelta(days=20))
    db_session.commit()
    _deliver(app)
    before = len(smtp.inbox.messages)

    with app.app_context():
        with unit_of_work():
            first = queue_reminders()
        with unit_of_work():
            second = queue_reminders()
    assert (first.vacancies, first.placements) == (2, 1)  # the admin and manager; the officer
    assert (second.vacancies, second.placements) == (0, 0)
    result = app.test_cli_runner().invoke(args=["notifications", "remind"])
    assert result.exit_code == 0 and "0 about vacancies going stale, 0 about placements starting" in result.output
    assert _deliver(app).sent == 3
    new = smtp.inbox.messages[before:]
    assert sorted(m["Subject"] for m in new if m["To"] == "mo@example.test") == \
        [f"Confirm your vacancy at Larch household by {(now + timedelta(days=2)).day}"
         f" {(now + timedelta(days=2)):%B %Y}"]
    (starting,) = [m for m in new if m["To"] == "olu@example.test"]
    assert starting["Subject"] == f"Placement starting {(date.today() + timedelta(days=1)).day} " \
                                  f"{date.today() + timedelta(days=1):%B %Y}: Male, age 11"
    assert "Zebedee" not in body(starting) and "Acorn Fostering" in body(starting)

    # Confirmed again, the vacancy is reminded again before it next goes stale (a new confirmation, a new key).
    db_session.rollback()
    db_session.get(type(soon), soon.id).confirmed_at = utcnow() - timedelta(days=11, hours=23)
    db_session.commit()
    with app.app_context():
        with unit_of_work():
            assert queue_reminders().vacancies == 2


def test_two_reminder_runs_racing_queue_each_reminder_once(app, db_session):
    """Two hosts run the daily step at once: the second's insert waits at the unique index (PostgreSQL) or for
    the write lock (SQLite) until the first commits, and then queues nothing."""
    officer, req, offer, _ = _placement_starting(db_session, in_days=0)
    assert _signed_in(app, officer).post(f"/requests/{req.id}/offers/{offer.id}/accept").status_code == 302
    inserted, results = threading.Event(), []

    def first():
        with app.app_context():
            with unit_of_work():
                results.append(queue_reminders().placements)
                inserted.set()
                time.sleep(1.0)  # still uncommitted while the second run starts

    def second():
        inserted.wait(10)
        with app.app_context():
            with unit_of_work():
                results.append(queue_reminders().placements)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [1, 0]
    assert _count(db_session, Notification, Notification.template == "placement_starting") == 1
    assert _count(db_session, InAppNotification, InAppNotification.template == "placement_starting") == 1


def test_a_reminder_turned_off_for_email_is_still_recorded_in_app_and_not_again(app, smtp, db_session):
    officer, req, offer, _ = _placement_starting(db_session, in_days=2)
    db_session.add(NotificationPreference(user_id=officer.id, kind="placement_starting", choice="off"))
    db_session.commit()
    assert _signed_in(app, officer).post(f"/requests/{req.id}/offers/{offer.id}/accept").status_code == 302
    with app.app_context():
        for _ in range(2):
            with unit_of_work():
                assert queue_reminders().placements == 0
    _deliver(app)
    assert [m for m in smtp.inbox.to("olu@example.test") if m["Subject"].startswith("Placement starting")] == []
    assert _count(db_session, InAppNotification, InAppNotification.user_id == officer.id,
                  InAppNotification.template == "placement_starting") == 1


def test_a_sign_in_from_a_new_device_is_emailed_and_cannot_be_turned_off(app, smtp, db_session):
    user = create_user("provider", provider=create_provider(), provider_role="admin", email="p@example.test")
    laptop = app.test_client()
    AuthActions(laptop).sign_in(user)  # the account's first device: nothing to tell
    cookie = laptop.get_cookie("portal_device")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    AuthActions(laptop).sign_out()
    AuthActions(laptop).sign_in(user)  # the same browser again
    assert _deliver(app).sent == 0
    phone = _signed_in(app, user)  # another browser
    page = phone.get("/account/emails").get_data(as_text=True)
    assert 'name="new_sign_in"' not in page and "New sign-in to your West Midlands placement portal account" in page
    assert _deliver(app).sent == 1
    (told,) = smtp.inbox.to("p@example.test")
    assert told["Subject"] == "New sign-in to your West Midlands placement portal account"
    assert "https://portal.example.test/account" in body(told)
    stored = set(db_session.scalars(select(KnownDevice.token_hash).where(KnownDevice.user_id == user.id)))
    assert len(stored) == 2 and cookie.value not in stored  # only hashes are kept
    AuthActions(phone).sign_out()
    AuthActions(phone).sign_in(user)
    assert _deliver(app).sent == 0


def test_a_change_that_rolls_back_sends_nothing_and_records_nothing(app, smtp, db_session):
    from portal.db import db
    from portal.errors import Conflict
    from portal.models import User
    from portal.notifications.services import link, queue_notification

    user = create_user("officer", email="o@example.test")
    with app.app_context():
        with unit_of_work() as work:
            queue_notification(db.session.get(User, user.id), "placement_starting", provider="P", summary="Male, age 11",
                               start_date="today", link=link("auth.account"))
            raise Conflict("lost a race")
    assert not work.ok
    assert _deliver(app).attempted == 0 and smtp.inbox.messages == []
    assert _count(db_session, InAppNotification) == 0
