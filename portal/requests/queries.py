"""Scoped reads for placement officers: every query takes the acting user and filters by their LA
(`portal.access`); a record that is not theirs is not found."""


from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import and_, case, func, or_, select, union

from portal.models import (
    AllocationRun,
    Offer,
    Placement,
    PlacementAgreement,
    PlacementRequest,
    Provider,
    ReEntryLink,
    Referral,
    ReferralDecline,
    RequestChange,
    Setting,
    User,
    Vacancy,
)
from portal.access import get_connected_person, get_request_for_officer, officer_requests, require_officer_of
from portal.auth.permissions import audit_refused
from portal.db import db
from portal.errors import NotFound
from portal.options import group_request_ids
from portal.listing import Paged, Sort, paginate, paginate_rows, sort_choice
from portal.matching.vocabulary import CHANGE_OF_PLACEMENT_REASONS

__all__ = [
    "EarlierCare", "EarlierPlacement", "Recommendation", "allocation_recommendation", "find_placement_for_request", "find_request_by_reference",
    "get_connected_person", "get_earlier_care", "get_earlier_placement", "get_offer_for_request",
    "get_request_for_officer", "list_changes_for_request", "list_earlier_placements", "list_offers_for_request",
    "list_referrals_for_request", "list_requests_for_officer", "list_siblings", "referred_provider_ids",
    "officer_needs_you_now", "sibling_placements",
]


# The orders the officer's list offers (`sort=` in the query string or the posted form; `-key` is descending), each
# ended by the row's id so that ties keep their places. A request with no needed-by date or urgency yet (a draft)
# comes last whichever way round.
_URGENCY_RANK = case({"today": 0, "within_5_days": 1, "over_5_days": 2}, value=PlacementRequest.urgency, else_=3)
REQUEST_SORTS = {
    "created": (PlacementRequest.created_at,),
    "needed_by": (PlacementRequest.needed_by,),
    "urgency": (_URGENCY_RANK, PlacementRequest.needed_by),
    "updated": (PlacementRequest.updated_at,),
    "child": (func.lower(PlacementRequest.last_name), func.lower(PlacementRequest.first_name)),
}
REQUEST_DEFAULT_SORT = "-created"  # newest first
_UNDATED_LAST = {"needed_by": PlacementRequest.needed_by.is_(None), "urgency": PlacementRequest.urgency.is_(None)}


def _request_order(sort: Sort) -> list:
    columns = [column.desc() if sort.descending else column.asc() for column in REQUEST_SORTS[sort.key]]
    id_order = PlacementRequest.id.desc() if sort.descending else PlacementRequest.id.asc()
    undated = [_UNDATED_LAST[sort.key].asc()] if sort.key in _UNDATED_LAST else []
    return [*undated, *columns, id_order]


