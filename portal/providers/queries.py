"""Scoped reads for providers. Every function that can return a provider's or a child's data takes the acting
user and filters by the user's provider, so no view can forget (STYLE.md habit 5). A record of another
provider is "not found" (404), never "forbidden": its existence is not revealed."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from sqlalchemy import ColumnElement, Integer, String, case, cast, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from portal import listing, matching
from portal.matching import vocabulary
from portal.auth.permissions import audit_refused
from portal.db import db, utcnow
from portal.errors import NotFound
from portal.listing import Paged, Sort, paginate, sort_choice
from portal.models import (
    Offer,
    Placement,
    PlacementAgreement,
    PlacementRequest,
    Referral,
    ReferralDecline,
    RequestChange,
    Setting,
    SiblingGroup,
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
    """Fits for one provider, for many referrals: ranks against the provider's own options only (their index of
    their own, scored against the regional medians: `ProviderOptions`), so a referral costs what the provider's
    options cost, however large the region, and every score is the one the officer's page shows."""

    def __init__(self, user: User) -> None:
        snapshot = current_options()
        self.provider_id = user.provider_id
        self.infos = snapshot.infos
        self.own = snapshot.provider_options(self.provider_id)
        self.index = self.own.index
        self.mine = list(self.own.option_ids)

    def fit(self, placement_request: PlacementRequest, *, explain: bool = True) -> Fit:
        if not self.mine:
            return Fit((), ())
        # Brothers and sisters to be placed together: only settings that fit the whole group, with places for all.
        spec, siblings = request_spec(placement_request), sibling_specs(placement_request)
        result = matching.rank(spec, self.index, siblings=siblings, exclusions="none")
        matches = tuple((m, self.infos[m.option]) for m in result.matches if m.option in self.infos)
        misses: tuple = ()
        if explain:
            misses = tuple((e, self.infos[e.option])
                           for e in matching.explain_exclusions(spec, self.index, siblings=siblings))
        return Fit(matches, misses)

    def fitting(self, placement_request: PlacementRequest, siblings: list | None = None) -> InboxFit:
        """The settings of this provider that fit now, best first, with the best option's score at each (as
        `fit(...).settings`), for a list's row."""
        if not self.mine:
            return InboxFit((), frozenset())
        spec = request_spec(placement_request)
        siblings = sibling_specs(placement_request) if siblings is None else siblings
        names: dict[str, tuple[str, float, int]] = {}
        for option_id, score, miles in matching.fitting_scores(spec, self.index, siblings=siblings):
            info = self.infos[option_id]
            names.setdefault(info.setting_id, (info.setting_name, miles, score))
        return InboxFit(tuple(names.values()), frozenset(names))

    def known(self, key: tuple) -> InboxFit | None:
        """A fit kept with the provider's index under `key` (see `_fit_key`), or None."""
        return self.own.memo.get(key)

    def remember(self, key: tuple, fit: InboxFit) -> InboxFit:
        self.own.memo[key] = fit
        return fit


@dataclass(frozen=True)
class InboxFit:
    """Which of the provider's settings fit a referral now, best first: each setting's name, the distance from the
    child's home area in miles and its best option's score (the ranking's order and scores, without the parts)."""

    settings: tuple[tuple[str, float, int], ...]
    setting_ids: frozenset[str]

    @property
    def best_score(self) -> int | None:
        return self.settings[0][2] if self.settings else None


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


# The inbox's orders (`sort=`; `-key` is descending), each ended by the referral's id. By default ("priority") open
# referrals first, the most urgent first, then the best fit first (the rank score of the provider's best fitting
# option: the one the officer's page shows), then by the date the child is needed; or by when the referral was
# received; or by the needed-by date alone.
_REFERRAL_CLOSED = or_(Referral.status == "closed", PlacementRequest.status.not_in(("searching", "offers")))
INBOX_SORTS = ("priority", "received", "needed_by")
INBOX_DEFAULT_SORT = "priority"
INBOX_STATUSES = {"open": "Open", "unanswered": "Open, not answered yet", "due": "Needed today, not answered yet",
                  "answered": "Answered by you", "closed": "Closed"}


