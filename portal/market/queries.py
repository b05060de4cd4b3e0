"""Read-only aggregate queries for commissioners: counts computed in SQL, never a child-level row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.db import db
from portal.providers.models import Provider, Setting, Vacancy
from portal.requests.models import Placement, PlacementRequest


@dataclass(frozen=True)
class Overview:
    open_requests: int
    open_vacancy_places: int
    placements_12_months: int
    placements_inside_la: int
    placements_over_20_miles: int


def overview(la_code: str | None, today: date | None = None) -> Overview:
    """Headline counts for the region (la_code None) or one LA, over the last 12 months."""
    today = today or date.today()
    since = today - timedelta(days=365)
    requests_q = select(func.count()).select_from(PlacementRequest).where(
        PlacementRequest.status.in_(("searching", "offers"))
    )
    placements_q = select(
        func.count(),
        func.coalesce(func.sum(func.cast(Placement.inside_la, db_int())), 0),
        func.coalesce(func.sum(func.cast(Placement.over_20_miles, db_int())), 0),
    ).where(Placement.start_date >= since)  # includes placements agreed to start in the coming days
    places_q = (
        select(func.coalesce(func.sum(Vacancy.places - Vacancy.places_taken), 0))
        .join(Setting, Setting.id == Vacancy.setting_id)
        .join(Provider, Provider.id == Setting.provider_id)
        .where(Vacancy.status == "open", Provider.status == "approved")
    )
    if la_code:
        requests_q = requests_q.where(PlacementRequest.la_code == la_code)
        placements_q = placements_q.where(Placement.la_code == la_code)
        places_q = places_q.where(Setting.la_code == la_code)
    total, inside, over20 = db.session.execute(placements_q).one()
    return Overview(
        open_requests=db.session.scalar(requests_q) or 0,
        open_vacancy_places=int(db.session.scalar(places_q) or 0),
        placements_12_months=total,
        placements_inside_la=int(inside),
        placements_over_20_miles=int(over20),
    )


def db_int():
    from sqlalchemy import Integer

    return Integer