def list_requests_for_officer(
    user: User,
    status: str | None = None,
    *,
    urgency: str | None = None,
    age_min: int | None = None,
    age_max: int | None = None,
    search: str | None = None,
    sort: Sort | None = None,
    page: int = 1,
    per_page: int | None = None,
) -> Paged[PlacementRequest]:
    """One page of the officer's own LA's requests, filtered, and how many match in all: nothing is cut silently
    (issue 11 §4). `search` matches reference or name, typos allowed.

    Without a search this is one COUNT and one LIMIT / OFFSET query in `sort`'s order (newest first by default;
    the (la_code, created_at, id) index serves it). With a search the filtered requests' names and references
    are scored in Python (rapidfuzz), best match first unless a `sort` is asked for, and only the page's rows
    are loaded."""
    where = [officer_requests(user)]
    if status:
        where.append(PlacementRequest.status == status)
    if urgency:
        where.append(PlacementRequest.urgency == urgency)
    today = date.today()
    if age_min is not None:  # at least age_min today: born on or before today minus age_min years
        where.append(PlacementRequest.date_of_birth <= _years_before(today, age_min))
    if age_max is not None:  # at most age_max today: born after today minus (age_max + 1) years
        where.append(PlacementRequest.date_of_birth > _years_before(today, age_max + 1))
    if not (search and search.strip()):
        order = _request_order(sort or sort_choice(REQUEST_DEFAULT_SORT, REQUEST_SORTS, REQUEST_DEFAULT_SORT))
        total = db.session.scalar(select(func.count(PlacementRequest.id)).where(*where)) or 0
        return paginate(select(PlacementRequest).where(*where).order_by(*order), page=page, per_page=per_page,
                        total=total)
    candidates = db.session.execute(
        select(PlacementRequest.id, PlacementRequest.first_name, PlacementRequest.last_name,
               PlacementRequest.child_reference).where(*where)
        .order_by(PlacementRequest.created_at.desc(), PlacementRequest.id.desc())
    ).all()
    found = _fuzzy_filter(candidates, search)
    if sort is not None:  # the matches in the order asked for
        ids = [row.id for row in found]
        return paginate(select(PlacementRequest).where(PlacementRequest.id.in_(ids)).order_by(*_request_order(sort)),
                        page=page, per_page=per_page, total=len(ids))
    window = paginate_rows([row.id for row in found], page=page, per_page=per_page)
    loaded = {r.id: r for r in db.session.scalars(select(PlacementRequest).where(PlacementRequest.id.in_(window.items)))}
    return Paged([loaded[i] for i in window.items], window.total, window.page, window.per_page)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _fuzzy_filter(rows: Sequence, search: str) -> list:
    """Keep the rows (with `first_name`, `last_name`, `child_reference`) whose reference or child's name is close
    to `search` (rapidfuzz), best first; equally good ones keep their order."""
    from rapidfuzz import fuzz, process

    if not rows:
        return []
    needle = _normalised_name(search)
    names = [_normalised_name(f"{row.first_name} {row.last_name}") for row in rows]
    references = [row.child_reference.lower() for row in rows]
    # The same scorers pair by pair, run over the whole list at once (rapidfuzz's C++ loop).
    by_name = process.cdist([needle], names, scorer=fuzz.WRatio)[0]
    by_reference = process.cdist([needle], references,
                                 scorer=fuzz.partial_ratio if len(needle) >= 3 else fuzz.ratio)[0]
    scored = [(max(n, r), row) for n, r, row in zip(by_name.tolist(), by_reference.tolist(), rows)
              if max(n, r) >= SEARCH_THRESHOLD]
    scored.sort(key=lambda pair: -pair[0])
    return [row for _score, row in scored]


# How close a search must be (0-100, rapidfuzz WRatio) to list a request: "Amara Okafr" still finds Amara Okafor.
SEARCH_THRESHOLD = 80


@lru_cache(maxsize=65_536)
def _normalised_name(name: str) -> str:
    """`matching.normalise_name`, remembered: a search scores every name of the LA, and normalising them (Unicode
    decomposition, titles) cost more than the scoring. The names of a region's requests fit in the cache."""
    from portal.matching import normalise_name

    return normalise_name(name)


def _referrals_query(placement_request: PlacementRequest):
    return (
        select(Referral, Provider, ReferralDecline)
        .join(Provider, Provider.id == Referral.provider_id)
        .outerjoin(ReferralDecline, ReferralDecline.referral_id == Referral.id)
        .where(Referral.request_id.in_(group_request_ids(placement_request)))
        .order_by(func.lower(Provider.name), Referral.id)
    )


def list_referrals_for_request(
    user: User, placement_request: PlacementRequest, *, page: int = 1
) -> Paged[tuple[Referral, Provider, ReferralDecline | None]]:
    """Who the referral went to, with any provider's 'we cannot offer a place' answer and its reason: one page (by
    provider name), and how many providers it was sent to."""
    require_officer_of(user, placement_request)
    return paginate(_referrals_query(placement_request), page=page, scalars=False)


def _offers_query(placement_request: PlacementRequest):
    return (
        select(Offer, Vacancy, Setting, Provider)
        .join(Vacancy, Vacancy.id == Offer.vacancy_id)
        .join(Setting, Setting.id == Vacancy.setting_id)
        .join(Provider, Provider.id == Offer.provider_id)
        .where(Offer.request_id.in_(group_request_ids(placement_request)))
        .order_by(Offer.created_at, Offer.id)
    )


