"""Scoped reads for providers. Every function that can return a provider's or a child's data takes the acting
user and filters by the user's provider, so no view can forget (STYLE.md habit 5). A record of another
provider is "not found" (404), never "forbidden": its existence is not revealed."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import contains_eager

from portal import matching
from portal.auth.permissions import audit_refused
from portal.db import db, utcnow
from portal.errors import NotFound
from portal.listing import Paged, Sort, paginate, paginate_rows, sort_choice
from portal.models import (
    Offer,
    Placement,
    PlacementAgreement,
    PlacementRequest,
    Referral,
    ReferralDecline,
    RequestChange,
    Setting,
    User,
    Vacancy,
)
from portal.options import OptionInfo, current_options, group_request_ids, referral_children, request_spec, sibling_specs


URGENCY_RANK = {"today": 0, "within_5_days": 1, "over_5_days": 2}
LIVE_OFFER_STATUSES = ("made", "shortlisted")
DECIDED_OFFER_STATUSES = ("accepted", "declined", "not_chosen")
OFFER_STATUS_ORDER = ("made", "shortlisted", "accepted", "declined", "not_chosen", "withdrawn")


# -------------------------------------------------------------------------------------------------- people

def list_users_for_provider(user: User, *, page: int = 1) -> Paged[User]:
    """One page of the provider's people, those who can sign in first, by name; and how many in all."""
    return paginate(select(User).where(User.provider_id == user.provider_id)
                    .order_by(User.active.desc(), func.lower(User.name), User.id), page=page)


def get_user_for_provider(user: User, user_id: str) -> User:
    """A user of the acting user's own provider; anyone else's is 404."""
    found = db.session.scalar(select(User).where(User.id == user_id, User.provider_id == user.provider_id))
    if found is None:
        raise NotFound()
    return found


# ------------------------------------------------------------------------------------- settings, vacancies

def list_settings_for_provider(user: User, *, active_only: bool = False) -> list[Setting]:
    query = select(Setting).where(Setting.provider_id == user.provider_id)
    if active_only:
        query = query.where(Setting.active.is_(True))
    return list(db.session.scalars(query.order_by(Setting.active.desc(), Setting.name)))


# The settings list's orders and filters (`sort=`; `-key` is descending), each order ended by the setting's id.
SETTING_SORTS = {"name": (func.lower(Setting.name),), "fee": (Setting.fee_gbp_week,),
                 "places": (Setting.registered_places,)}
SETTING_DEFAULT_SORT = "name"
SETTING_STATUSES = {"open": "Open", "closed": "Closed"}


def list_setting_page(user: User, *, status: str | None = None, kind: str | None = None, sort: Sort | None = None,
                      page: int = 1) -> Paged[Setting]:
    """One page of the provider's settings (open and closed, or one of them; one kind), and how many in all."""
    query = select(Setting).where(Setting.provider_id == user.provider_id)
    if status:
        query = query.where(Setting.active.is_(status == "open"))
    if kind:
        query = query.where(Setting.kind == kind)
    sort = sort or Sort(SETTING_DEFAULT_SORT)
    order = [c.desc() if sort.descending else c.asc() for c in SETTING_SORTS[sort.key]]
    return paginate(query.order_by(*order, Setting.id.desc() if sort.descending else Setting.id), page=page)


def get_setting_for_provider(user: User, setting_id: str) -> Setting:
    setting = db.session.scalar(
        select(Setting).where(Setting.id == setting_id, Setting.provider_id == user.provider_id)
    )
    if setting is None:
        raise NotFound()
    return setting


@dataclass(frozen=True)
class VacancyRow:
    """A vacancy as the provider's pages show it, with how long since someone confirmed it is still free."""

    vacancy: Vacancy
    setting: Setting
    days_unconfirmed: int
    stale: bool


def vacancy_rows(vacancies: list[Vacancy], stale_days: int, now: datetime | None = None) -> list[VacancyRow]:
    """Staleness of each vacancy: not confirmed for `stale_days` days means stale (issue 5 §2; it ranks lower)."""
    now = now or utcnow()
    rows = []
    for vacancy in vacancies:
        confirmed = vacancy.confirmed_at or vacancy.created_at
        live = vacancy.status in ("open", "held")
        rows.append(VacancyRow(vacancy, vacancy.setting, (now - confirmed).days,
                               live and confirmed < now - timedelta(days=stale_days)))
    return rows