def _answered(user: User) -> ColumnElement[bool]:
    """This provider has made an offer or said it cannot offer a place."""
    offered = select(Offer.id).where(Offer.referral_id == Referral.id, Offer.provider_id == user.provider_id)
    declined = select(ReferralDecline.id).where(ReferralDecline.referral_id == Referral.id,
                                                ReferralDecline.provider_id == user.provider_id)
    return or_(offered.exists(), declined.exists())


def _due(today: date) -> ColumnElement[bool]:
    """Needed today (urgency "today", or a needed-by date that has come): with _REFERRAL_CLOSED and _answered,
    what the provider must answer now."""
    return or_(PlacementRequest.urgency == "today", PlacementRequest.needed_by <= today)


@dataclass(frozen=True)
class _Light:
    """One open referral of the inbox as plain columns: enough to rank and order the inbox's open referrals
    without loading them as objects (a large agency has hundreds open; the page shows fifty)."""

    referral_id: str
    sent_at: datetime
    request_id: str
    urgency: str | None
    needed_by: date | None
    fit_key: tuple  # what the referral's fit depends on, on the provider's side the index: see _light_rows


def _light_rows(query) -> list[_Light]:
    """The referrals `query` finds as _Light rows. A fit depends on the child's request and, for brothers and
    sisters to be placed together, on each of theirs and on the group: their versions (updated_at) are the key
    it is kept under (one more query for every group)."""
    rows = db.session.execute(query).all()
    group_ids = {row.sibling_group_id for row in rows if row.sibling_group_id}
    members: dict[str, list] = defaultdict(list)
    groups: dict[str, tuple[bool, datetime]] = {}
    if group_ids:
        for member in db.session.execute(
            select(PlacementRequest.id, PlacementRequest.sibling_group_id, PlacementRequest.status,
                   PlacementRequest.updated_at, SiblingGroup.together,
                   SiblingGroup.updated_at.label("group_updated_at"))
            .join(SiblingGroup, SiblingGroup.id == PlacementRequest.sibling_group_id)
            .where(PlacementRequest.sibling_group_id.in_(group_ids))
        ):
            members[member.sibling_group_id].append(member)
            groups[member.sibling_group_id] = (member.together, member.group_updated_at)
    out = []
    for row in rows:
        key: tuple = (row.request_id, row.updated_at)
        group = groups.get(row.sibling_group_id)
        if group is not None:
            key += (group, tuple(sorted((m.id, m.updated_at, m.status) for m in members[row.sibling_group_id]
                                        if m.id != row.request_id)))
        out.append(_Light(row.referral_id, row.sent_at, row.request_id, row.urgency, row.needed_by, key))
    return out