def referred_provider_ids(user: User, placement_request: PlacementRequest) -> set[str]:
    """Every provider the request (or its sibling group placed together) was referred to, on any page."""
    require_officer_of(user, placement_request)
    return set(db.session.scalars(select(Referral.provider_id).where(
        Referral.request_id.in_(group_request_ids(placement_request)))))


def list_offers_for_request(user: User, placement_request: PlacementRequest, *,
                            page: int = 1) -> Paged[tuple[Offer, Vacancy, Setting, Provider]]:
    """One page of the offers received for the request, in the order they came, and how many in all."""
    require_officer_of(user, placement_request)
    return paginate(_offers_query(placement_request), page=page, scalars=False)


def get_offer_for_request(user: User, placement_request: PlacementRequest, offer_id: str) -> Offer:
    offer = db.session.scalar(
        select(Offer).where(Offer.id == offer_id, Offer.request_id.in_(group_request_ids(placement_request)))
    )
    require_officer_of(user, placement_request)
    if offer is None:
        other = db.session.get(Offer, offer_id)
        if other is not None:  # another child's offer, asked for through this child's address
            audit_refused(user, "view_offer", "placement_request", other.request_id, detail=f"offer:{other.id}")
        raise NotFound()
    return offer


def find_placement_for_request(user: User, placement_request: PlacementRequest) -> Placement | None:
    require_officer_of(user, placement_request)
    return db.session.scalar(select(Placement).where(Placement.request_id == placement_request.id))


def sibling_placements(user: User, siblings: list[PlacementRequest]) -> dict[str, tuple[Placement, Setting | None]]:
    """Where each placed brother or sister lives (their officer's own LA's records only), by request id."""
    ids = [s.id for s in siblings if s.status == "placed"]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Placement, Setting).outerjoin(Setting, Setting.id == Placement.setting_id)
        .join(PlacementRequest, PlacementRequest.id == Placement.request_id)
        .where(Placement.request_id.in_(ids), officer_requests(user))
    ).all()
    return {placement.request_id: (placement, setting) for placement, setting in rows}


def find_request_by_reference(user: User, reference: str) -> PlacementRequest | None:
    """The officer's own LA's request with this child reference (case-insensitive), if any."""
    return db.session.scalar(
        select(PlacementRequest)
        .where(officer_requests(user),
               func.lower(PlacementRequest.child_reference) == reference.strip().lower())
        .order_by(PlacementRequest.created_at.desc())
        .limit(1)
    )


def list_siblings(user: User, placement_request: PlacementRequest) -> list[PlacementRequest]:
    require_officer_of(user, placement_request)
    if placement_request.sibling_group_id is None:
        return []
    return list(
        db.session.scalars(
            select(PlacementRequest).where(
                PlacementRequest.sibling_group_id == placement_request.sibling_group_id,
                PlacementRequest.id != placement_request.id,
                officer_requests(user),
            )
        )
    )


def list_changes_for_request(user: User, placement_request: PlacementRequest) -> list[tuple[RequestChange, str | None]]:
    """The request's changes of circumstances since it was submitted, newest first, with who made each."""
    require_officer_of(user, placement_request)
    return [tuple(row) for row in db.session.execute(
        select(RequestChange, User.name)
        .outerjoin(User, User.id == RequestChange.changed_by_id)
        .where(RequestChange.request_id == placement_request.id)
        .order_by(RequestChange.changed_at.desc())
    ).all()]


# ------------------------------------------------------------------------------------------ re-entry to care

@dataclass(frozen=True)
class EarlierPlacement:
    """An earlier placement in the officer's own LA that may be this child's: how it was found, and the officer's
    decision (None until they decide)."""

    placement: Placement
    request: PlacementRequest  # the earlier request the placement came from
    setting: Setting | None
    provider: Provider | None
    found_by: str  # "child_reference" or "name_and_date_of_birth" (models.RE_ENTRY_FOUND_BY)
    name_score: float | None  # rapidfuzz name similarity, 0-100, when found by name and date of birth
    link: ReEntryLink | None

    @property
    def decision(self) -> str | None:
        return self.link.status if self.link is not None else None

    @property
    def left_care(self) -> bool:
        """The placement ended with the child leaving care (any SSDA903 reason but a change of placement)."""
        return self.placement.end_date is not None and self.placement.end_reason is not None \
            and self.placement.end_reason not in CHANGE_OF_PLACEMENT_REASONS


