"""Read-only aggregate queries for commissioners: GROUP BY and COUNT in SQL, never a child-level row on a page.

Datasets of children's records, each counted by month (or period), placing LA, age band and placement type plus
whatever a table breaks down by (`Dataset.extras`), and measured by `Dataset.values` for percentiles:

    requests    placement requests, by the month they were submitted (drafts never count)
    placements  placements, by the month they started
    endings     placements, by the month they ended
    referrals   referrals to providers, by the month they were sent
    answers     referrals a provider answered, with the hours it took
    declines    providers' declines, by the month they declined, with the reason and the kind of provider

The whole region, every age band and every type are always counted together (reports.py slices the protected cube),
so the only WHERE of a cube query is the period window; percentiles are per view (`view_percentiles`). Provision
(settings, vacancies, places) is counted by `supply_*`. The one child-level query is `extract_rows`, read only by the
generalised data extract (extract.py), behind its own permission (issue 15 §9).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Sequence

from sqlalchemy import Numeric, Select, and_, case, cast, exists, func, literal_column, select, text, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from portal.models import (
    AllocationRun,
    ConnectedPerson,
    LocalAuthority,
    Offer,
    Placement,
    PlacementRequest,
    Provider,
    Referral,
    ReEntryLink,
    ReferralDecline,
    Setting,
    Vacancy,
)
from portal.db import db, utcnow
from portal.market import sql
from portal.market.filters import MarketFilters
from portal.matching import vocabulary as vocab

OPEN_STATUSES = ("searching", "offers")
HIGH_COST_GBP_WEEK = 10_000  # issue 6: placements over £10,000 a week (120 in 2018/19, 1,510 in 2022/23)
FAMILY_AND_FRIENDS = ("U1", "U2", "U3")  # SSDA903: foster placements with a relative or friend (s22C(6)(a))
FOSTER_CODES = ("U1", "U2", "U3", "U4", "U5", "U6")
MOVE_REASONS = tuple(sorted(vocab.CHANGE_OF_PLACEMENT_REASONS))  # the placement changed; the child stayed in care
LEFT_CARE_REASONS = tuple(code for code in vocab.PLACEMENT_END_REASONS if code not in MOVE_REASONS)
NEED_AND_RISK_CODES = tuple(vocab.NEEDS) + tuple(vocab.RISKS)


def _text(value: str) -> ColumnElement:
    """A string constant written into the SQL (not a bound parameter), so GROUP BY matches SELECT on PostgreSQL."""
    return literal_column("'" + value.replace("'", "''") + "'")


# ----------------------------------------------------------------------------------------------- categories

def request_type_sought(r=PlacementRequest) -> ColumnElement[str]:
    """The setting type a request seeks: the first preferred in s22C order (foster, residential, supported),
    else the first suitable; "other" if all three are marked unsuitable."""
    whens = []
    for level in ("preferred", "suitable"):
        for kind, column in (("foster", r.suitability_foster), ("residential", r.suitability_residential),
                             ("supported", r.suitability_supported)):
            whens.append((column == _text(level), _text(kind)))
    return case(*whens, else_=_text("other"))


def placement_type_group(p=Placement) -> ColumnElement[str]:
    """SSDA903 placement type code -> the setting type (family and friends foster placements are foster care)."""
    return case(
        (p.placement_type.in_([_text(c) for c in FOSTER_CODES]), _text("foster")),
        (p.placement_type == _text("K2"), _text("residential")),
        (p.placement_type == _text("K3"), _text("supported")),
        else_=_text("other"),
    )


def _bool_key(condition: ColumnElement[bool], yes: str, no: str) -> ColumnElement[str]:
    return case((condition, _text(yes)), else_=_text(no))


# ------------------------------------------------------------------------------------------------- datasets

@dataclass(frozen=True)
class Dataset:
    """How one kind of record is counted: its FROM/WHERE, and the column for each cube axis."""

    name: str
    base: Select
    date: ColumnElement
    is_timestamp: bool
    la: ColumnElement
    age: ColumnElement
    type: ColumnElement
    needs: ColumnElement
    risks: ColumnElement
    extras: dict[str, ColumnElement] = field(default_factory=dict)
    # Numeric columns measured over the records (fees, miles, days, hours): for sums and percentiles.
    values: dict[str, ColumnElement] = field(default_factory=dict)

    def in_window(self, start: date, end: date) -> ColumnElement[bool]:
        if self.is_timestamp:
            low = datetime.combine(start, time.min, tzinfo=timezone.utc)
            high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=timezone.utc)
            return and_(self.date >= low, self.date < high)
        return and_(self.date >= start, self.date <= end)

    def need_condition(self, code: str) -> ColumnElement[bool]:
        return sql.has_code(self.needs if code in vocab.NEEDS else self.risks, code)

    def view_where(self, f: MarketFilters) -> list[ColumnElement[bool]]:
        """The WHERE for one view (for percentiles, which are computed per view, not as a cube)."""
        out = [self.in_window(f.period.start, f.period.end)]
        if f.la:
            out.append(self.la == f.la)
        if f.type:
            out.append(self.type == _text(f.type))
        if f.age:
            out.append(sql.age_band(self.age) == _text(f.age))
        if f.need:
            out.append(self.need_condition(f.need))
        return out


def requests_dataset() -> Dataset:
    r = PlacementRequest
    # Re-entry to care: an officer confirmed that an earlier placement in the LA was this child's (re_entry_link,
    # from the child reference or a similar name with the same date of birth), and it ended with the child leaving
    # care (any 903 reason but a change of placement) on or before the day this request was submitted.
    reentry = exists().where(
        ReEntryLink.request_id == r.id, ReEntryLink.status == _text("confirmed"),
        Placement.id == ReEntryLink.placement_id,
        Placement.end_reason.in_([_text(c) for c in LEFT_CARE_REASONS]),
        sql.days_between(r.submitted_at, Placement.end_date) >= 0,
    )
    base = select(r.id).where(r.status != _text("draft"), r.submitted_at.is_not(None), r.needed_by.is_not(None))
    return Dataset(
        name="requests", base=base, date=r.submitted_at, is_timestamp=True, la=r.la_code,
        age=sql.age_years(r.date_of_birth, r.needed_by), type=request_type_sought(r), needs=r.needs, risks=r.risks,
        extras={
            "urgency": func.coalesce(r.urgency, _text("over_5_days")),
            "reentry": _bool_key(reentry, "reentry", "first"),
            "outcome": case(
                (r.status == _text("placed"), _text("placed")),
                (r.status.in_([_text(s) for s in OPEN_STATUSES]), _text("open")),
                else_=_text("not_placed"),
            ),
        },
    )


def placements_dataset() -> Dataset:
    p, r = Placement, PlacementRequest
    base = (
        select(p.id)
        .join(r, r.id == p.request_id)
        .outerjoin(Provider, Provider.id == p.provider_id)
        .outerjoin(Setting, Setting.id == p.setting_id)
    )
    cost = p.weekly_cost_gbp
    return Dataset(
        name="placements", base=base, date=p.start_date, is_timestamp=False, la=p.la_code,
        age=sql.age_years(r.date_of_birth, p.start_date), type=placement_type_group(p), needs=r.needs, risks=r.risks,
        extras={
            "inside": _bool_key(p.inside_la.is_(True), "inside", "outside"),
            "distance": _bool_key(p.over_20_miles.is_(True), "over_20", "up_to_20"),
            "provider_code": p.provider_code,
            "contract": case((Provider.id.is_(None), _text("none")), else_=Provider.contract),
            "provider_kind": func.coalesce(Provider.kind, _text("none")),
            "ofsted": func.coalesce(Setting.ofsted_rating, _text("not_rated")),
            "budget": case(
                (cost.is_(None), _text("no_cost")),
                (r.budget_gbp_week.is_(None), _text("no_budget")),
                (cost > r.budget_gbp_week, _text("over")),
                else_=_text("within"),
            ),
            "high_cost": _bool_key(cost >= HIGH_COST_GBP_WEEK, "high", "below"),
            # Issue 13 §4: as the placement record says (set when recorded, corrected by the officer).
            "dol": _bool_key(p.deprivation_of_liberty.is_(True), "dol", "no_dol"),
            "unregistered": _bool_key(p.unregistered_setting.is_(True), "unregistered", "registered"),
            "family": _bool_key(p.placement_type.in_([_text(c) for c in FAMILY_AND_FRIENDS]), "family_friends",
                                "other"),
            "siblings": case(
                (r.sibling_group_id.is_(None), _text("not_in_group")),
                (p.siblings_placed_together > 0, _text("together")),
                else_=_text("apart"),
            ),
            "stability": case(
                (and_(p.end_date.is_not(None), sql.days_between(p.end_date, p.start_date) < 365,
                      p.end_reason.in_([_text(c) for c in MOVE_REASONS])), _text("moved")),
                (and_(p.end_date.is_not(None), sql.days_between(p.end_date, p.start_date) < 365),
                 _text("ended")),
                else_=_text("continuing"),
            ),
        },
        values={
            "fee": cost,
            "miles": p.distance_miles,
            # Days from the request's submission to the placement's start (never negative).
            "days_to_placement": case(
                (sql.days_between(p.start_date, r.submitted_at) < 0, 0),
                else_=sql.days_between(p.start_date, r.submitted_at),
            ),
        },
    )


def endings_dataset() -> Dataset:
    p, r = Placement, PlacementRequest
    base = select(p.id).join(r, r.id == p.request_id).where(p.end_date.is_not(None))
    return Dataset(
        name="endings", base=base, date=p.end_date, is_timestamp=False, la=p.la_code,
        age=sql.age_years(r.date_of_birth, p.end_date), type=placement_type_group(p), needs=r.needs, risks=r.risks,
        extras={
            "end_reason": case(
                (p.end_reason.in_([_text(c) for c in vocab.RETURN_HOME_REASONS]), _text("returned_home")),
                (p.end_reason.in_([_text(c) for c in MOVE_REASONS]), _text("moved")),
                (p.end_reason.in_([_text(c) for c in LEFT_CARE_REASONS]), _text("left_care_other")),
                else_=_text("not_recorded"),
            ),
        },
    )


def referrals_dataset() -> Dataset:
    ref, r = Referral, PlacementRequest
    # Correlated subqueries use the indexes on offer.referral_id and referral_decline.referral_id (unique): far
    # cheaper than grouping every offer first.
    offered = exists().where(Offer.referral_id == ref.id)
    offers = select(func.count()).where(Offer.referral_id == ref.id).scalar_subquery()
    declined = exists().where(ReferralDecline.referral_id == ref.id)
    base = select(ref.id).join(r, r.id == ref.request_id).join(Provider, Provider.id == ref.provider_id)
    return Dataset(
        name="referrals", base=base, date=ref.sent_at, is_timestamp=True, la=r.la_code,
        age=sql.age_years(r.date_of_birth, r.needed_by), type=request_type_sought(r), needs=r.needs, risks=r.risks,
        extras={
            "response": case((offered, _text("offered")), (declined, _text("declined")), else_=_text("no_response")),
            "provider": Provider.kind,
        },
        values={"offers": offers},
    )


def declines_dataset() -> Dataset:
    """Providers' declines, by the period they declined in, the referring LA, the child's age band, the type of
    placement sought, the reason (vocabulary.DECLINE_REASONS) and the kind of provider (issue 13 §4)."""
    d, ref, r = ReferralDecline, Referral, PlacementRequest
    base = (select(d.id).join(ref, ref.id == d.referral_id).join(r, r.id == ref.request_id)
            .join(Provider, Provider.id == d.provider_id))
    return Dataset(
        name="declines", base=base, date=d.declined_at, is_timestamp=True, la=r.la_code,
        age=sql.age_years(r.date_of_birth, r.needed_by), type=request_type_sought(r), needs=r.needs, risks=r.risks,
        extras={"decline_reason": d.reason, "provider": Provider.kind},
    )


def answers_dataset() -> Dataset:
    """Referrals a provider answered, with when: its first offer, or else its decline (for the hours to answer).

    Set-based (offers grouped per referral, declines without an offer) rather than a lookup per referral.
    """
    ref, r = Referral, PlacementRequest
    first_offers = select(Offer.referral_id.label("referral_id"), func.min(Offer.created_at).label("at")).group_by(
        Offer.referral_id)
    declines = select(ReferralDecline.referral_id.label("referral_id"), ReferralDecline.declined_at.label("at")).where(
        ~exists().where(Offer.referral_id == ReferralDecline.referral_id))
    answers = union_all(first_offers, declines).subquery()
    base = (
        select(ref.id)
        .join(answers, answers.c.referral_id == ref.id)
        .join(r, r.id == ref.request_id)
        .join(Provider, Provider.id == ref.provider_id)
    )
    return Dataset(
        name="answers", base=base, date=ref.sent_at, is_timestamp=True, la=r.la_code,
        age=sql.age_years(r.date_of_birth, r.needed_by), type=request_type_sought(r), needs=r.needs, risks=r.risks,
        extras={"provider": Provider.kind},
        # To a tenth of an hour: the percentiles count rows per distinct value.
        values={"response_hours": func.round(cast(sql.hours_between(answers.c.at, ref.sent_at), Numeric(12, 4)), 1)},
    )


# -------------------------------------------------------------------------------------------- grouped counts

BASE_AXES = ("month", "la", "age", "type")


def grouped_counts(ds: Dataset, start: date, end: date, extras: Sequence[str] = (), *,
                   need: str | None = None, measures: Sequence[ColumnElement] = (),
                   periods: Sequence | None = None) -> list[tuple]:
    """One row per (month, LA, age band, type, *extras): the count, then the count with `need`, then `measures`.

    With `periods` (filters.Period, which never overlap), the first key is the period instead of the month: for
    datasets no page shows month by month, a twelfth of the groups. Everything is grouped in the database; only the
    groups come back.
    """
    if periods:
        when = case(*[(ds.in_window(p.start, p.end), _text(p.key)) for p in periods], else_=_text("none"))
    else:
        when = sql.month_of(ds.date)
    keys = [when, ds.la, sql.age_band(ds.age), ds.type] + [ds.extras[e] for e in extras]
    counts: list[ColumnElement] = [func.count()]
    if need is not None:
        counts.append(func.sum(case((ds.need_condition(need), 1), else_=0)))
    counts += list(measures)
    stmt = (
        ds.base.with_only_columns(*keys, *counts)
        .where(ds.in_window(start, end))
        .group_by(*[text(str(i)) for i in range(1, len(keys) + 1)])
    )
    return db.session.connection().execute(stmt).all()


# -------------------------------------------------------------------------------------------------- percentiles

def view_percentiles(ds: Dataset, f: MarketFilters, value: str, groups: Sequence[str] = (),
                     fractions: Sequence[str] = ("p25", "median", "p75"), *, overall: bool = False,
                     where: Sequence[ColumnElement[bool]] = ()) -> dict[tuple, dict[str, float | int]]:
    """Percentiles of `value` over one view's records, per combination of `groups` (axis or extra names), and
    with `overall` over all of them (key ())."""
    columns = {"la": ds.la, "type": ds.type, "age": sql.age_band(ds.age), "month": sql.month_of(ds.date),
               **ds.extras}
    stmt = ds.base.where(*ds.view_where(f), *where)
    return sql.percentiles(stmt, ds.values[value], [columns[g] for g in groups], fractions, overall=overall)


# --------------------------------------------------------------------------------------------------- reference

def list_local_authorities() -> list[tuple[str, str]]:
    """(code, name) of the region's LAs, by name."""
    return [tuple(row) for row in db.session.execute(
        select(LocalAuthority.code, LocalAuthority.name).order_by(LocalAuthority.name))]