def list_stale_vacancies(user: User, stale_days: int, now: datetime | None = None) -> list[VacancyRow]:
    """The provider's open and held vacancies not confirmed for `stale_days` days, chosen in the database (the
    banner on the home and vacancies pages; a large agency has hundreds of vacancies, few of them stale)."""
    now = now or utcnow()
    confirmed = func.coalesce(Vacancy.confirmed_at, Vacancy.created_at)
    query = _vacancies_query(user, ("open", "held"), None).where(confirmed < now - timedelta(days=stale_days))
    stale = db.session.scalars(query.order_by(Setting.name, Vacancy.available_from, Vacancy.created_at))
    return [row for row in vacancy_rows(list(stale), stale_days, now) if row.stale]


def list_setting_names(user: User) -> list[tuple[str, str]]:
    """(id, name) of the provider's open settings, by name: what a filter's choices need, without the settings."""
    rows = db.session.execute(
        select(Setting.id, Setting.name).where(Setting.provider_id == user.provider_id, Setting.active.is_(True))
        .order_by(Setting.name))
    return [(setting_id, name) for setting_id, name in rows]


def _vacancies_query(user: User, statuses: tuple[str, ...] | None, setting_id: str | None):
    """The provider's vacancies (of `statuses`, at one setting), each with its setting loaded."""
    query = (
        select(Vacancy).join(Setting).options(contains_eager(Vacancy.setting))
        .where(Setting.provider_id == user.provider_id)
    )
    if statuses:
        query = query.where(Vacancy.status.in_(statuses))
    if setting_id:
        query = query.where(Vacancy.setting_id == setting_id)
    return query


def list_vacancies_for_provider(user: User, statuses: tuple[str, ...] | None = None, *,
                                setting_id: str | None = None) -> list[Vacancy]:
    query = _vacancies_query(user, statuses, setting_id)
    order = func.coalesce(Vacancy.closed_at, Vacancy.created_at)
    return list(db.session.scalars(query.order_by(Setting.name, Vacancy.available_from, order)))


# The vacancies list's orders and its two halves (`sort=`, `show=`); each order is ended by the vacancy's id.
VACANCY_SORTS = {
    "setting": (func.lower(Setting.name), Vacancy.available_from),
    "available": (Vacancy.available_from,),
    "fee": (Vacancy.fee_gbp_week,),
    "confirmed": (func.coalesce(Vacancy.confirmed_at, Vacancy.created_at),),
    "closed": (func.coalesce(Vacancy.closed_at, Vacancy.updated_at),),
}
VACANCY_DEFAULT_SORT = "setting"
VACANCY_VIEWS = {"live": ("open", "held"), "closed": ("filled", "withdrawn")}


def list_vacancy_page(user: User, statuses: tuple[str, ...] | None = None, *, setting_id: str | None = None,
                      sort: Sort | None = None, page: int = 1) -> Paged[Vacancy]:
    """One page of the provider's vacancies (of `statuses`, at one setting), with their settings, and how many in
    all: nothing is cut silently (the filled and withdrawn ones used to stop at the latest 50)."""
    query = _vacancies_query(user, statuses, setting_id)
    sort = sort or Sort(VACANCY_DEFAULT_SORT)
    order = [c.desc() if sort.descending else c.asc() for c in VACANCY_SORTS[sort.key]]
    return paginate(query.order_by(*order, Vacancy.id.desc() if sort.descending else Vacancy.id), page=page)


def find_vacancy_for_provider(user: User, vacancy_id: str | None) -> Vacancy | None:
    """The vacancy if it belongs to the user's provider, else None (edited form fields cannot reach others')."""
    if not vacancy_id:
        return None
    return db.session.scalar(
        select(Vacancy).join(Setting).where(Vacancy.id == vacancy_id, Setting.provider_id == user.provider_id)
    )


def get_vacancy_for_provider(user: User, vacancy_id: str) -> Vacancy:
    vacancy = find_vacancy_for_provider(user, vacancy_id)
    if vacancy is None:
        raise NotFound()
    return vacancy


# --------------------------------------------------------------------------------------- referrals, offers

