"""Building blocks for the market tests: placements and referrals the shared factories do not make, and a reader
for the figures of a commissioner page (its tables by data-table / data-row, its headlines by data-figure)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from html.parser import HTMLParser

from portal.db import db
from portal.models import Offer, Placement, PlacementRequest, Provider, Referral, ReferralDecline, Setting, SiblingGroup

TODAY = date.today()
THIS_MONTH = TODAY  # always inside the current month
LAST_MONTH = TODAY.replace(day=1) - timedelta(days=1)  # the last day of the previous month


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


def submitted(req: PlacementRequest, day: date) -> PlacementRequest:
    req.submitted_at = at(day)
    db.session.commit()
    return req


def create_placement(req: PlacementRequest, *, start: date, placement_type: str = "U6", provider_code: str = "PR4",
                     provider: Provider | None = None, setting: Setting | None = None, weekly_cost: str | None = "850",
                     miles: str = "5.0", inside: bool = True, end: date | None = None, end_reason: str | None = None,
                     siblings_together: int = 0, dol: bool = False, unregistered: bool = False) -> Placement:
    placement = Placement(
        request_id=req.id, setting_id=setting.id if setting else None, provider_id=provider.id if provider else None,
        la_code=req.la_code, start_date=start, end_date=end, end_reason=end_reason, placement_type=placement_type,
        provider_code=provider_code, weekly_cost_gbp=Decimal(weekly_cost) if weekly_cost else None,
        distance_miles=Decimal(miles), inside_la=inside, over_20_miles=Decimal(miles) > 20,
        siblings_placed_together=siblings_together, deprivation_of_liberty=dol, unregistered_setting=unregistered,
    )
    req.status = "placed"
    db.session.add(placement)
    db.session.commit()
    return placement


def in_sibling_group(*requests: PlacementRequest) -> SiblingGroup:
    group = SiblingGroup(la_code=requests[0].la_code, together=True)
    db.session.add(group)
    db.session.flush()
    for req in requests:
        req.sibling_group_id = group.id
    db.session.commit()
    return group


def create_referral_at(req: PlacementRequest, provider: Provider, sent: datetime) -> Referral:
    referral = Referral(request_id=req.id, provider_id=provider.id, sent_at=sent)
    db.session.add(referral)
    db.session.commit()
    return referral


def offer_at(referral: Referral, vacancy, when: datetime) -> Offer:
    offer = Offer(referral_id=referral.id, request_id=referral.request_id, provider_id=referral.provider_id,
                  vacancy_id=vacancy.id, fee_gbp_week=Decimal("900"), start_date=TODAY, created_at=when)
    referral.status = "offered"
    db.session.add(offer)
    db.session.commit()
    return offer


def decline_at(referral: Referral, when: datetime, reason: str = "no_vacancy",
               other: str | None = None) -> ReferralDecline:
    decline = ReferralDecline(referral_id=referral.id, provider_id=referral.provider_id, reason=reason,
                              reason_other=other, declined_at=when)
    referral.status = "declined"
    db.session.add(decline)
    db.session.commit()
    return decline


class _PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list[str]]] = {}
        self.figures: dict[str, str] = {}
        self._table: str | None = None
        self._row: str | None = None
        self._cell: list[str] | None = None
        self._figure: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self._table = attrs["data-table"]
            self.tables[self._table] = {}
        elif tag == "tr" and self._table and "data-row" in attrs:
            self._row = attrs["data-row"]
            self.tables[self._table][self._row] = []
        elif tag == "tr" and self._table:
            self._row = None
        elif tag == "td" and self._table and self._row is not None:
            self._cell = []
        elif "data-figure" in attrs:
            self._figure = attrs["data-figure"]
            self.figures[self._figure] = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "td" and self._cell is not None:
            self.tables[self._table][self._row].append("".join(self._cell).strip())
            self._cell = None
        elif tag in ("dd", "td") and self._figure:
            self._figure = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._figure:
            self.figures[self._figure] += data.strip()


def read_page(html: str) -> tuple[dict[str, dict[str, list[str]]], dict[str, str]]:
    """(tables: {table: {row: [cell texts]}}, headline figures: {key: text}) of a commissioner page."""
    reader = _PageReader()
    reader.feed(html)
    return reader.tables, reader.figures