def need_measures(ds: Dataset, need: str | None) -> dict[str, ColumnElement]:
    """Per need and risk code: how many records have it ("n:<code>"), and with the view's need too ("nf:<code>")."""
    out: dict[str, ColumnElement] = {}
    for code in NEED_AND_RISK_CODES:
        with_code = ds.need_condition(code)
        out[f"n:{code}"] = func.sum(case((with_code, 1), else_=0))
        if need is not None:
            out[f"nf:{code}"] = func.sum(case((and_(with_code, ds.need_condition(need)), 1), else_=0))
    return out


def sum_measures(ds: Dataset, value: str, need: str | None) -> dict[str, ColumnElement]:
    """The sum of a value column ("sum:<value>"), and over records with the view's need ("sumf:<value>")."""
    column = ds.values[value]
    out = {f"sum:{value}": func.sum(column)}
    if need is not None:
        out[f"sumf:{value}"] = func.sum(case((ds.need_condition(need), column), else_=0))
    return out


# ------------------------------------------------------------------------------------------------------- supply
# Provision (settings, vacancies, places) describes organisations, not children: shown exactly, not suppressed.

def _provision_where(f: MarketFilters) -> list[ColumnElement[bool]]:
    """Settings that are active, at approved providers, and can take the view's type, age band and need."""
    from portal.market.filters import AGE_BAND_LOWER, AGE_BAND_UPPER

    out = [Setting.active.is_(True), Provider.status == _text("approved")]
    if f.type:
        out.append(Setting.kind == _text(f.type))
    if f.age:
        out += [Setting.age_min <= AGE_BAND_UPPER[f.age], Setting.age_max >= AGE_BAND_LOWER[f.age]]
    if f.need:
        out.append(sql.has_code(Setting.needs_met if f.need in vocab.NEEDS else Setting.risks_managed, f.need))
    return out