@dataclass(frozen=True)
class Fit:
    """Which of one provider's open vacancies can meet a child's needs (and why), and which cannot (and why not).

    From the matching core, ranked against the region's whole options index so scores are the ones officers see.
    """

    matches: tuple[tuple[matching.Match, OptionInfo], ...]
    misses: tuple[tuple[matching.Exclusion, OptionInfo], ...]

    @property
    def vacancy_ids(self) -> set[str]:
        return {info.option_id for _match, info in self.matches}

    @property
    def setting_ids(self) -> set[str]:
        return {info.setting_id for _match, info in self.matches}

    @property
    def settings(self) -> list[tuple[str, float]]:
        """Each fitting setting once, best first, with its distance from the child's home area in miles."""
        seen: dict[str, tuple[str, float]] = {}
        for match, info in self.matches:
            seen.setdefault(info.setting_id, (info.setting_name, match.distance_miles))
        return list(seen.values())


class FitChecker:
    """Fits for one provider, for many referrals: loads the process's options index once."""

    def __init__(self, user: User) -> None:
        snapshot = current_options()
        self.provider_id = user.provider_id
        self.index, self.infos = snapshot.index, snapshot.infos
        self.mine = snapshot.provider_option_ids(self.provider_id)

    def fit(self, placement_request: PlacementRequest, *, explain: bool = True) -> Fit:
        if not self.mine:
            return Fit((), ())
        # Brothers and sisters to be placed together: only settings that fit the whole group, with places for all.
        spec, siblings = request_spec(placement_request), sibling_specs(placement_request)
        # Only this provider's options are ranked (their scores are the ones officers see: a score never depends
        # on the other options); ranking the region's ten thousand built a Match for every eligible one, per row
        # of the inbox.
        result = matching.rank(spec, self.index, siblings=siblings, exclusions="none",
                                option_ids=self.mine)
        matches = tuple(
            (m, self.infos[m.option]) for m in result.matches
            if m.option in self.infos and self.infos[m.option].provider_id == self.provider_id
        )
        misses: tuple = ()
        if explain:
            misses = tuple((e, self.infos[e.option])
                           for e in matching.explain_exclusions(spec, self.index, self.mine, siblings=siblings))
        return Fit(matches, misses)

    def fitting(self, placement_request: PlacementRequest, siblings: list | None = None) -> InboxFit:
        """The settings of this provider that fit now, best first (as `fit(...).settings`), for a list's row."""
        if not self.mine:
            return InboxFit((), frozenset())
        spec = request_spec(placement_request)
        siblings = sibling_specs(placement_request) if siblings is None else siblings
        names: dict[str, tuple[str, float]] = {}
        for option_id, miles in matching.fitting_options(spec, self.index, siblings=siblings, option_ids=self.mine):
            info = self.infos[option_id]
            names.setdefault(info.setting_id, (info.setting_name, miles))
        return InboxFit(tuple(names.values()), frozenset(names))


@dataclass(frozen=True)
class InboxFit:
    """Which of the provider's settings fit a referral now, best first, with the distance from the child's home
    area in miles: what the inbox and the dashboard list (the ranking's order, without its matches' parts)."""

    settings: tuple[tuple[str, float], ...]
    setting_ids: frozenset[str]


@dataclass(frozen=True)
class InboxRow:
    referral: Referral
    request: PlacementRequest
    offers: tuple[Offer, ...]
    declined: bool
    fit: InboxFit | None

    @property
    def answered(self) -> bool:
        return self.declined or bool(self.offers)

    @property
    def children(self) -> list[PlacementRequest]:
        """The children this referral is for: the child, or the brothers and sisters to be placed together."""
        return referral_children(self.request)

    @property
    def state(self) -> str:
        """What the provider reads in the inbox's status column."""
        statuses = {o.status for o in self.offers}
        if "accepted" in statuses:
            return "Your offer was accepted"
        if self.request.status == "withdrawn":
            return "Withdrawn by the local authority"
        if self.referral.status == "closed" or self.request.status not in ("searching", "offers"):
            return "Closed"
        if statuses & set(LIVE_OFFER_STATUSES):
            return "Offer made"
        if self.declined:
            return "You said you cannot offer"
        if statuses:
            return "Offer " + sorted(statuses)[0].replace("_", " ")
        return "New" if self.referral.first_viewed_at is None else "Not answered yet"

    @property
    def is_open(self) -> bool:
        return self.referral.status != "closed" and self.request.status in ("searching", "offers")


