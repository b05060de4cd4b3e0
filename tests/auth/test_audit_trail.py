"""Audit you can rely on (issue 15 §8): every event has its source address; a refused attempt on a child's record
that exists is audited too (and kept although the request fails); the audit table is append-only in the database
itself, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from portal.db import db
from portal.models import AuditEvent
from tests.factories import (
    BIRMINGHAM, create_connected_person, create_offer, create_provider, create_referral, create_request,
    create_setting, create_user, create_vacancy,
)
from tests.placements.placement_factories import create_offer_placement


def _events(db_session, **where):
    query = select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return db_session.scalars(query).all()


# ------------------------------------------------------------------------------------------ append-only

def _one_event(db_session) -> int:
    event = AuditEvent(record_type="placement_request", record_id="r1", action="view", outcome="allowed",
                       user_name="Ann Auditor", source_address="192.0.2.1")
    db_session.add(event)
    db_session.commit()
    return event.id


def test_a_normal_insert_works(db_session):
    event_id = _one_event(db_session)
    db_session.expire_all()
    assert db_session.get(AuditEvent, event_id).user_name == "Ann Auditor"


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET outcome = 'allowed', user_name = 'Someone Else' WHERE id = :id",
    "UPDATE audit_event SET source_address = NULL",
    "DELETE FROM audit_event WHERE id = :id",
    "DELETE FROM audit_event",
])
def test_the_database_refuses_to_change_or_delete_an_event(db_session, statement):
    event_id = _one_event(db_session)
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(text(statement), {"id": event_id})
        db_session.commit()
    db_session.rollback()
    rows = db_session.execute(text("SELECT user_name, source_address FROM audit_event")).all()
    assert [tuple(row) for row in rows] == [("Ann Auditor", "192.0.2.1")]


def test_the_orm_cannot_change_or_delete_an_event_either(db_session):
    event_id = _one_event(db_session)
    event = db_session.get(AuditEvent, event_id)
    event.outcome = "allowed-after-all"
    with pytest.raises(DBAPIError):
        db_session.commit()
    db_session.rollback()
    db_session.delete(db_session.get(AuditEvent, event_id))
    with pytest.raises(DBAPIError):
        db_session.commit()
    db_session.rollback()
    db_session.expire_all()
    assert db_session.get(AuditEvent, event_id).outcome == "allowed"


# ------------------------------------------------------------------------------------------ source address

def test_every_event_records_the_source_address(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    # (Flask-Login's strong session protection ends a session whose address changes: one address per client.)
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    auth.sign_in(officer)
    client.get(f"/requests/{req.id}")
    client.get(f"/requests/{req.id}/access")
    views = _events(db_session, record_id=req.id)
    assert [(e.action, e.source_address) for e in views] == [("view", "203.0.113.9"),
                                                             ("view_access_log", "203.0.113.9")]
    assert {e.source_address for e in _events(db_session)} == {"203.0.113.9"}  # the sign-in's own events too


def test_an_event_written_outside_a_request_has_no_source_address(app, db_session):
    from portal.auth.permissions import audit
    from portal.unit_of_work import unit_of_work

    with unit_of_work():
        audit(None, "allocation_run", "allocation_run", "run-1")
    assert _events(db_session, action="allocation_run")[0].source_address is None


# ------------------------------------------------------------------------------------- refused attempts

def _refused(db_session):
    return [(e.action, e.record_id, e.user_id, e.outcome, e.source_address)
            for e in _events(db_session, outcome="refused")]


def test_another_las_officer_opening_a_coventry_childs_pages_is_refused_and_audited(client, auth, db_session):
    coventry = create_user("officer")
    req = create_request(coventry, first_name="Zephyrine")
    provider = create_provider()
    offer = create_offer(create_referral(req, provider), create_vacancy(create_setting(provider)))
    person = create_connected_person(req)
    outsider = create_user("officer", la_code=BIRMINGHAM)
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    auth.sign_in(outsider)
    pages = [
        ("get", f"/requests/{req.id}"), ("get", f"/requests/{req.id}/edit"), ("get", f"/requests/{req.id}/edit/child"),
        ("get", f"/requests/{req.id}/access"), ("get", f"/requests/{req.id}/connected-persons"),
        ("post", f"/requests/{req.id}/offers/{offer.id}/accept"),
        ("get", f"/placements/connected/{req.id}/{person.id}"),
    ]
    for method, url in pages:
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
        assert "Zephyrine" not in response.get_data(as_text=True)
    refused = _refused(db_session)
    assert refused == [("view_request", req.id, outsider.id, "refused", "198.51.100.7")] * len(pages)
    details = [e.detail for e in _events(db_session, outcome="refused")]
    assert details[0] == "endpoint:requests.detail" and details[-1] == "endpoint:placements.connected"
    assert all("Zephyrine" not in (d or "") and req.child_reference not in (d or "") for d in details)
    # The Coventry officer sees the refused attempts on the record's access page.
    auth.sign_out()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    auth.sign_in(coventry)
    page = client.get(f"/requests/{req.id}/access").get_data(as_text=True)
    assert page.count("refused") == len(pages)


def test_an_id_that_does_not_exist_is_not_found_and_not_audited(client, auth, db_session):
    auth.sign_in(create_user("officer", la_code=BIRMINGHAM))
    for url in ("/requests/" + "0" * 32, "/placements/" + "0" * 32, "/requests/no-such-id/edit"):
        assert client.get(url).status_code == 404
    assert _refused(db_session) == []


def test_an_offer_of_another_child_through_this_childs_address_is_refused_and_audited(client, auth, db_session):
    officer = create_user("officer")
    mine = create_request(officer)
    birmingham_child = create_request(create_user("officer", la_code=BIRMINGHAM))
    provider = create_provider()
    offer = create_offer(create_referral(birmingham_child, provider), create_vacancy(create_setting(provider)))
    status = offer.status
    auth.sign_in(officer)
    assert client.post(f"/requests/{mine.id}/offers/{offer.id}/accept").status_code == 404
    assert [(a, r) for a, r, *_ in _refused(db_session)] == [("view_offer", birmingham_child.id)]
    db_session.expire_all()
    assert db_session.get(type(offer), offer.id).status == status


def test_another_las_officer_opening_a_placement_is_refused_and_audited(client, auth, db_session):
    op = create_offer_placement()
    outsider = create_user("officer", la_code=BIRMINGHAM)
    auth.sign_in(outsider)
    assert client.get(f"/placements/{op.placement.id}").status_code == 404
    assert client.post(f"/placements/{op.placement.id}/end", data={}).status_code == 404
    events = _events(db_session, outcome="refused")
    assert [(e.action, e.record_id, e.user_id, e.detail) for e in events] == [
        ("view_placement", op.request.id, outsider.id, f"placement:{op.placement.id};endpoint:placements.detail"),
        ("view_placement", op.request.id, outsider.id, f"placement:{op.placement.id};endpoint:placements.end"),
    ]
    assert all(e.source_address == "127.0.0.1" and e.organisation == f"la:{BIRMINGHAM}" for e in events)


def test_another_provider_opening_a_referral_not_sent_to_them_is_refused_and_audited(client, auth, db_session):
    req = create_request(create_user("officer"), first_name="Zephyrine")
    chosen = create_provider()
    offer = create_offer(create_referral(req, chosen), create_vacancy(create_setting(chosen)))
    referral_id = offer.referral_id
    other = create_provider()
    create_setting(other)
    outsider = create_user("provider", provider=other, provider_role="admin")
    auth.sign_in(outsider)
    for response in (client.get(f"/provider/referrals/{referral_id}"),
                     client.post(f"/provider/referrals/{referral_id}", data={"fee_gbp_week": "1"}),
                     client.post(f"/provider/offers/{offer.id}/withdraw")):
        assert response.status_code == 404
        assert "Zephyrine" not in response.get_data(as_text=True)
    events = _events(db_session, outcome="refused")
    assert [(e.action, e.record_id, e.user_id, e.role, e.organisation, e.source_address) for e in events] == [
        ("view_referral", req.id, outsider.id, "provider", f"provider:{other.id}", "127.0.0.1"),
        ("view_referral", req.id, outsider.id, "provider", f"provider:{other.id}", "127.0.0.1"),
        ("view_offer", req.id, outsider.id, "provider", f"provider:{other.id}", "127.0.0.1"),
    ]
    assert events[0].detail == f"referral:{referral_id};endpoint:providers.referral"
    # The provider it was sent to is not refused, and its view is audited as allowed.
    auth.sign_out()
    auth.sign_in(create_user("provider", provider=chosen, provider_role="admin"))
    assert client.get(f"/provider/referrals/{referral_id}").status_code == 200
    assert len(_events(db_session, outcome="refused")) == 3


def test_another_provider_opening_a_placement_is_refused_and_audited(client, auth, db_session):
    op = create_offer_placement()
    outsider = create_user("provider", provider=create_provider(), provider_role="admin")
    auth.sign_in(outsider)
    assert client.get(f"/placements/{op.placement.id}").status_code == 404
    assert [(a, r, u) for a, r, u, *_ in _refused(db_session)] == [("view_placement", op.request.id, outsider.id)]


def test_a_refusal_inside_a_write_joins_that_write(app, db_session):
    """The getters audit before any write begins; called inside one, the refusal is part of that write."""
    from portal.access import require_officer_of
    from portal.errors import NotFound
    from portal.unit_of_work import unit_of_work

    req = create_request(create_user("officer"))
    outsider = create_user("officer", la_code=BIRMINGHAM)
    with app.test_request_context("/"):
        with unit_of_work() as work:
            require_officer_of(outsider, req)
        assert isinstance(work.error, NotFound)
    assert _refused(db_session) == []  # rolled back with the write it was part of
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "192.0.2.44"}):
        with pytest.raises(NotFound):
            require_officer_of(outsider, req)
        db.session.rollback()
    assert _refused(db_session) == [("view_request", req.id, outsider.id, "refused", "192.0.2.44")]


def test_a_role_refusal_of_an_address_naming_a_childs_record_is_audited(client, auth, db_session):
    """A provider or a commissioner is refused an officer's page by role (403); if the address names a child's
    record that exists, the attempt is on that child's trail, like another LA's officer's (not if it does not)."""
    req = create_request(create_user("officer"), first_name="Zephyrine")
    provider = create_provider()
    offer = create_offer(create_referral(req, provider), create_vacancy(create_setting(provider)))
    provider_user = create_user("provider", provider=provider, provider_role="admin")
    auth.sign_in(provider_user)
    for url in (f"/requests/{req.id}", f"/requests/{req.id}/access"):
        response = client.get(url)
        assert response.status_code == 403
        assert "Zephyrine" not in response.get_data(as_text=True)
    assert client.get("/requests/" + "0" * 32).status_code == 403
    events = _events(db_session, outcome="refused")
    assert [(e.action, e.record_id, e.user_id, e.role, e.detail) for e in events] == [
        ("wrong_role", req.id, provider_user.id, "provider", "endpoint:requests.detail"),
        ("wrong_role", req.id, provider_user.id, "provider", "endpoint:requests.access_log"),
    ]
    auth.sign_out()
    commissioner = create_user("commissioner")
    auth.sign_in(commissioner)
    assert client.get(f"/provider/referrals/{offer.referral_id}").status_code == 403
    last = _events(db_session, outcome="refused")[-1]
    assert (last.action, last.record_id, last.user_id) == ("wrong_role", req.id, commissioner.id)
    assert last.detail == f"referral:{offer.referral_id};endpoint:providers.referral"
