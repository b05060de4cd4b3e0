"""Scoped reads of placements. Every query takes the acting user (STYLE.md habit 5, DESIGN.md §5):

- a placement officer sees the placements of their own LA (Placement.la_code == user.la_code);
- a provider user sees the placements at their own provider (Placement.provider_id == user.provider_id), so
  never a connected-person placement (it has no provider);
- anyone else sees nothing. A placement the user may not see is a 404: its existence is not revealed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, func, select

from portal.models import (
    ConnectedPerson,
    Offer,
    Placement,
    PlacementAgreement,
    PlacementRequest,
    Provider,
    Setting,
    User,
)
from portal.access import get_connected_person  # re-exported: the placements pages load a connected person by it
from portal.auth.permissions import audit_refused
from portal.db import db
from portal.errors import NotFound
from portal.listing import Paged, Sort, paginate, sort_choice


@dataclass(frozen=True)
class PlacementRecord:
    """A placement with what its pages show: the child's request, where they live, and the agreement."""

    placement: Placement
    request: PlacementRequest
    setting: Setting | None
    provider: Provider | None
    connected_person: ConnectedPerson | None
    agreement: PlacementAgreement | None

    @property
    def status(self) -> str:
        return "ended" if self.placement.end_date is not None else "current"


def _visible_to(user: User) -> ColumnElement[bool]:
    """The placements this user may see. Explicit about missing codes: `column == None` would match NULLs."""
    if user.role == "officer" and user.la_code:
        return Placement.la_code == user.la_code
    if user.role == "provider" and user.provider_id:
        return Placement.provider_id == user.provider_id
    return false()


def _records_query():
    return (
        select(Placement, PlacementRequest, Setting, Provider, ConnectedPerson, PlacementAgreement)
        .join(PlacementRequest, PlacementRequest.id == Placement.request_id)
        .outerjoin(Setting, Setting.id == Placement.setting_id)
        .outerjoin(Provider, Provider.id == Placement.provider_id)
        .outerjoin(ConnectedPerson, ConnectedPerson.id == Placement.connected_person_id)
        .outerjoin(PlacementAgreement, PlacementAgreement.placement_id == Placement.id)
    )


def get_placement_record(user: User, placement_id: str) -> PlacementRecord:
    """The placement and everything its page shows, if the user may see it; otherwise 404."""
    row = db.session.execute(_records_query().where(Placement.id == placement_id, _visible_to(user))).first()
    if row is None:
        other = db.session.get(Placement, placement_id)
        if other is not None:
            audit_refused(user, "view_placement", "placement_request", other.request_id,
                          detail=f"placement:{other.id}")
        raise NotFound()
    return PlacementRecord(*row)


LIST_STATUSES = ("current", "ended")
# The orders of the placements list (`sort=`; `-key` is descending), each ended by the placement's id.
PLACEMENT_SORTS = {
    "start": (Placement.start_date, Placement.created_at),
    "child": (func.lower(PlacementRequest.last_name), func.lower(PlacementRequest.first_name)),
}
PLACEMENT_DEFAULT_SORT = "-start"  # newest start first


def list_placements(user: User, *, status: str | None = None, sort: Sort | None = None, page: int = 1,
                    per_page: int | None = None) -> Paged[PlacementRecord]:
    """One page of the user's placements (their LA's, or at their provider), in `sort`'s order (newest start
    first by default), and how many there are in all: nothing is cut silently (issue 11 §4). `status` is
    "current", "ended" or None for both."""
    visible = _visible_to(user)
    if status == "current":
        visible = visible & Placement.end_date.is_(None)
    elif status == "ended":
        visible = visible & Placement.end_date.is_not(None)
    sort = sort or sort_choice(PLACEMENT_DEFAULT_SORT, PLACEMENT_SORTS, PLACEMENT_DEFAULT_SORT)
    order = [c.desc() if sort.descending else c.asc() for c in PLACEMENT_SORTS[sort.key]]
    order.append(Placement.id.desc() if sort.descending else Placement.id.asc())
    total = db.session.scalar(select(func.count()).select_from(Placement).where(visible)) or 0
    paged = paginate(_records_query().where(visible).order_by(*order), page=page, per_page=per_page, total=total,
                     scalars=False)
    return Paged([PlacementRecord(*row) for row in paged.items], paged.total, paged.page, paged.per_page)


def find_offer_for_placement(user: User, placement: Placement) -> Offer | None:
    """The accepted offer a placement came from (None for a connected-person placement)."""
    if placement.offer_id is None:
        return None
    return db.session.scalar(
        select(Offer)
        .join(Placement, Placement.offer_id == Offer.id)
        .where(Placement.id == placement.id, _visible_to(user))
    )


def find_placement_for_request(user: User, placement_request: PlacementRequest) -> Placement | None:
    """The request's placement if it has one and the user may see it."""
    return db.session.scalar(
        select(Placement).where(Placement.request_id == placement_request.id, _visible_to(user))
    )