def list_referrals_for_provider(user: User, *, urgency: str | None = None) -> list[tuple[Referral, PlacementRequest]]:
    """Referrals sent to the user's provider: open ones first, most urgent first, then by needed-by date.

    The request is for anonymised display only (age, sex, postcode sector, needs) until an offer is accepted.
    """
    query = (
        select(Referral, PlacementRequest)
        .join(PlacementRequest, PlacementRequest.id == Referral.request_id)
        .where(Referral.provider_id == user.provider_id)
    )
    if urgency:
        query = query.where(PlacementRequest.urgency == urgency)
    rows = [tuple(r) for r in db.session.execute(query.order_by(Referral.sent_at.desc())).all()]

    def key(row):
        referral, req = row
        closed = referral.status == "closed" or req.status not in ("searching", "offers")
        return closed, URGENCY_RANK.get(req.urgency, 9), req.needed_by

    return sorted(rows, key=key)


def _offers_by_referral(user: User, referral_ids: list[str]) -> dict[str, list[Offer]]:
    out: dict[str, list[Offer]] = defaultdict(list)
    if referral_ids:
        for offer in db.session.scalars(
            select(Offer).where(Offer.provider_id == user.provider_id, Offer.referral_id.in_(referral_ids))
            .order_by(Offer.created_at)
        ):
            out[offer.referral_id].append(offer)
    return out


def _declines(user: User, referral_ids: list[str]) -> dict[str, ReferralDecline]:
    if not referral_ids:
        return {}
    return {
        d.referral_id: d for d in db.session.scalars(
            select(ReferralDecline).where(ReferralDecline.provider_id == user.provider_id,
                                          ReferralDecline.referral_id.in_(referral_ids))
        )
    }


# The inbox's orders (`sort=`; `-key` is descending), each ended by the referral's id: by default open referrals
# first, the most urgent first, then by the date the child is needed; or by when the referral was received; or by
# the needed-by date alone.
_REFERRAL_CLOSED = or_(Referral.status == "closed", PlacementRequest.status.not_in(("searching", "offers")))
INBOX_SORTS = {
    "priority": (_REFERRAL_CLOSED, case(URGENCY_RANK, value=PlacementRequest.urgency, else_=9),
                 PlacementRequest.needed_by),
    "received": (Referral.sent_at,),
    "needed_by": (PlacementRequest.needed_by,),
}
INBOX_DEFAULT_SORT = "priority"
INBOX_STATUSES = {"open": "Open", "unanswered": "Open, not answered yet", "answered": "Answered by you",
                  "closed": "Closed"}


def _answered(user: User) -> ColumnElement[bool]:
    """This provider has made an offer or said it cannot offer a place."""
    offered = select(Offer.id).where(Offer.referral_id == Referral.id, Offer.provider_id == user.provider_id)
    declined = select(ReferralDecline.id).where(ReferralDecline.referral_id == Referral.id,
                                                ReferralDecline.provider_id == user.provider_id)
    return or_(offered.exists(), declined.exists())


def list_inbox(user: User, *, urgency: str | None = None, setting_id: str | None = None, status: str | None = None,
               sort: Sort | None = None, page: int = 1) -> Paged[InboxRow]:
    """One page of the referral inbox and how many referrals match in all: each referral with this provider's
    offers, answer, and which settings fit now (ranked for the page's open referrals only).

    Filtering by setting keeps the referrals that setting has a vacancy to fit: only open referrals are ranked, so
    that filter ranks every open referral matching the other filters, then pages them.
    """
    query = (select(Referral, PlacementRequest).join(PlacementRequest, PlacementRequest.id == Referral.request_id)
             .where(Referral.provider_id == user.provider_id))
    if urgency:
        query = query.where(PlacementRequest.urgency == urgency)
    if status in ("open", "unanswered") or setting_id:
        query = query.where(~_REFERRAL_CLOSED)
    if status == "unanswered":
        query = query.where(~_answered(user))
    elif status == "answered":
        query = query.where(_answered(user))
    elif status == "closed":
        query = query.where(_REFERRAL_CLOSED)
    sort = sort or Sort(INBOX_DEFAULT_SORT)
    order = [c.desc() if sort.descending else c.asc() for c in INBOX_SORTS[sort.key]]
    query = query.order_by(*order, Referral.id.desc() if sort.descending else Referral.id)
    checker = FitChecker(user)
    if setting_id:
        fitting = []
        for referral, req in db.session.execute(query):
            fit = checker.fitting(req)
            if setting_id in fit.setting_ids:
                fitting.append((referral, req, fit))
        paged = paginate_rows(fitting, page=page)
        triples = paged.items
    else:
        paged = paginate(query, page=page, scalars=False)
        triples = [(referral, req, None) for referral, req in paged.items]
    ids = [referral.id for referral, _req, _fit in triples]
    offers = _offers_by_referral(user, ids)
    declines = _declines(user, ids)
    rows = []
    for referral, req, fit in triples:
        row = InboxRow(referral, req, tuple(offers.get(referral.id, ())), referral.id in declines, None)
        if row.is_open:
            row = InboxRow(referral, req, row.offers, row.declined, fit or checker.fitting(req))
        rows.append(row)
    return Paged(rows, paged.total, paged.page, paged.per_page)