@dataclass(frozen=True)
class EarlierCare:
    """What the portal knows of a request's child's earlier time in care: the candidates and the answers so far."""

    candidates: list[EarlierPlacement]
    # The day a re-entry is counted at: the request's submission (today for a draft).
    on: date

    @property
    def unreviewed(self) -> list[EarlierPlacement]:
        return [c for c in self.candidates if c.decision is None]

    @property
    def confirmed(self) -> list[EarlierPlacement]:
        return [c for c in self.candidates if c.decision == "confirmed"]

    @property
    def left_care(self) -> list[EarlierPlacement]:
        """Confirmed earlier placements that ended with the child leaving care on or before `on`, latest first."""
        return sorted((c for c in self.confirmed if c.left_care and c.placement.end_date <= self.on),
                      key=lambda c: c.placement.end_date, reverse=True)

    @property
    def re_entry(self) -> bool:
        """The child had left care before this request: it is a re-entry to care (commissioners count it)."""
        return bool(self.left_care)


def get_earlier_care(user: User, placement_request: PlacementRequest) -> EarlierCare:
    """The request's earlier-placement candidates with the officer's answers (404 unless it is the officer's)."""
    submitted = placement_request.submitted_at
    return EarlierCare(list_earlier_placements(user, placement_request),
                       submitted.date() if submitted is not None else date.today())


def list_earlier_placements(user: User, placement_request: PlacementRequest) -> list[EarlierPlacement]:
    """Placements of the officer's own LA that may be this child's earlier time in care, newest first: those of
    another request with the same child reference, or the same date of birth and a name the matching core's fuzzy
    matcher finds similar (as the duplicate check does), that have ended or came from a request made before this
    one; plus any placement the officer already decided on for this request.

    Another LA's children are never candidates (the earlier request must be the officer's LA's); brothers and
    sisters of the same sibling group are never the same child."""
    from portal.matching import ChildRecord, find_duplicate_requests

    require_officer_of(user, placement_request)
    raw = (placement_request.child_reference or "").strip()
    reference = raw.lower()
    # One query, driven by two index lookups (la_code with date_of_birth, la_code with child_reference: migration
    # 0010) and the request's own links, not a scan of the LA's every request: the task list and the request page
    # run it each time. A reference is looked up as typed, in upper and in lower case (references are codes); the
    # rows are compared without case below.
    mine = [officer_requests(user), PlacementRequest.la_code == placement_request.la_code,
            PlacementRequest.id != placement_request.id]
    if placement_request.sibling_group_id:  # brothers and sisters are never the same child
        mine.append(or_(PlacementRequest.sibling_group_id.is_(None),
                        PlacementRequest.sibling_group_id != placement_request.sibling_group_id))
    lookups = [select(PlacementRequest.id)
               .where(*mine, PlacementRequest.date_of_birth == placement_request.date_of_birth),
               # the placements decided on for this request (each was this LA's candidate when decided)
               select(Placement.request_id).join(ReEntryLink, ReEntryLink.placement_id == Placement.id)
               .where(ReEntryLink.request_id == placement_request.id, Placement.la_code == placement_request.la_code,
                      Placement.request_id != placement_request.id)]
    if raw:
        lookups.append(select(PlacementRequest.id).where(
            *mine, PlacementRequest.child_reference.in_(sorted({raw, raw.upper(), reference}))))
    link_here = and_(ReEntryLink.placement_id == Placement.id, ReEntryLink.request_id == placement_request.id)
    earlier = or_(Placement.end_date.is_not(None), PlacementRequest.created_at < placement_request.created_at,
                  ReEntryLink.id.is_not(None))
    rows = db.session.execute(
        select(Placement, PlacementRequest, Setting, Provider, ReEntryLink)
        .join(PlacementRequest, PlacementRequest.id == Placement.request_id)
        .outerjoin(Setting, Setting.id == Placement.setting_id)
        .outerjoin(Provider, Provider.id == Placement.provider_id)
        .outerjoin(ReEntryLink, link_here)
        .where(PlacementRequest.id.in_(union(*lookups)), earlier)  # each lookup is scoped (`mine`)
        .order_by(Placement.start_date.desc(), Placement.id)
    ).all()
    by_name = {}
    to_compare = [(placement, req) for placement, req, *_ in rows if req.child_reference.strip().lower() != reference
                  and req.date_of_birth == placement_request.date_of_birth]
    if to_compare:
        wanted = ChildRecord(id=placement_request.id, la=placement_request.la_code,
                             name=placement_request.child_name, date_of_birth=placement_request.date_of_birth)
        records = [ChildRecord(id=placement.id, la=req.la_code, name=req.child_name, date_of_birth=req.date_of_birth)
                   for placement, req in to_compare]
        by_name = {s.id: s.score for s in find_duplicate_requests(wanted, records)}
    out = []
    for placement, req, setting, provider, link in rows:
        if req.child_reference.strip().lower() == reference and reference:
            found_by, score = "child_reference", None
        elif placement.id in by_name:
            found_by, score = "name_and_date_of_birth", by_name[placement.id]
        elif link is not None:  # decided on earlier; the record has changed since
            found_by, score = link.found_by, float(link.name_score) if link.name_score is not None else None
        else:
            continue
        out.append(EarlierPlacement(placement, req, setting, provider, found_by, score, link))
    return out


