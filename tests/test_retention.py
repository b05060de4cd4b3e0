"""`flask retention prune` (portal.retention): old sign-in attempts, dead sessions and used form keys go; what is
still needed stays, and the audit trail is never touched. On both databases."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select

from portal.db import utcnow
from portal.models import AuditEvent, FormSubmission, SignInAttempt, UserSession
from tests.factories import create_user


def _session(user, *, began, ended=None) -> UserSession:
    return UserSession(token_hash=secrets.token_hex(32), user_id=user.id, created_at=began, last_seen_at=began,
                       mfa_at=began, ended_at=ended, end_reason="signed_out" if ended else None)


def _count(db_session, model) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


def test_prune_deletes_only_what_is_past_its_retention(app, db_session, runner):
    now = utcnow()
    user = create_user("officer")
    old, recent = now - timedelta(days=91), now - timedelta(days=89)
    db_session.add_all([
        SignInAttempt(at=old, account_key="a" * 64, step="password", succeeded=False),
        SignInAttempt(at=recent, account_key="a" * 64, step="password", succeeded=False),
        _session(user, began=old, ended=old + timedelta(hours=1)),  # ended long ago: goes
        _session(user, began=old),  # never ended, but its 12 hours ran out long ago: goes
        _session(user, began=recent, ended=recent),  # ended, but within the 90 days: stays
        _session(user, began=now),  # live: stays
        FormSubmission(key_hash="1" * 64, user_id=user.id, endpoint="requests.new", fingerprint="f" * 64,
                       outcome_url="/requests/x", created_at=now - timedelta(days=8)),
        FormSubmission(key_hash="2" * 64, user_id=user.id, endpoint="requests.new", fingerprint="f" * 64,
                       outcome_url="/requests/y", created_at=now - timedelta(days=6)),
    ])
    db_session.commit()
    audit_before = _count(db_session, AuditEvent)

    result = runner.invoke(args=["retention", "prune"])

    assert result.exit_code == 0, result.output
    assert "Deleted 1 sign-in attempts, 2 ended sessions and 1 form keys" in result.output
    assert _count(db_session, SignInAttempt) == 1
    assert _count(db_session, UserSession) == 2
    assert db_session.scalar(select(FormSubmission.key_hash)) == "2" * 64
    assert _count(db_session, AuditEvent) == audit_before
    # Running it again finds nothing more (two hosts running it at once delete each row once).
    again = runner.invoke(args=["retention", "prune"])
    assert "Deleted 0 sign-in attempts, 0 ended sessions and 0 form keys" in again.output


def test_retention_is_settable(app, db_session, runner):
    app.config["RETAIN_SIGN_IN_ATTEMPTS_DAYS"] = 1
    db_session.add(SignInAttempt(at=utcnow() - timedelta(days=2), account_key="b" * 64, step="password",
                                 succeeded=True))
    db_session.commit()
    assert "Deleted 1 sign-in attempts" in runner.invoke(args=["retention", "prune"]).output
    assert _count(db_session, SignInAttempt) == 0


def test_a_signed_in_person_stays_signed_in(app, client, auth, db_session, runner):
    user = create_user("officer")
    auth.sign_in(user)
    assert runner.invoke(args=["retention", "prune"]).exit_code == 0
    assert client.get("/requests/").status_code == 200
