"""The API's own scoped reads (the rest are the features' queries)."""

from __future__ import annotations

from sqlalchemy import select

from portal.access import officer_requests
from portal.db import db
from portal.models import ApiIdempotencyKey, PlacementRequest, User


def list_requests(user: User, *, offset: int, limit: int) -> list[PlacementRequest]:
    """One page of the officer's LA's requests, newest first (a miss outside the LA is simply absent)."""
    return list(db.session.scalars(
        select(PlacementRequest).where(officer_requests(user))
        .order_by(PlacementRequest.created_at.desc(), PlacementRequest.id).offset(offset).limit(limit + 1)))


def find_idempotency_key(token_id: str, key: str) -> ApiIdempotencyKey | None:
    return db.session.scalar(select(ApiIdempotencyKey).where(ApiIdempotencyKey.token_id == token_id,
                                                             ApiIdempotencyKey.key == key))