def supply_vacancies(f: MarketFilters, stale_days: int) -> list[tuple]:
    """(setting LA, setting type, open vacancies, free places, stale vacancies, not yet available) per LA and type."""
    today = f.today
    stale_before = utcnow() - timedelta(days=stale_days)
    confirmed = func.coalesce(Vacancy.confirmed_at, Vacancy.created_at)
    keys = [Setting.la_code, Setting.kind]
    stmt = (
        select(*keys, func.count(), func.sum(Vacancy.places - Vacancy.places_taken),
               func.sum(case((confirmed < stale_before, 1), else_=0)),
               func.sum(case((Vacancy.available_from > today, 1), else_=0)))
        .join(Setting, Setting.id == Vacancy.setting_id)
        .join(Provider, Provider.id == Setting.provider_id)
        .where(Vacancy.status == _text("open"), *_provision_where(f))
        .group_by(text("1"), text("2"))
    )
    return [tuple(row) for row in db.session.execute(stmt)]


def supply_registered(f: MarketFilters) -> list[tuple]:
    """(setting LA, setting type, settings, registered places) of active settings at approved providers."""
    stmt = (
        select(Setting.la_code, Setting.kind, func.count(), func.sum(Setting.registered_places))
        .join(Provider, Provider.id == Setting.provider_id)
        .where(*_provision_where(f))
        .group_by(text("1"), text("2"))
    )
    return [tuple(row) for row in db.session.execute(stmt)]