def _age_years(dob, on) -> ColumnElement[int]:
    """Whole years of age on `on` in SQL, on either database (as PlacementRequest.age_on)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_part("year", func.age(on, dob)), Integer)
    # YYYYMMDD as integers: their difference divided by 10,000 is the whole years.
    return (cast(func.strftime("%Y%m%d", on), Integer) - cast(func.strftime("%Y%m%d", dob), Integer)) / 10000


def _child_filter(test) -> ColumnElement[bool]:
    """`test(request)` holds for the child, or, for brothers and sisters referred together, for one of them (the
    children the referral is for: `referral_children`)."""
    member = aliased(PlacementRequest)
    sibling = (select(member.id).join(SiblingGroup, SiblingGroup.id == member.sibling_group_id)
               .where(member.sibling_group_id == PlacementRequest.sibling_group_id, SiblingGroup.together.is_(True),
                      member.status.in_(("searching", "offers", "placed")), test(member)))
    return or_(test(PlacementRequest), sibling.exists())


def _need_test(need: str):
    # Needs and risks are JSON lists of codes: a code is in the list when its quoted spelling is in the text.
    return lambda req: or_(cast(req.needs, String).contains(f'"{need}"', autoescape=True),
                           cast(req.risks, String).contains(f'"{need}"', autoescape=True))


def _band_test(band: str):
    low, high = vocabulary.AGE_BAND_YEARS[band]
    return lambda req: _age_years(req.date_of_birth, req.needed_by).between(low, high)


def _load_requests(request_ids: list[str]) -> dict[str, PlacementRequest]:
    """Placement requests with their sibling groups and the groups' requests, in three queries however many
    (in chunks, so an IN list stays short): never a query per row for the brothers and sisters."""
    out: dict[str, PlacementRequest] = {}
    for start in range(0, len(request_ids), 500):
        chunk = request_ids[start:start + 500]
        out.update((req.id, req) for req in db.session.scalars(
            select(PlacementRequest).where(PlacementRequest.id.in_(chunk))
            .options(selectinload(PlacementRequest.sibling_group).selectinload(SiblingGroup.requests))))
    return out


def _fits(checker: FitChecker, rows: list[_Light]) -> dict[str, InboxFit]:
    """The fit of each referral of `rows` (open ones), by referral id: kept with the provider's index
    (FitChecker.known), ranked only for the referrals whose child, brothers and sisters, or the provider's
    options changed since."""
    out: dict[str, InboxFit] = {}
    missing: list[_Light] = []
    for row in rows:
        found = checker.known(row.fit_key)
        if found is None:
            missing.append(row)
        else:
            out[row.referral_id] = found
    if missing:
        requests = _load_requests(list({row.request_id for row in missing}))
        for row in missing:
            out[row.referral_id] = checker.remember(row.fit_key, checker.fitting(requests[row.request_id]))
    return out


_FAR = date.max


def _open_key(sort: Sort, fits: dict[str, InboxFit]):
    """How open referrals are ordered in Python: as INBOX_ORDER's SQL, with the best score after the urgency."""
    if sort.key == "received":
        return lambda row: (row.sent_at, row.referral_id)
    if sort.key == "needed_by":
        return lambda row: (row.needed_by or _FAR, row.referral_id)

    def priority(row: _Light):
        best = fits[row.referral_id].best_score if row.referral_id in fits else None
        return (URGENCY_RANK.get(row.urgency, 9), -best if best is not None else float("inf"),
                row.needed_by or _FAR, row.referral_id)

    return priority


# The SQL orders (each ended by the referral's id); "priority" here is for closed referrals, which are not ranked.
INBOX_ORDER = {
    "priority": (case(URGENCY_RANK, value=PlacementRequest.urgency, else_=9), PlacementRequest.needed_by),
    "received": (Referral.sent_at,),
    "needed_by": (PlacementRequest.needed_by,),
}


