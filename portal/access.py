"""Who may see which child's record: the scoping predicates and getters the features share (DESIGN.md §5).

Every query that can return a child's record filters with one of these predicates, and a getter whose record is
missing or not the user's raises `NotFound`: the answer is the same 404 whether the record does not exist or is
another LA's, so its existence is not revealed. Never `assert` (it vanishes under `python -O`).

A refusal of a record that exists is audited (outcome "refused", with the source address) before the 404
(issue 15 §8); an id that does not exist is not: there is no record whose trail it would belong to.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select

from portal.auth.permissions import audit_refused
from portal.db import db
from portal.errors import NotFound
from portal.models import ConnectedPerson, PlacementRequest, User


def officer_requests(user: User) -> ColumnElement[bool]:
    """The requests an officer may see: their own LA's. Nobody else sees a request through these queries."""
    if user.role != "officer" or not user.la_code:
        return false()
    return PlacementRequest.la_code == user.la_code


def get_request_for_officer(user: User, request_id: str) -> PlacementRequest:
    """The request, only for officers of its LA; anyone else gets 404 (the record's existence is not revealed)."""
    placement_request = db.session.scalar(
        select(PlacementRequest).where(PlacementRequest.id == request_id, officer_requests(user))
    )
    if placement_request is None:
        if db.session.get(PlacementRequest, request_id) is not None:
            audit_refused(user, "view_request", "placement_request", request_id)
        raise NotFound()
    return placement_request


def require_officer_of(user: User, placement_request: PlacementRequest) -> None:
    """Refuse (404) a request that is not the officer's own LA's."""
    if user.role != "officer" or not user.la_code or placement_request.la_code != user.la_code:
        audit_refused(user, "view_request", "placement_request", placement_request.id)
        raise NotFound()


def get_connected_person(user: User, placement_request: PlacementRequest, person_id: str) -> ConnectedPerson:
    """One of this request's own connected persons, for an officer of the request's LA; anyone else's (another
    child's, another LA's) is 404, and asking for another child's through this child's address is audited."""
    require_officer_of(user, placement_request)
    person = db.session.scalar(
        select(ConnectedPerson).where(ConnectedPerson.id == person_id, ConnectedPerson.request_id == placement_request.id)
    )
    if person is None:
        other = db.session.get(ConnectedPerson, person_id)
        if other is not None:  # another child's connected person, asked for through this child's address
            audit_refused(user, "view_connected_person", "placement_request", other.request_id,
                          detail=f"connected_person:{other.id}")
        raise NotFound()
    return person