DAYS_VACANT_BANDS = (("0_7", 7), ("8_14", 14), ("15_28", 28), ("29_56", 56), ("over_56", None))


def supply_days_vacant(f: MarketFilters) -> list[tuple]:
    """(setting type, days-vacant band, open vacancies) for open vacancies available today, by days since then."""
    days = sql.days_between(_date_literal(f.today), Vacancy.available_from)
    band = case(*[(days <= limit, _text(key)) for key, limit in DAYS_VACANT_BANDS if limit is not None],
                else_=_text("over_56"))
    stmt = (
        select(Setting.kind, band, func.count())
        .join(Setting, Setting.id == Vacancy.setting_id)
        .join(Provider, Provider.id == Setting.provider_id)
        .where(Vacancy.status == _text("open"), Vacancy.available_from <= f.today, *_provision_where(f),
               *([Setting.la_code == f.la] if f.la else []))
        .group_by(text("1"), text("2"))
    )
    return [tuple(row) for row in db.session.execute(stmt)]


def _date_literal(day: date) -> ColumnElement:
    return sql.as_date(day)


def supply_percentiles(f: MarketFilters, measure: str, fractions=("p25", "median", "p75")) -> dict:
    """Percentiles per setting type (and overall, key ()) of an open-vacancy measure: "days_vacant" (open and
    available today), "fee" (advertised weekly fee), or "days_to_fill" (filled vacancies closed in the period)."""
    base = (
        select(Vacancy.id)
        .join(Setting, Setting.id == Vacancy.setting_id)
        .join(Provider, Provider.id == Setting.provider_id)
        .where(*_provision_where(f), *([Setting.la_code == f.la] if f.la else []))
    )
    if measure == "days_vacant":
        value = sql.days_between(_date_literal(f.today), Vacancy.available_from)
        base = base.where(Vacancy.status == _text("open"), Vacancy.available_from <= f.today)
    elif measure == "fee":
        value = Vacancy.fee_gbp_week
        base = base.where(Vacancy.status == _text("open"))
    else:
        value = case((sql.days_between(Vacancy.closed_at, Vacancy.available_from) < 0, 0),
                     else_=sql.days_between(Vacancy.closed_at, Vacancy.available_from))
        low = datetime.combine(f.period.start, time.min, tzinfo=timezone.utc)
        high = datetime.combine(f.period.end + timedelta(days=1), time.min, tzinfo=timezone.utc)
        base = base.where(Vacancy.status == _text("filled"), Vacancy.closed_at >= low, Vacancy.closed_at < high)
    return sql.percentiles(base, value, [Setting.kind], fractions, overall=True)