def get_earlier_placement(user: User, placement_request: PlacementRequest, placement_id: str) -> EarlierPlacement:
    """One of the request's earlier-placement candidates; any other placement (another LA's, another child's, or
    none) is 404, and asking for a record that exists through this child's address is audited."""
    found = next((c for c in list_earlier_placements(user, placement_request) if c.placement.id == placement_id), None)
    if found is None:
        other = db.session.get(Placement, placement_id) if placement_id else None
        if other is not None:
            audit_refused(user, "view_placement", "placement_request", other.request_id,
                          detail=f"placement:{other.id}")
        raise NotFound()
    return found


# ------------------------------------------------------------------------------------------ needs you now

WORKLIST_ITEMS = 5  # items listed one by one in each part of "Needs you now" (its count and link say the rest)
STARTING_SOON_DAYS = 7


@dataclass(frozen=True)
class WorkItem:
    """One thing the officer must act on: the child's request, and the placement where there is one."""

    request: PlacementRequest
    placement: Placement | None = None
    detail: str | None = None  # what else the line says: the number of offers, a provider's name


@dataclass(frozen=True)
class OfficerWork:
    """What needs the officer now, at the top of their requests list: their own LA's only. Each part is a count
    and its first few items (`WORKLIST_ITEMS`), oldest first."""

    offers: int  # offers received on the LA's open requests, waiting for a decision (made or shortlisted)
    offer_requests: list[WorkItem]  # the requests those offers are on, with how many each
    offer_request_count: int
    agreements: int  # placement agreements the LA's officer has not signed yet
    agreement_items: list[WorkItem]
    starting: int  # placements starting in the next STARTING_SOON_DAYS days (today included)
    starting_items: list[WorkItem]

    @property
    def total(self) -> int:
        return self.offers + self.agreements + self.starting


