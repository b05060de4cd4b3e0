"""The regional administrator grants and revokes a commissioner's permission to download the data extract
(issue 15 §9): admin only, commissioners only, every change audited, nothing changed on a refusal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.admin.services import set_extract_access
from portal.models import AuditEvent, User
from portal.unit_of_work import unit_of_work
from tests.factories import create_provider, create_user


def _set(actor, user, granted):
    with unit_of_work() as work:
        changed = set_extract_access(actor, user, granted)
    return work, (changed if work.ok else None)


def _events(db_session, action):
    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_the_administrator_grants_then_revokes_and_each_change_is_audited(db_session):
    admin = create_user("admin", la_code=None)
    commissioner = create_user("commissioner", la_code=None)
    work, changed = _set(admin, commissioner, True)
    assert work.ok and changed
    db_session.expire_all()
    assert db_session.get(User, commissioner.id).extract_access is True
    [event] = _events(db_session, "grant_extract_access")
    assert (event.user_id, event.role, event.record_type, event.record_id) == (admin.id, "admin", "user",
                                                                               commissioner.id)
    work, changed = _set(admin, db_session.get(User, commissioner.id), False)
    assert work.ok and changed
    db_session.expire_all()
    assert db_session.get(User, commissioner.id).extract_access is False
    assert len(_events(db_session, "revoke_extract_access")) == 1


def test_asking_for_what_is_already_so_changes_and_audits_nothing(db_session):
    admin = create_user("admin", la_code=None)
    commissioner = create_user("commissioner")
    work, changed = _set(admin, commissioner, False)
    assert work.ok and changed is False
    assert not _events(db_session, "revoke_extract_access")


@pytest.mark.parametrize("role", ["commissioner", "officer", "provider"])
def test_only_the_administrator_may_change_it(db_session, role):
    actor = create_user(role, provider=create_provider() if role == "provider" else None)
    commissioner = create_user("commissioner")
    work, _ = _set(actor, commissioner, True)
    assert work.status == 403
    db_session.expire_all()
    assert db_session.get(User, commissioner.id).extract_access is False
    assert not _events(db_session, "grant_extract_access")


@pytest.mark.parametrize("role", ["officer", "provider", "admin"])
def test_only_a_commissioner_may_hold_it(db_session, role):
    admin = create_user("admin", la_code=None)
    user = create_user(role, provider=create_provider() if role == "provider" else None)
    work, _ = _set(admin, user, True)
    assert work.status == 422 and "Only a commissioner" in str(work.error)
    db_session.expire_all()
    assert db_session.get(User, user.id).extract_access is False


def test_a_flag_left_on_a_former_commissioner_can_still_be_revoked(db_session):
    admin = create_user("admin", la_code=None)
    user = create_user("officer")
    user.extract_access = True
    db_session.commit()
    work, changed = _set(admin, user, False)
    assert work.ok and changed
    db_session.expire_all()
    assert db_session.get(User, user.id).extract_access is False


def test_the_administrator_grants_and_revokes_it_from_the_persons_page(client, auth, db_session):
    from tests.pages import get_page

    admin = create_user("admin", la_code=None)
    commissioner = create_user("commissioner", la_code=None)
    auth.sign_in(admin)
    page = get_page(client, f"/people/{commissioner.id}/security")
    assert "may not download the data extract" in page.testid("extract-access")
    assert client.post(f"/admin/people/{commissioner.id}/extract-access", data={"grant": "1"}).status_code == 302
    db_session.expire_all()
    assert db_session.get(User, commissioner.id).extract_access is True
    assert "may download" in get_page(client, f"/people/{commissioner.id}/security").testid("extract-access")
    client.post(f"/admin/people/{commissioner.id}/extract-access", data={"grant": "0"})
    db_session.expire_all()
    assert db_session.get(User, commissioner.id).extract_access is False
    officer = create_user("officer")
    assert get_page(client, f"/people/{officer.id}/security").testid("extract-access") == ""
    client.post(f"/admin/people/{officer.id}/extract-access", data={"grant": "1"})
    db_session.expire_all()
    assert db_session.get(User, officer.id).extract_access is False