def supply_ofsted(f: MarketFilters) -> list[tuple]:
    """(setting type, Ofsted rating or "not_rated", settings) of active settings at approved providers."""
    stmt = (
        select(Setting.kind, func.coalesce(Setting.ofsted_rating, _text("not_rated")), func.count())
        .join(Provider, Provider.id == Setting.provider_id)
        .where(*_provision_where(f), *([Setting.la_code == f.la] if f.la else []))
        .group_by(text("1"), text("2"))
    )
    return [tuple(row) for row in db.session.execute(stmt)]


# --------------------------------------------------------------------------------------------------- allocation

def allocation_runs(start: date, end: date) -> list:
    """The last saved region-wide allocation of each month from `start` to `end` (oldest first)."""
    low = datetime.combine(start, time.min, tzinfo=timezone.utc)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=timezone.utc)
    month = sql.month_of(AllocationRun.created_at).label("month")
    latest = (
        select(month, func.max(AllocationRun.created_at).label("at"))
        .where(AllocationRun.created_at >= low, AllocationRun.created_at < high)
        .group_by(text("1"))
        .subquery()
    )
    return list(db.session.scalars(
        select(AllocationRun).join(latest, latest.c.at == AllocationRun.created_at).order_by(AllocationRun.created_at)
    ))