def officer_needs_you_now(user: User, today: date | None = None) -> OfficerWork:
    """The officer's worklist, scoped to their LA (`officer_requests`, and placements of their LA): a few small
    queries, whatever the number of requests."""
    today = today or date.today()
    waiting = (officer_requests(user), Offer.status.in_(("made", "shortlisted")),
               PlacementRequest.status.in_(("searching", "offers")))
    offer_count = db.session.scalar(select(func.count()).select_from(Offer).join(
        PlacementRequest, PlacementRequest.id == Offer.request_id).where(*waiting)) or 0
    per_request = (select(Offer.request_id, func.count().label("offers"), func.min(Offer.created_at).label("first"))
                   .join(PlacementRequest, PlacementRequest.id == Offer.request_id).where(*waiting)
                   .group_by(Offer.request_id).subquery())
    request_count = db.session.scalar(select(func.count()).select_from(per_request)) or 0
    offer_items = [WorkItem(req, None, f"{n} offer{'s' if n != 1 else ''}") for req, n in db.session.execute(
        select(PlacementRequest, per_request.c.offers).join(per_request, per_request.c.request_id == PlacementRequest.id)
        .order_by(per_request.c.first, PlacementRequest.id).limit(WORKLIST_ITEMS))]
    # Placements of the LA (Placement.la_code), as the placements pages scope them.
    mine = Placement.la_code == user.la_code if user.role == "officer" and user.la_code else Placement.id.is_(None)
    unsigned = (mine, PlacementAgreement.officer_signed_at.is_(None), PlacementAgreement.locked_at.is_(None),
                Placement.end_date.is_(None))
    agreement_count = db.session.scalar(select(func.count()).select_from(PlacementAgreement).join(
        Placement, Placement.id == PlacementAgreement.placement_id).where(*unsigned)) or 0
    agreement_items = [WorkItem(req, placement, name) for placement, req, name in db.session.execute(
        select(Placement, PlacementRequest, Provider.name)
        .join(PlacementAgreement, PlacementAgreement.placement_id == Placement.id)
        .join(PlacementRequest, PlacementRequest.id == Placement.request_id)
        .outerjoin(Provider, Provider.id == Placement.provider_id)
        .where(*unsigned).order_by(PlacementAgreement.created_at, Placement.id).limit(WORKLIST_ITEMS))]
    soon = (mine, Placement.end_date.is_(None), Placement.start_date >= today,
            Placement.start_date <= today + timedelta(days=STARTING_SOON_DAYS))
    starting_count = db.session.scalar(select(func.count()).select_from(Placement).where(*soon)) or 0
    starting_items = [WorkItem(req, placement, None) for placement, req in db.session.execute(
        select(Placement, PlacementRequest).join(PlacementRequest, PlacementRequest.id == Placement.request_id)
        .where(*soon).order_by(Placement.start_date, Placement.id).limit(WORKLIST_ITEMS))]
    return OfficerWork(offer_count, offer_items, request_count, agreement_count, agreement_items, starting_count,
                       starting_items)


@dataclass(frozen=True)
class Recommendation:
    """What the region's latest saved allocation said of one request (issue 13 §3).

    `in_run`: the request was open when it ran; then either `option_id` (the place it recommends) or `reason`
    (why it found none)."""

    run_at: datetime
    in_run: bool
    option_id: str | None = None
    reason: str | None = None


# The latest run's outcomes by request id, read once per run and process: (run id, {request id: (option, reason)}).
_OUTCOMES: tuple[str, dict[str, tuple[str | None, str | None]]] | None = None


def allocation_recommendation(user: User, placement_request: PlacementRequest) -> Recommendation | None:
    """The latest regional allocation's answer for an officer's own request (None before any run). Only this
    request's line is looked up: no other child's outcome leaves the run."""
    global _OUTCOMES
    require_officer_of(user, placement_request)
    latest = db.session.execute(select(AllocationRun.id, AllocationRun.created_at)
                                .order_by(AllocationRun.created_at.desc(), AllocationRun.id.desc()).limit(1)).first()
    if latest is None:
        return None
    cached = _OUTCOMES
    if cached is None or cached[0] != latest.id:
        result = db.session.scalar(select(AllocationRun.result).where(AllocationRun.id == latest.id)) or {}
        outcomes: dict[str, tuple[str | None, str | None]] = {
            item["request"]: (None, item["reason"]) for item in result.get("unplaced", [])}
        outcomes.update((item["request"], (item["option"], None)) for item in result.get("assignments", []))
        cached = _OUTCOMES = (latest.id, outcomes)
    found = cached[1].get(placement_request.id)
    if found is None:
        return Recommendation(latest.created_at, False)
    return Recommendation(latest.created_at, True, *found)