def get_referral_for_provider(user: User, referral_id: str) -> Referral:
    """The referral, only if it was sent to the user's provider; otherwise 404 (never reveal it exists)."""
    referral = db.session.scalar(
        select(Referral).where(Referral.id == referral_id, Referral.provider_id == user.provider_id)
    )
    if referral is None:
        other = db.session.get(Referral, referral_id)
        if other is not None:  # a referral sent to another provider: audited on the child's record
            audit_refused(user, "view_referral", "placement_request", other.request_id, detail=f"referral:{other.id}")
        raise NotFound()
    return referral


@dataclass(frozen=True)
class ChangeNotice:
    """"This referral changed on <date>: <sections> updated", with the new details, anonymised as the referral is."""

    changed_at: datetime
    sections: tuple[str, ...]
    details: tuple[tuple[str, str], ...]  # each changed row once, its newest value


def find_change_notice(user: User, referral: Referral) -> ChangeNotice | None:
    """What changed in the child's needs (each child's, for brothers and sisters referred together) since the
    referral reached this provider: only what providers see, and only while the referral is live (sent, or offered
    on). None when nothing they see has changed."""
    if referral.provider_id != user.provider_id or referral.status not in ("sent", "offered"):
        return None
    changes = [change for change in db.session.scalars(
        select(RequestChange)
        .where(RequestChange.request_id.in_(group_request_ids(referral.request)),
               RequestChange.changed_at >= referral.sent_at)
        .order_by(RequestChange.changed_at.desc())
    ) if change.notice]
    if not changes:
        return None
    several = len({change.request_id for change in changes}) > 1  # brothers and sisters: say whose row it is
    sections: dict[str, None] = {}
    details: dict[str, str] = {}
    for change in changes:  # newest first: the first value seen for a row is its newest
        sections.setdefault(change.notice["title"])
        for row, value in change.notice["details"]:
            details.setdefault(f"{row} ({change.notice['child']})" if several else row, value)
    return ChangeNotice(changes[0].changed_at, tuple(sections), tuple(details.items()))


def find_decline(user: User, referral: Referral) -> ReferralDecline | None:
    return _declines(user, [referral.id]).get(referral.id)


def list_offers_for_referral(user: User, referral: Referral) -> list[Offer]:
    return _offers_by_referral(user, [referral.id]).get(referral.id, [])


# The provider's offers list: its orders (`sort=`; `-key` is descending, each ended by the offer's id) and statuses.
OFFER_SORTS = {"made": (Offer.created_at,), "start": (Offer.start_date,), "fee": (Offer.fee_gbp_week,)}
OFFER_DEFAULT_SORT = "-made"  # the latest first


@dataclass(frozen=True)
class OfferRow:
    """An offer as the provider's list shows it: the child anonymised (the request is read for age and sex only)."""

    offer: Offer
    request: PlacementRequest
    setting: Setting

    @property
    def children(self) -> list[PlacementRequest]:
        """The children the offer is for: the child, or the brothers and sisters to be placed together."""
        return referral_children(self.request)