def request_attributes(ids: Sequence[str]) -> dict[str, tuple[str, int, str]]:
    """{request id: (LA, age on the needed-by date, type sought)}, for counting a saved allocation's requests."""
    out: dict[str, tuple[str, int, str]] = {}
    r = PlacementRequest
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        stmt = select(r.id, r.la_code, sql.age_years(r.date_of_birth, r.needed_by), request_type_sought(r)).where(
            r.id.in_(chunk), r.needed_by.is_not(None))
        for rid, la, age, kind in db.session.execute(stmt):
            out[rid] = (la, int(age), kind)
    return out


def request_needs_and_risks(ids: Sequence[str]) -> dict[str, frozenset[str]]:
    """{request id: its needs and risks}, for counting a saved allocation's requests by need."""
    out: dict[str, frozenset[str]] = {}
    r = PlacementRequest
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        for rid, needs, risks in db.session.execute(select(r.id, r.needs, r.risks).where(r.id.in_(chunk))):
            out[rid] = frozenset(needs or ()) | frozenset(risks or ())
    return out


# ------------------------------------------------------------------------------------------------------ extract

def extract_rows(f: MarketFilters):
    """Placements that started in the period and area of `f` (its other filters do not apply), with what the
    Placements Data Standard extract needs of each and of its request (portal/market/extract.py generalises it).
    Child-level: only the extract, behind its own permission, reads this."""
    p, r = Placement, PlacementRequest
    siblings = aliased(PlacementRequest)
    sibling_count = (
        select(func.count()).where(siblings.sibling_group_id == r.sibling_group_id, siblings.id != r.id)
        .correlate(r).scalar_subquery()
    )
    stmt = (
        select(
            p.la_code, r.child_reference, r.submitted_at, p.start_date, r.urgency,
            case((r.sibling_group_id.is_(None), 0), else_=sibling_count), r.home_postcode, r.date_of_birth,
            r.needs, r.risks, r.additional_support_other, r.cultural_needs, r.living_companions, r.pets,
            r.suitability_foster, r.suitability_residential, r.suitability_supported,
            p.weekly_cost_gbp, func.coalesce(Setting.postcode, ConnectedPerson.postcode),
            func.coalesce(Setting.la_code, ConnectedPerson.la_code), p.inside_la, p.education_continuity,
            p.siblings_placed_together, p.placement_type,
        )
        .join(r, r.id == p.request_id)
        .outerjoin(Setting, Setting.id == p.setting_id)
        .outerjoin(ConnectedPerson, ConnectedPerson.id == p.connected_person_id)
        .where(p.start_date >= f.period.start, p.start_date <= f.period.end)
        .order_by(p.start_date, p.id)
    )
    if f.la:
        stmt = stmt.where(p.la_code == f.la)
    return db.session.execute(stmt)
