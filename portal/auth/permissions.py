"""The permission decorator every view carries (the GOV.UK Notify habit), and the audit trail writer."""

from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, has_request_context, request
from flask_login import current_user, login_required

from portal.db import db
from portal.models import AuditEvent, ConnectedPerson, Offer, Placement, PlacementRequest, Referral, User
from portal.unit_of_work import unit_of_work


def role_required(*roles: str, provider_roles: tuple[str, ...] | None = None) -> Callable:
    """Only signed-in users with one of `roles` (and, for provider users, one of `provider_roles`) get in.

    Everyone else gets 403; anonymous users are sent to sign in. A 403 for an address that names a child's record
    that exists (a provider opening `/requests/<id>`) is audited as a refused attempt on that child's record.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles or (
                provider_roles is not None
                and current_user.role == "provider"
                and current_user.provider_role not in provider_roles
            ):
                _audit_role_refusal(kwargs)
                abort(403)
            return view(*args, **kwargs)

        # Read by the tests that check every view is protected and walk the URL map (tests/test_url_map.py).
        wrapped.required_roles = roles
        wrapped.required_provider_roles = provider_roles
        return wrapped

    return decorator


# The URL parameters that name a child's record, with the model that holds it (each row has the child's request).
_CHILD_RECORDS = (("request_id", PlacementRequest), ("offer_id", Offer), ("referral_id", Referral),
                  ("placement_id", Placement), ("connected_person_id", ConnectedPerson))


def _audit_role_refusal(view_args: dict) -> None:
    """Audit a role refusal of an address naming a child's record that exists, on that child's trail. An id that
    does not exist (or is not an id at all) is not audited: there is no record whose trail it would belong to."""
    for name, model in _CHILD_RECORDS:
        value = view_args.get(name)
        if not isinstance(value, str) or len(value) > 64:
            continue
        row = db.session.get(model, value)
        if row is None:
            continue
        request_id = row.id if model is PlacementRequest else row.request_id
        detail = None if model is PlacementRequest else f"{name.removesuffix('_id')}:{value}"
        audit_refused(current_user, "wrong_role", "placement_request", request_id, detail=detail)
        return


def audit(
    user: User | None,
    action: str,
    record_type: str,
    record_id: str | None = None,
    *,
    outcome: str = "allowed",
    detail: str | None = None,
) -> AuditEvent:
    """Record who did what to which record (DESIGN.md §5). Added to the session; the caller commits.

    `detail` must never hold a child's personal data: it is for codes and counts only. The source address is the
    client address the app sees (`request.remote_addr`; behind a reverse proxy, see docs/security.md).
    """
    address = request.remote_addr if has_request_context() else None
    who = user if user is not None and user.is_authenticated else None
    event = AuditEvent(
        source_address=address[:45] if address else None,
        user_id=who.id if who else None,
        user_name=who.name if who else None,
        role=who.role if who else None,
        organisation=who.organisation if who else None,
        record_type=record_type,
        record_id=record_id,
        action=action,
        outcome=outcome,
        detail=detail,
    )
    db.session.add(event)
    return event


def audit_now(
    user: User | None,
    action: str,
    record_type: str,
    record_id: str | None = None,
    *,
    outcome: str = "allowed",
    detail: str | None = None,
) -> None:
    """Audit a page view in its own short unit of work, committed before the page is ranked or rendered, so no
    lock is held while the page is built. For pages that only read; a change audits inside its own unit of work."""
    with unit_of_work():
        audit(user, action, record_type, record_id, outcome=outcome, detail=detail)


def audit_refused(user: User | None, action: str, record_type: str, record_id: str, *,
                  detail: str | None = None) -> None:
    """Audit a refused attempt on a child's record that exists (DESIGN.md §5: every refused attempt), before the
    caller answers 403 or 404. Committed in its own unit of work, so it stays although the request then fails;
    `detail` says which page was asked for (its endpoint), never anything about the record.

    The getters call it before any write begins. Inside a unit of work it can only join that work's transaction
    (a second one would wait for SQLite's write lock), so it is kept if that work commits."""
    where = f"endpoint:{request.endpoint}" if has_request_context() and request.endpoint else None
    detail = ";".join(part for part in (detail, where) if part) or None
    if db.writing:
        audit(user, action, record_type, record_id, outcome="refused", detail=detail)
        return
    audit_now(user, action, record_type, record_id, outcome="refused", detail=detail)