def list_offers_for_provider(user: User, *, status: str | None = None, sort: Sort | None = None,
                             page: int = 1) -> Paged[OfferRow]:
    """One page of the offers this provider has made (of one status), and how many in all."""
    query = (
        select(Offer, PlacementRequest, Setting)
        .join(PlacementRequest, PlacementRequest.id == Offer.request_id)
        .join(Vacancy, Vacancy.id == Offer.vacancy_id)
        .join(Setting, Setting.id == Vacancy.setting_id)
        .where(Offer.provider_id == user.provider_id)
    )
    if status:
        query = query.where(Offer.status == status)
    sort = sort or sort_choice(OFFER_DEFAULT_SORT, OFFER_SORTS, OFFER_DEFAULT_SORT)
    order = [c.desc() if sort.descending else c.asc() for c in OFFER_SORTS[sort.key]]
    paged = paginate(query.order_by(*order, Offer.id.desc() if sort.descending else Offer.id), page=page,
                     scalars=False)
    return Paged([OfferRow(*row) for row in paged.items], paged.total, paged.page, paged.per_page)


def get_offer_for_provider(user: User, offer_id: str) -> Offer:
    offer = db.session.scalar(select(Offer).where(Offer.id == offer_id, Offer.provider_id == user.provider_id))
    if offer is None:
        other = db.session.get(Offer, offer_id)
        if other is not None:
            audit_refused(user, "view_offer", "placement_request", other.request_id, detail=f"offer:{other.id}")
        raise NotFound()
    return offer


def find_placement_for_referral(user: User, referral: Referral) -> tuple[Placement, PlacementAgreement | None] | None:
    """The placement (and its agreement, once the officer has generated it) of this provider's accepted offer."""
    row = db.session.execute(
        select(Placement, PlacementAgreement)
        .join(Offer, Offer.id == Placement.offer_id)
        .outerjoin(PlacementAgreement, PlacementAgreement.placement_id == Placement.id)
        .where(Offer.referral_id == referral.id, Offer.provider_id == user.provider_id, Offer.status == "accepted")
    ).first()
    return tuple(row) if row else None


# ----------------------------------------------------------------------------------------------- dashboard

@dataclass(frozen=True)
class Dashboard:
    open_vacancies: list[VacancyRow]  # open and held
    open_count: int  # open only: what officers can see
    stale: list[VacancyRow]
    offers_by_status: dict[str, int]
    acceptance_rate: float | None  # accepted / offers with an outcome (accepted, declined, not chosen)
    decided_offers: int
    median_response: timedelta | None  # referral sent -> first answer (an offer, or "cannot offer")
    answered: int
    referrals: int
    unanswered_open: list[InboxRow]  # sent to you, still open, no answer yet
    unanswered_closed: int  # sent to you, closed without an answer from you


def provider_dashboard(user: User, stale_days: int) -> Dashboard:
    """The provider's own figures; never another provider's, never a child's identity."""
    open_vacancies = vacancy_rows(list_vacancies_for_provider(user, ("open", "held")), stale_days)
    offers = list(db.session.scalars(select(Offer).where(Offer.provider_id == user.provider_id)))
    by_status = Counter(o.status for o in offers)
    decided = sum(by_status[s] for s in DECIDED_OFFER_STATUSES)
    rows = list_referrals_for_provider(user)
    ids = [r.id for r, _ in rows]
    offers_by_ref = _offers_by_referral(user, ids)
    declines = _declines(user, ids)
    waits = []
    unanswered_open: list[InboxRow] = []
    unanswered_closed = 0
    checker = None
    for referral, req in rows:
        answers = [o.created_at for o in offers_by_ref.get(referral.id, ())]
        if referral.id in declines:
            answers.append(declines[referral.id].declined_at)
        if answers:
            waits.append(max(min(answers) - referral.sent_at, timedelta(0)))
            continue
        row = InboxRow(referral, req, (), False, None)
        if row.is_open:
            checker = checker or FitChecker(user)
            unanswered_open.append(InboxRow(referral, req, (), False, checker.fitting(req)))
        else:
            unanswered_closed += 1
    return Dashboard(
        open_vacancies=open_vacancies,
        open_count=sum(1 for r in open_vacancies if r.vacancy.status == "open"),
        stale=[r for r in open_vacancies if r.stale],
        offers_by_status={status: by_status[status] for status in OFFER_STATUS_ORDER if by_status[status]},
        acceptance_rate=(by_status["accepted"] / decided) if decided else None,
        decided_offers=decided,
        median_response=median(waits) if waits else None,
        answered=len(waits),
        referrals=len(rows),
        unanswered_open=unanswered_open,
        unanswered_closed=unanswered_closed,
    )