def list_inbox(user: User, *, urgency: str | None = None, setting_id: str | None = None, status: str | None = None,
               age_band: str | None = None, need: str | None = None, sort: Sort | None = None,
               page: int = 1) -> Paged[InboxRow]:
    """One page of the referral inbox and how many referrals match in all: each referral with this provider's
    offers, answer, and which settings fit now (with their scores).

    Every filter is SQL. In the default order (open referrals first, by urgency, then the best score, then the
    needed-by date; closed ones after, by urgency and needed-by date) the open referrals are ranked against the
    provider's own options, each fit kept with the provider's index so a referral is ranked again only when it or
    the options change, and ordered in Python; the closed ones are paged in SQL after them. The other orders are
    SQL alone. Filtering by setting keeps the open referrals that setting has a vacancy to fit. Only the page's
    rows are loaded as objects, with their offers, answers and brothers and sisters (a query each for the page).
    """
    base = (select(Referral.id.label("referral_id"), Referral.sent_at, PlacementRequest.id.label("request_id"),
                   PlacementRequest.urgency, PlacementRequest.needed_by, PlacementRequest.updated_at,
                   PlacementRequest.sibling_group_id)
            .join(PlacementRequest, PlacementRequest.id == Referral.request_id)
            .where(Referral.provider_id == user.provider_id))
    if urgency:
        base = base.where(PlacementRequest.urgency == urgency)
    if age_band:
        base = base.where(_child_filter(_band_test(age_band)))
    if need:
        base = base.where(_child_filter(_need_test(need)))
    if status in ("unanswered", "due"):
        base = base.where(~_answered(user))
    if status == "due":
        base = base.where(_due(date.today()))
    elif status == "answered":
        base = base.where(_answered(user))
    sort = sort or Sort(INBOX_DEFAULT_SORT)
    checker = FitChecker(user)
    open_only = status in ("open", "unanswered", "due") or setting_id
    ranked = sort.key == "priority" or setting_id
    fits: dict[str, InboxFit] = {}
    if ranked:
        # The open referrals, ranked and ordered in Python; then the closed ones, paged in SQL.
        open_rows = [] if status == "closed" else _light_rows(base.where(~_REFERRAL_CLOSED))
        fits = _fits(checker, open_rows)
        if setting_id:
            open_rows = [row for row in open_rows if setting_id in fits[row.referral_id].setting_ids]
        open_rows.sort(key=_open_key(sort, fits))
        closed = None if open_only else base.where(_REFERRAL_CLOSED)
        ids, total, page, per_page = _page_of_segments(open_rows, closed, sort, page)
    else:
        query = base.where(~_REFERRAL_CLOSED) if open_only else \
            base.where(_REFERRAL_CLOSED) if status == "closed" else base
        paged = paginate(query.with_only_columns(Referral.id).order_by(*_sql_order(sort)), page=page)
        ids, total, page, per_page = paged.items, paged.total, paged.page, paged.per_page
    return Paged(_inbox_rows(user, checker, ids, fits), total, page, per_page)


def _sql_order(sort: Sort) -> list:
    columns = [*INBOX_ORDER[sort.key], Referral.id]
    return [c.desc() if sort.descending else c.asc() for c in columns]


def _page_of_segments(open_rows: list[_Light], closed, sort: Sort, page: int) -> tuple[list[str], int, int, int]:
    """The referral ids of one page of [open referrals in their order] + [closed ones in SQL order] (the reverse
    of both, in reverse, when descending), the total, the page (clamped, as paginate does) and its size."""
    per_page = listing.PER_PAGE
    closed_total = listing.count(closed) if closed is not None else 0
    total = len(open_rows) + closed_total
    page = min(max(1, page), max(1, -(-total // per_page)))
    start, stop = (page - 1) * per_page, page * per_page
    first = [row.referral_id for row in (reversed(open_rows) if sort.descending else open_rows)]
    if sort.descending:  # closed first, newest order reversed; then the open ones from the last
        closed_ids = _closed_ids(closed, sort, start, min(stop, closed_total)) if start < closed_total else []
        rest = first[max(0, start - closed_total):max(0, stop - closed_total)]
        return closed_ids + rest, total, page, per_page
    ids = first[start:stop]
    if len(ids) < per_page and closed is not None and stop > len(first):
        ids += _closed_ids(closed, sort, max(0, start - len(first)), stop - len(first))
    return ids, total, page, per_page


def _closed_ids(closed, sort: Sort, start: int, stop: int) -> list[str]:
    if stop <= start:
        return []
    query = closed.with_only_columns(Referral.id).order_by(*_sql_order(sort)).offset(start).limit(stop - start)
    return list(db.session.scalars(query))


def _inbox_rows(user: User, checker: FitChecker, ids: list[str], fits: dict[str, InboxFit]) -> list[InboxRow]:
    """The page's referrals as InboxRows, in `ids`' order: their requests with brothers and sisters, offers and
    answers loaded for the whole page at once; an open one's fit from `fits`, kept, or ranked now."""
    if not ids:
        return []
    loaded = {referral.id: (referral, req) for referral, req in db.session.execute(
        select(Referral, PlacementRequest).join(PlacementRequest, PlacementRequest.id == Referral.request_id)
        .where(Referral.id.in_(ids), Referral.provider_id == user.provider_id)
        .options(selectinload(PlacementRequest.sibling_group).selectinload(SiblingGroup.requests))
    )}
    offers = _offers_by_referral(user, ids)
    declines = _declines(user, ids)
    out = []
    for referral_id in ids:
        referral, req = loaded[referral_id]
        row = InboxRow(referral, req, tuple(offers.get(referral.id, ())), referral.id in declines, None)
        if row.is_open:
            fit = fits.get(referral.id) or checker.fitting(req)
            row = InboxRow(referral, req, row.offers, row.declined, fit)
        out.append(row)
    return out


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
# The offers list's status filter: "awaiting" is every offer still waiting for the officer (made or shortlisted).
OFFER_LIST_STATUSES = ("awaiting", *OFFER_STATUS_ORDER)


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
    if status == "awaiting":
        query = query.where(Offer.status.in_(LIVE_OFFER_STATUSES))
    elif status:
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



# ------------------------------------------------------------------------------------------ needs you now

@dataclass(frozen=True)
class AgreementToSign:
    """A placement agreement at this provider waiting for the provider's signature (the child anonymised)."""

    placement: Placement
    request: PlacementRequest
    setting_name: str | None

    @property
    def children(self) -> list[PlacementRequest]:
        return referral_children(self.request)


@dataclass(frozen=True)
class NeedsYouNow:
    """What the provider must do now, at the top of the inbox: each a count, and the items where there are few."""

    due_today: int  # open referrals needed today that the provider has not answered
    offers_awaiting: int  # the provider's offers on open requests, waiting for the officer's decision
    agreements: list[AgreementToSign]  # the oldest first; `agreements_count` in all
    agreements_count: int
    stale_vacancies: int

    @property
    def total(self) -> int:
        return self.due_today + self.offers_awaiting + self.agreements_count + self.stale_vacancies


NEEDS_YOU_NOW_ITEMS = 5  # agreements listed one by one (the count and a link to the placements list say the rest)


def provider_needs_you_now(user: User, stale_vacancies: int, today: date | None = None) -> NeedsYouNow:
    """The provider's own: counts in the database (a few small queries, whatever the size of the inbox)."""
    today = today or date.today()
    due = db.session.scalar(
        select(func.count()).select_from(Referral)
        .join(PlacementRequest, PlacementRequest.id == Referral.request_id)
        .where(Referral.provider_id == user.provider_id, ~_REFERRAL_CLOSED, ~_answered(user), _due(today))) or 0
    awaiting = db.session.scalar(
        select(func.count()).select_from(Offer).join(PlacementRequest, PlacementRequest.id == Offer.request_id)
        .where(Offer.provider_id == user.provider_id, Offer.status.in_(LIVE_OFFER_STATUSES),
               PlacementRequest.status.in_(("searching", "offers")))) or 0
    waiting = (PlacementAgreement.provider_signed_at.is_(None), PlacementAgreement.locked_at.is_(None),
               Placement.end_date.is_(None), Placement.provider_id == user.provider_id)
    count = db.session.scalar(select(func.count()).select_from(PlacementAgreement)
                              .join(Placement, Placement.id == PlacementAgreement.placement_id).where(*waiting)) or 0
    agreements = [AgreementToSign(placement, req, name) for placement, req, name in db.session.execute(
        select(Placement, PlacementRequest, Setting.name)
        .join(PlacementAgreement, PlacementAgreement.placement_id == Placement.id)
        .join(PlacementRequest, PlacementRequest.id == Placement.request_id)
        .outerjoin(Setting, Setting.id == Placement.setting_id)
        .where(*waiting).order_by(PlacementAgreement.created_at, Placement.id).limit(NEEDS_YOU_NOW_ITEMS)
        .options(selectinload(PlacementRequest.sibling_group).selectinload(SiblingGroup.requests)))]
    return NeedsYouNow(due, awaiting, agreements, count, stale_vacancies)
