"""What officers do to placement requests. Services add and flush; the view or CLI command commits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError

from portal import geo
from portal.formatting import children_summary, format_date, la_name, label, labels
from portal.models import (
    REQUEST_STATUSES,
    WITHDRAWAL_REASONS,
    ConnectedPerson,
    Offer,
    Placement,
    PlacementRequest,
    Provider,
    ReEntryLink,
    Referral,
    RequestChange,
    Setting,
    SiblingGroup,
    User,
    Vacancy,
)
from portal.auth.permissions import audit
from portal.db import db, utcnow
from portal.errors import Conflict, Invalid, ServiceError
from portal.notifications.services import link, queue_for_provider
from portal.placement_records import (
    create_agreement,
    deprivation_of_liberty_recorded,
    education_continuity,
    placement_type_for,
    provider_code_for,
    unregistered_setting,
)
from portal.options import bump_options_version, group_request_ids, placed_together, referral_children
from portal.requests import sections


class NoLongerAvailable(Conflict):
    """The vacancy, the offer or the request was taken by someone else first (409)."""


EDITABLE_STATUSES = ("draft", "searching", "offers")


def create_draft(user: User, child: dict) -> PlacementRequest:
    """Start a placement request in the officer's own LA from the 'About the child' section."""
    req = PlacementRequest(la_code=user.la_code, created_by_id=user.id, status="draft", completed_sections=[])
    _apply(req, child)
    req.completed_sections = ["child"]
    db.session.add(req)
    db.session.flush()
    audit(user, "create", "placement_request", req.id, detail="draft")
    return req


def find_possible_duplicates(user: User, child: dict, exclude_id: str | None = None) -> list[tuple[PlacementRequest, float]]:
    """Open requests in the officer's LA that may be the same child (similar name, same date of birth).

    The matching core's fuzzy matcher suggests; the officer decides (issue 4: duplicates shown before saving).
    """
    from portal.matching import ChildRecord, find_duplicate_requests

    candidates = list(
        db.session.scalars(
            select(PlacementRequest).where(
                PlacementRequest.la_code == user.la_code,
                PlacementRequest.date_of_birth == child["date_of_birth"],
                PlacementRequest.status.in_(("draft", "searching", "offers")),
            )
        )
    )
    if exclude_id:
        candidates = [c for c in candidates if c.id != exclude_id]
    if not candidates:
        return []
    by_id = {c.id: c for c in candidates}
    record = ChildRecord(id="new", la=user.la_code, name=f"{child['first_name']} {child['last_name']}",
                         date_of_birth=child["date_of_birth"])
    existing = [ChildRecord(id=c.id, la=c.la_code, name=f"{c.first_name} {c.last_name}",
                            date_of_birth=c.date_of_birth) for c in candidates]
    return [(by_id[s.id], s.score) for s in find_duplicate_requests(record, existing) if s.id in by_id]


def save_section(user: User, req: PlacementRequest, key: str, values: dict, *, complete: bool) -> RequestChange | None:
    """Save one task-list section; `complete` marks it done (Save and continue) or leaves it in progress (draft).

    On a submitted request this is a change of circumstances: when a value really changed, the change is kept
    (and returned) with what the providers holding its live referrals are told, anonymised."""
    claim_open(req)
    if req.status != "draft" and not complete:
        raise ServiceError("This request has been submitted, so every section must stay complete: use Save and continue")
    section = sections.SECTIONS_BY_KEY[key]
    submitted = req.status != "draft"
    before_values, before = sections.form_data(req, section), _as_providers_see([req])
    _apply(req, values)
    done = [k for k in (req.completed_sections or []) if k != key]
    req.completed_sections = done + [key] if complete else done
    db.session.flush()
    if not submitted or sections.form_data(req, section) == before_values:
        audit(user, "update", "placement_request", req.id, detail=f"section:{key}")
        return None
    return _record_changes(user, before, key, always={req.id})[0]


def submit_request(user: User, req: PlacementRequest) -> None:
    """Submit a complete draft: it starts searching and the officer sees the ranked matches."""
    if req.status != "draft":
        raise Conflict("This request has already been submitted")
    missing = sections.missing_required(req)
    if missing:
        raise Invalid("Complete these sections first: " + ", ".join(s.title for s in missing), code="incomplete")
    # Brothers and sisters already searching to be placed with this child: their referrals now cover one more.
    group = req.sibling_group
    siblings = [o for o in group.requests if o.id != req.id] if group is not None and group.together else []
    before = _as_providers_see(siblings)
    now = utcnow()
    submitted = db.session.execute(  # once: a second click or tab is refused, not submitted again
        update(PlacementRequest)
        .where(PlacementRequest.id == req.id, PlacementRequest.status == "draft")
        .values(status="searching", submitted_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if submitted != 1:
        raise Conflict("This request has already been submitted")
    req.status, req.submitted_at = "searching", now  # as the database has it now
    db.session.flush()
    audit(user, "submit", "placement_request", req.id)
    _record_changes(user, before, "siblings")


def _apply(req: PlacementRequest, values: dict) -> None:
    """Copy validated section values onto the request, turning postcodes into grid points (portal.geo)."""
    for name, value in values.items():
        if name in ("home", "school", "family"):
            info: geo.PostcodeInfo | None = value
            setattr(req, f"{name}_postcode", info.postcode if info else None)
            setattr(req, f"{name}_easting", info.easting if info else None)
            setattr(req, f"{name}_northing", info.northing if info else None)
        elif isinstance(value, str):
            value = value.strip()
            setattr(req, name, value if value or name in ("child_reference", "first_name", "last_name") else None)
        else:
            setattr(req, name, value)
    if req.keep_school and not req.school_postcode:
        req.keep_school = False


def send_referrals(
    user: User, req: PlacementRequest, provider_ids: set[str], eligible_provider_ids: set[str]
) -> list[Referral]:
    """Send the anonymised referral to the chosen providers, never to one that cannot meet the child's needs."""
    if req.status not in ("searching", "offers"):
        raise ServiceError("You can only send referrals for a request that is searching for a placement")
    _siblings_ready(req)
    not_eligible = provider_ids - eligible_provider_ids
    if not_eligible:
        raise ServiceError("A provider you chose has no home that can meet this child's needs. Refresh the matches and choose again")
    # Brothers and sisters placed together have one referral per provider, whichever child's page sent it.
    already = set(db.session.scalars(select(Referral.provider_id).where(
        Referral.request_id.in_(group_request_ids(req)))))
    referrals = []
    for provider_id in sorted(provider_ids - already):
        referral = Referral(request_id=req.id, provider_id=provider_id, sent_by_id=user.id)
        db.session.add(referral)
        referrals.append(referral)
    db.session.flush()
    for referral in referrals:
        audit(user, "send_referral", "placement_request", req.id, detail=f"provider:{referral.provider_id}")
    _tell_providers_of_referrals(req, referrals)  # issue 17 §2: an email to each provider referred
    return referrals


def _tell_providers_of_referrals(req: PlacementRequest, referrals: list[Referral]) -> None:
    """Queue "new referral" emails: the anonymised summary providers see (no name, no date of birth) and a link."""
    summary, urgency = _summary(req), label(req.urgency, "urgency")
    for referral in referrals:
        queue_for_provider(referral.provider_id, "referral_received", summary=summary, urgency=urgency,
                           local_authority=la_name(req.la_code),
                           link=link("providers.referral", referral_id=referral.id))


def _providers_with_live_offers(request_ids: list[str], *, except_offer: str) -> set[str]:
    return set(db.session.scalars(select(Offer.provider_id).where(
        Offer.request_id.in_(request_ids), Offer.id != except_offer, Offer.status.in_(("made", "shortlisted")))))


def _summary(req: PlacementRequest) -> str:
    """The children a referral is for, anonymised as providers see them: "Male, age 11", "Sibling group of 2"."""
    return children_summary(referral_children(req) or [req])


def _tell_providers(req: PlacementRequest, provider_ids: set[str], template: str, **fields: str) -> None:
    """Queue `template` for the providers' people who answer referrals, about `req` as providers see it: the
    anonymised summary and a link to their offers, never a name or the officer's own words (issue 17 §2)."""
    summary = _summary(req)
    for provider_id in sorted(provider_ids):
        queue_for_provider(provider_id, template, summary=summary, local_authority=la_name(req.la_code),
                           link=link("providers.offers"), **fields)


def _siblings_ready(req: PlacementRequest) -> None:
    """Brothers and sisters to be placed together are referred together: every one's request must be submitted."""
    group = req.sibling_group
    if group is None or not group.together:
        return
    drafts = [other for other in group.requests if other.id != req.id and other.status == "draft"]
    if drafts:
        names = " and ".join(other.child_name for other in drafts)
        raise ServiceError(f"Submit {names}'s request first: brothers and sisters to be placed together are "
                           "referred together, so providers see every child's needs")


def decline_offer(user: User, req: PlacementRequest, offer: Offer, reason: str) -> None:
    """Decline an offer with a reason the provider will see."""
    if not reason.strip():
        raise ServiceError("Enter a reason the provider will see")
    changed = db.session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status.in_(("made", "shortlisted")))
        .values(status="declined", decision_reason=reason.strip(), decided_at=utcnow())
    ).rowcount
    if changed != 1:
        raise ServiceError("This offer can no longer be declined")
    audit(user, "decline_offer", "placement_request", req.id, detail=f"offer:{offer.id}")
    _tell_providers(req, {offer.provider_id}, "offer_decision", decision="declined")  # issue 17 §2


def _book_vacancy(vacancy_id: str, places: int) -> None:
    """Take `places` from an open vacancy in ONE conditional update: never read-then-write (DESIGN.md §3)."""
    result = db.session.execute(
        update(Vacancy)
        .where(
            Vacancy.id == vacancy_id,
            Vacancy.status == "open",
            Vacancy.places - Vacancy.places_taken >= places,
        )
        .values(
            places_taken=Vacancy.places_taken + places,
            status=case((Vacancy.places_taken + places >= Vacancy.places, "filled"), else_="open"),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NoLongerAvailable("This vacancy is no longer available. Nothing has been saved")


def accept_offer(user: User, req: PlacementRequest, offer: Offer) -> Placement:
    """Accept one offer: book the vacancy atomically, lock the offer, record the placement, tell the others.

    For brothers and sisters to be placed together the offer is for the whole group: it takes a place for every
    child, and every child is placed in that one setting in this one transaction (all or nothing), one placement
    record each, with siblingsPlacedTogether recorded. Returns the placements, this child's first.

    Safe under concurrency on SQLite and PostgreSQL: the vacancy is booked by a conditional update, the offer
    moves to accepted by a conditional update, and unique indexes (one accepted offer per request, one placement
    per request) back both up. The loser gets NoLongerAvailable and the caller rolls back: nothing half-saved.
    """
    children = placed_together(req)
    if any(child.status not in ("searching", "offers") for child in children):
        raise NoLongerAvailable("This request already has a placement or is closed. Nothing has been saved")
    if offer.request_id not in {child.id for child in children}:
        raise NoLongerAvailable("This offer is no longer for this child. Nothing has been saved")
    # Claim each child's request first, one row at a time in id order: two acceptances for one child (or one group)
    # then queue on the same row instead of locking offers in opposite orders (a deadlock on PostgreSQL), and the
    # second finds the child placed.
    now = utcnow()
    for child in sorted(children, key=lambda c: c.id):
        claimed = db.session.execute(
            update(PlacementRequest)
            .where(PlacementRequest.id == child.id, PlacementRequest.status.in_(("searching", "offers")))
            .values(status="placed", closed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            raise NoLongerAvailable("This request already has a placement or is closed. Nothing has been saved")
    changed = db.session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status.in_(("made", "shortlisted")))
        .values(status="accepted", decided_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise NoLongerAvailable("This offer is no longer available. Nothing has been saved")
    try:
        _book_vacancy(offer.vacancy_id, len(children))
    except NoLongerAvailable:
        if len(children) > 1:
            raise NoLongerAvailable(f"This vacancy no longer has places for all {len(children)} brothers and "
                                    "sisters. Nothing has been saved") from None
        raise
    vacancy = db.session.get(Vacancy, offer.vacancy_id)
    setting = db.session.get(Setting, vacancy.setting_id)
    provider = db.session.get(Provider, setting.provider_id)
    placements = [_placement(user, child, offer, setting, provider, together=len(children)) for child in children]
    ids = [child.id for child in children]
    not_chosen = _providers_with_live_offers(ids, except_offer=offer.id)  # told by email below (issue 17 §2)
    # The other offers and referrals are told the outcome.
    db.session.execute(
        update(Offer)
        .where(Offer.request_id.in_(ids), Offer.id != offer.id, Offer.status.in_(("made", "shortlisted")))
        .values(status="not_chosen", decision_reason="Another offer was accepted for this child", decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Referral)
        .where(Referral.request_id.in_(ids), Referral.provider_id != provider.id)
        .values(status="closed", outcome_reason="The child has been placed elsewhere")
        .execution_options(synchronize_session=False)
    )
    for child in children:  # already so in the database (claimed above): the objects say it too
        child.status, child.closed_at = "placed", now
    if len(children) == 1:
        _count_siblings_placed_together(req, placements[0])
    bump_options_version(vacancies=[offer.vacancy_id])
    try:
        db.session.flush()
    except IntegrityError as error:
        raise NoLongerAvailable("This request already has a placement. Nothing has been saved") from error
    _tell_providers(req, {provider.id}, "offer_decision", decision="accepted")
    _tell_providers(req, not_chosen - {provider.id}, "offer_decision", decision="not chosen, another offer was accepted")
    for child, placement in zip(children, placements):
        audit(user, "accept_offer", "placement_request", child.id, detail=f"offer:{offer.id}")
        create_agreement(placement, child, offer, user=user)
    # One message for the offer's agreements (a sibling group's are signed one after another from the first).
    queue_for_provider(provider.id, "agreement_to_sign", summary=_summary(req), local_authority=la_name(req.la_code),
                       start_date=format_date(offer.start_date),
                       link=link("placements.detail", placement_id=placements[0].id))
    return placements[0]


def _placement(user: User, child: PlacementRequest, offer: Offer, setting: Setting, provider: Provider, *,
               together: int) -> Placement:
    distance = geo.distance_miles(child.home_easting, child.home_northing, setting.easting, setting.northing)
    placement = Placement(
        request_id=child.id,
        offer_id=offer.id,
        setting_id=setting.id,
        provider_id=provider.id,
        la_code=child.la_code,
        start_date=offer.start_date,
        placement_type=placement_type_for(setting.kind),
        provider_code=provider_code_for(provider, child.la_code),
        weekly_cost_gbp=offer.fee_gbp_week,
        distance_miles=Decimal(str(distance)),
        inside_la=setting.la_code == child.la_code,
        over_20_miles=distance > 20,
        siblings_placed_together=together if together > 1 else 0,
        education_continuity=education_continuity(child, setting.easting, setting.northing),
        # Issue 13 §4: as the request records it (the officer can correct it on the placement record), and
        # whether the setting needed an Ofsted registration it does not have.
        deprivation_of_liberty=deprivation_of_liberty_recorded(child.needs),
        unregistered_setting=unregistered_setting(setting.kind, setting.ofsted_urn),
        recorded_by_id=user.id,
    )
    db.session.add(placement)
    return placement


def _close_live(request_ids: list[str], outcome: str, now) -> tuple[int, int]:
    """Close the requests' offers still waiting for a decision and their live referrals, telling providers
    `outcome` (words that name no child). Returns how many offers and referrals were closed."""
    offers = db.session.execute(
        update(Offer)
        .where(Offer.request_id.in_(request_ids), Offer.status.in_(("made", "shortlisted")))
        .values(status="not_chosen", decision_reason=outcome, decided_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    referrals = db.session.execute(
        update(Referral)
        .where(Referral.request_id.in_(request_ids), Referral.status.in_(("sent", "offered")))
        .values(status="closed", outcome_reason=outcome)
        .execution_options(synchronize_session=False)
    ).rowcount
    return offers, referrals


def split_group(user: User, req: PlacementRequest, reason: str) -> SiblingGroup:
    """The plan allows the brothers and sisters to live apart: stop matching them as one unit, for a reason.

    The group's live referrals and offers were for all the children together, so they are closed, providers told
    why in words that name no child; from now on each child is matched, referred and placed on their own."""
    group = req.sibling_group
    if group is None:
        raise ServiceError("This child is not in a sibling group")
    if not group.together:
        raise Conflict("These brothers and sisters are already to be matched one by one")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Enter why the children can be placed apart", field="reason")
    if len(reason) > 1000:
        raise Invalid("The reason must be 1000 characters or fewer", field="reason")
    ids = [member.id for member in group.requests]
    if not any(member.status in EDITABLE_STATUSES for member in group.requests):
        raise Conflict("These brothers and sisters have already been placed or their requests are closed")
    changed = db.session.execute(
        update(SiblingGroup).where(SiblingGroup.id == group.id, SiblingGroup.together.is_(True))
        .values(together=False, split_reason=reason, split_at=utcnow(), split_by_id=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict("These brothers and sisters are already to be matched one by one")
    outcome = "The local authority has decided these brothers and sisters can live apart: each child will be referred on their own"
    live = list(db.session.execute(select(Referral.id, Referral.provider_id).where(
        Referral.request_id.in_(ids), Referral.status.in_(("sent", "offered"))).order_by(Referral.id)))
    _close_live(ids, outcome, utcnow())
    # Told by email and in-app (issue 17 §2): how many children, never who, and a link to the closed referral.
    children = sum(member.status != "draft" for member in group.requests)
    for referral_id, provider_id in live:
        queue_for_provider(provider_id, "sibling_group_split", summary=f"sibling group of {children}",
                           local_authority=la_name(req.la_code), link=link("providers.referral", referral_id=referral_id))
    for member in group.requests:
        if member.status == "offers":
            member.status = "searching"
    db.session.expire(group)
    for member_id in ids:
        audit(user, "split_sibling_group", "placement_request", member_id, detail=f"sibling_group:{group.id}")
    return group


def add_connected_person(user: User, req: PlacementRequest, values: dict) -> ConnectedPerson:
    """Record a connected person for the child; they become an option ranked above every other (s22C). On a
    submitted request the change is kept (providers are not told: connected persons are the LA's)."""
    claim_open(req)
    info: geo.PostcodeInfo = values["postcode"]
    person = ConnectedPerson(
        request_id=req.id, name=values["name"].strip(), relationship_to_child=values["relationship_to_child"].strip(),
        postcode=info.postcode, la_code=info.la_code, easting=info.easting, northing=info.northing,
        stage=values["stage"], capacity=values["capacity"], source=values["source"],
    )
    db.session.add(person)
    db.session.flush()
    audit(user, "add_connected_person", "placement_request", req.id, detail=f"connected_person:{person.id}")
    if req.status != "draft":
        _record_changes(user, {req.id: {}}, "connected_persons", always={req.id})
    return person


def suggest_registered_carers(
    people: list[ConnectedPerson],
) -> dict[str, list[tuple[Setting, Provider, float, tuple[str, ...]]]]:
    """Registered fostering households that may be each connected person (rapidfuzz: name and postcode).

    A suggestion for the officer to check, never a decision. The households are read once for all the people.
    """
    from portal.matching import CarerRecord, match_connected_person

    if not people:
        return {}
    rows = db.session.execute(
        select(Setting, Provider).join(Provider, Provider.id == Setting.provider_id).where(Setting.kind == "foster")
    ).all()
    carers = [CarerRecord(id=setting.id, name=setting.name, postcode=setting.postcode) for setting, _ in rows]
    by_id = {setting.id: (setting, provider) for setting, provider in rows}
    return {
        person.id: [(*by_id[s.id], s.score, s.reasons)
                    for s in match_connected_person(person.name, person.postcode, carers)[:5]]
        for person in people
    }


def link_sibling(user: User, req: PlacementRequest, other: PlacementRequest, *, together: bool) -> SiblingGroup:
    """Put two requests of the same LA in one sibling group (merging groups); `together` applies to the group."""
    if other.id == req.id:
        raise ServiceError("Enter the reference of a different child")
    if other.la_code != req.la_code:
        raise ServiceError("Brothers and sisters must be referred by the same local authority")
    if req.status not in EDITABLE_STATUSES or other.status not in EDITABLE_STATUSES:
        raise Conflict("Both requests must still be open to link them")
    claim_open(req, other)
    members = {r.id: r for g in (req.sibling_group, other.sibling_group) if g is not None for r in g.requests}
    before = _as_providers_see({**members, req.id: req, other.id: other}.values())
    group = req.sibling_group or other.sibling_group
    if group is None:
        group = SiblingGroup(la_code=req.la_code, together=together)
        db.session.add(group)
        db.session.flush()
    for member in (req, other):
        old = member.sibling_group
        if old is not None and old.id != group.id:
            for moved in list(old.requests):
                moved.sibling_group = group
        member.sibling_group = group
    group.together = together
    if together:  # matched as one unit again: an earlier decision to place them apart no longer holds
        group.split_reason = group.split_at = group.split_by_id = None
    db.session.flush()
    audit(user, "link_sibling", "placement_request", req.id, detail=f"sibling_group:{group.id}")
    audit(user, "link_sibling", "placement_request", other.id, detail=f"sibling_group:{group.id}")
    _record_changes(user, before, "siblings", always={req.id, other.id})
    return group


def unlink_sibling(user: User, req: PlacementRequest) -> None:
    """Take the child out of their sibling group; a change for every submitted request of the group."""
    if req.sibling_group_id is None:
        raise ServiceError("This child is not in a sibling group")
    claim_open(req)
    group_id = req.sibling_group_id
    before = _as_providers_see(list(req.sibling_group.requests))
    req.sibling_group = None
    db.session.flush()
    audit(user, "unlink_sibling", "placement_request", req.id, detail=f"sibling_group:{group_id}")
    _record_changes(user, before, "siblings", always={req.id})


def shortlist_offer(user: User, req: PlacementRequest, offer: Offer) -> None:
    """Mark an offer as shortlisted (the provider sees it is being considered)."""
    changed = db.session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.request_id.in_(group_request_ids(req)), Offer.status == "made")
        .values(status="shortlisted")
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict("Only a new offer can be shortlisted")
    audit(user, "shortlist_offer", "placement_request", req.id, detail=f"offer:{offer.id}")


def _count_siblings_placed_together(req: PlacementRequest, placement: Placement) -> None:
    """Placements Data Standard siblingsPlacedTogether: how many of the sibling group live in this one setting.

    Counted from committed rows: the group's row is locked first (an update), so two brothers or sisters accepted
    into one home at the same moment are counted one after the other; the second waits for the first to commit and
    then sees its placement (PostgreSQL reads each statement afresh; on SQLite the unit of work holds the write lock
    already). Without the lock each would read before the other committed and count only itself. Only a group that
    was split can have two of its children accepted one by one at once: a group placed together is accepted in one
    transaction, and its row is left alone (splitting locks it before the offers, an acceptance after them)."""
    if req.sibling_group_id is None or placement.setting_id is None:
        return
    if not req.sibling_group.together:
        db.session.execute(
            update(SiblingGroup).where(SiblingGroup.id == req.sibling_group_id).values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    together = list(
        db.session.scalars(
            select(Placement)
            .join(PlacementRequest, PlacementRequest.id == Placement.request_id)
            .where(PlacementRequest.sibling_group_id == req.sibling_group_id,
                   Placement.setting_id == placement.setting_id, Placement.end_date.is_(None))
        )
    )
    members = {id(p): p for p in [*together, placement]}  # the new placement may already be flushed
    if len(members) >= 2:
        for sibling_placement in members.values():
            sibling_placement.siblings_placed_together = len(members)


# ------------------------------------------------------------------------------ the request's life after submission

def claim_open(*reqs: PlacementRequest) -> None:
    """Change only requests still open (draft, searching, offers): a placed, withdrawn or closed request is a record
    of what happened and nothing in it changes any more (409).

    Checked where it counts, not on the copy the page read: one conditional update of each request's row, in id
    order (as accept_offer claims them), inside the unit of work. On PostgreSQL the row then stays locked until the
    commit, so a withdrawal or an acceptance at the same moment waits for this change and sees it; on SQLite the
    unit of work holds the write lock already."""
    for req in sorted(reqs, key=lambda r: r.id):
        claimed = db.session.execute(
            update(PlacementRequest)
            .where(PlacementRequest.id == req.id, PlacementRequest.status.in_(EDITABLE_STATUSES))
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            raise _closed(req)


def closed_message(status: str) -> str:
    """What an officer is told when a request's status no longer lets it change."""
    return f"This request is {REQUEST_STATUSES.get(status, status).lower()}, so it can no longer be changed"


def _closed(req: PlacementRequest) -> Conflict:
    """The 409 for a request that is no longer open, named by its status in the database (not the page's copy)."""
    status = db.session.scalar(select(PlacementRequest.status).where(PlacementRequest.id == req.id))
    return Conflict(closed_message(status), code="request_closed")


def as_providers_see(req: PlacementRequest) -> dict[str, str]:
    """A submitted request as the providers holding its referral read it before an offer is accepted: age, not date
    of birth; postcode sector, not postcode; no names, no school, no family (DESIGN.md §5)."""
    together = len(placed_together(req)) - 1
    suitability = "; ".join(
        f"{label(kind, 'setting_type')}: {label(getattr(req, f'suitability_{kind}'), 'suitability').lower()}"
        for kind in ("foster", "residential", "supported"))
    return {
        "Age when needed": str(req.age_on(req.needed_by)),
        "Sex": label(req.sex, "sex"),
        "Area": f"Postcode sector {geo.postcode_sector(req.home_postcode)}",
        "Needed": f"{label(req.urgency, 'urgency')}, by {format_date(req.needed_by)}",
        "Type of placement": suitability,
        "Needs": ", ".join(labels(req.needs, "need")) or "None recorded",
        "Risks": ", ".join(labels(req.risks, "risk")) or "No known risks",
        "Can live with pets": label(req.pets, "pets"),
        "Cared for alongside": label(req.living_companions, "companions"),
        "Notes": req.notes or "None",
        "Brothers and sisters": (f"To be placed together with {together} brother{'s' if together > 1 else ''} or "
                                 f"sister{'s' if together > 1 else ''}") if together else "None to be placed with this child",
    }


def _as_providers_see(reqs) -> dict[str, dict[str, str]]:
    """What providers see of each submitted request in `reqs` (drafts have no referrals), before a change."""
    return {req.id: as_providers_see(req) for req in reqs if req.status != "draft"}


def _record_changes(user: User, before: dict[str, dict[str, str]], section: str, *,
                    always: set[str] = frozenset()) -> list[RequestChange]:
    """Keep a change of `section` for each request in `before` whose providers' view changed, and for those in
    `always` whatever it did; each notice holds only the rows that changed, as providers read them."""
    title = sections.CHANGE_TITLES[section]
    db.session.flush()
    changes = []
    for request_id, old in before.items():
        req = db.session.get(PlacementRequest, request_id)
        new = as_providers_see(req)
        details = [[row, value] for row, value in new.items() if old and old.get(row) != value]
        if not details and request_id not in always:
            continue
        notice = {"title": title, "child": f"{new['Sex']}, age {new['Age when needed']}", "details": details} \
            if details else None
        change = RequestChange(request_id=request_id, section=section, changed_by_id=user.id, notice=notice)
        db.session.add(change)
        changes.append(change)
    db.session.flush()
    for change in changes:
        audit(user, "change", "placement_request", change.request_id, detail=f"section:{section} change:{change.id}")
    _tell_providers_of_change([change.request_id for change in changes if change.notice], title)
    return changes


def _tell_providers_of_change(request_ids: list[str], title: str) -> None:
    """Queue "referral changed" for each provider holding a live referral (sent, or offered on) of the changed
    children, once per referral: the section's title and the anonymised summary, never what changed (the notes
    are the officer's own words and may name the child); the referral's page shows the change notice."""
    if not request_ids:
        return
    told: set[str] = set()
    for request_id in request_ids:
        req = db.session.get(PlacementRequest, request_id)
        live = db.session.scalars(select(Referral).where(
            Referral.request_id.in_(group_request_ids(req)), Referral.status.in_(("sent", "offered")))
            .order_by(Referral.id))
        for referral in live:
            if referral.id in told:
                continue
            told.add(referral.id)
            queue_for_provider(referral.provider_id, "referral_changed", summary=_summary(referral.request),
                               local_authority=la_name(req.la_code), sections=title,
                               link=link("providers.referral", referral_id=referral.id))


def update_connected_person(user: User, req: PlacementRequest, person: ConnectedPerson, values: dict) -> None:
    """Change what is known of a connected person, their assessment stage above all: a person approved since the
    request was submitted is ranked first from now on (s22C)."""
    claim_open(req)
    if person.request_id != req.id:
        raise Invalid("This person is not one of this child's connected persons")
    info: geo.PostcodeInfo = values["postcode"]
    person.name, person.relationship_to_child = values["name"].strip(), values["relationship_to_child"].strip()
    person.postcode, person.la_code, person.easting, person.northing = (info.postcode, info.la_code, info.easting,
                                                                        info.northing)
    person.stage, person.capacity, person.source = values["stage"], values["capacity"], values["source"]
    db.session.flush()
    audit(user, "update_connected_person", "placement_request", req.id, detail=f"connected_person:{person.id}")
    if req.status != "draft":
        _record_changes(user, {req.id: {}}, "connected_persons", always={req.id})


def withdraw_request(user: User, req: PlacementRequest, reason: str, other: str | None = None) -> int:
    """Withdraw a request the child no longer needs: it stops searching, every live referral is closed and every
    open offer with it, each provider told the reason's category only (the officer's own words stay with the LA).
    Returns how many referrals were closed. Once only: a second withdrawal, or one that lost a race with an
    acceptance, is a Conflict (409) and changes nothing."""
    if reason not in WITHDRAWAL_REASONS:
        raise Invalid("Select why the request is being withdrawn", field="reason")
    other = (other or "").strip() if reason == "other" else ""
    if reason == "other" and not other:
        raise Invalid("Enter why the request is being withdrawn", field="reason_other")
    if len(other) > 500:
        raise Invalid("The reason must be 500 characters or fewer", field="reason_other")
    if len(placed_together(req)) > 1:
        raise Conflict("This child is to be placed together with their brothers and sisters, and their referrals "
                       "are for all of them: remove this child from the sibling group first, then withdraw")
    now = utcnow()
    changed = db.session.execute(
        update(PlacementRequest)
        .where(PlacementRequest.id == req.id, PlacementRequest.status.in_(EDITABLE_STATUSES))
        .values(status="withdrawn", closed_at=now, withdrawn_reason=reason, withdrawn_reason_other=other or None,
                withdrawn_by_id=user.id, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:  # withdrawn a moment ago in another tab, or placed: the first one stands
        raise _closed(req)
    category = WITHDRAWAL_REASONS[reason]
    outcome = f"The local authority withdrew this referral: {category[0].lower()}{category[1:]}"
    referred = set(db.session.scalars(select(Referral.provider_id).where(
        Referral.request_id == req.id, Referral.status.in_(("sent", "offered")))))  # told by email (issue 17 §2)
    offers, referrals = _close_live([req.id], outcome, now)
    _tell_providers(req, referred, "referral_closed", outcome=f"withdrawn: {category[0].lower()}{category[1:]}")
    db.session.expire(req)
    audit(user, "withdraw", "placement_request", req.id,
          detail=f"reason:{reason} referrals_closed:{referrals} offers_closed:{offers}")
    return referrals


# What a brother's or sister's new request takes from the request it is started from: only what the children
# share. Their own name, date of birth, sex, school, needs, risks and type of placement are theirs to give.
SIBLING_COPY = ("Home postcode", "Family postcode", "Local authorities to avoid", "When the placement is needed")


def start_sibling_request(user: User, source: PlacementRequest, child: dict) -> tuple[PlacementRequest, list[str]]:
    """Start a brother's or sister's request from `source`: a draft in the same LA with the shared sections copied
    (where the child lived, the family's postcode, places to avoid, when the placement is needed), linked with
    `source` in one sibling group, to be placed together unless the group is already to be placed apart.
    Returns the new request and what was copied, in words."""
    claim_open(source)
    new = create_draft(user, child)
    copied, done = [], list(new.completed_sections)
    if source.home_postcode:
        new.home_postcode, new.home_easting, new.home_northing = (source.home_postcode, source.home_easting,
                                                                  source.home_northing)
        copied.append(SIBLING_COPY[0])
        done.append("location")
    if source.family_postcode:
        new.family_postcode, new.family_easting, new.family_northing = (source.family_postcode, source.family_easting,
                                                                        source.family_northing)
        copied.append(SIBLING_COPY[1])
    if source.avoid_las:
        new.avoid_las = list(source.avoid_las)
        copied.append(SIBLING_COPY[2])
    if source.urgency and source.needed_by and source.needed_by >= date.today():
        new.urgency, new.needed_by = source.urgency, source.needed_by
        copied.append(SIBLING_COPY[3])
        done.append("timing")
    new.completed_sections = done
    together = source.sibling_group.together if source.sibling_group is not None else True
    link_sibling(user, new, source, together=together)
    audit(user, "copy_for_sibling", "placement_request", new.id, detail=f"from:{source.id}")
    return new, copied


# ------------------------------------------------------------------------------------------ re-entry to care

def decide_re_entry(user: User, req: PlacementRequest, candidate, action: str) -> ReEntryLink | None:
    """Record the officer's answer on an earlier placement (`queries.EarlierPlacement`) found for this request:
    "confirm" (the same child: the request is a re-entry to care if that placement ended with the child leaving
    care), "dismiss" (not the same child), or "undo" (take the answer back; the placement is a candidate again).

    One answer per request and placement: a second one is refused with the reason (409), and the unique
    constraint stops two at once. Both children's records are audited: the link joins their histories."""
    placement = candidate.placement
    existing = db.session.scalar(select(ReEntryLink).where(ReEntryLink.request_id == req.id,
                                                           ReEntryLink.placement_id == placement.id))
    if action == "undo":
        if existing is None:
            raise Conflict("There is no answer to undo for this earlier placement: it may have been undone already")
        db.session.execute(delete(ReEntryLink).where(ReEntryLink.id == existing.id)
                           .execution_options(synchronize_session=False))
        _audit_re_entry(user, req, candidate, "undo_re_entry", existing.status)
        return None
    if action not in ("confirm", "dismiss"):
        raise Invalid("Choose whether this is the same child", field="action")
    if existing is not None:
        said = "is the same child" if existing.status == "confirmed" else "is not the same child"
        raise Conflict(f"You have already said this placement {said}. Nothing has been saved: use Undo to change "
                       "the answer", code="already_decided")
    status = "confirmed" if action == "confirm" else "dismissed"
    link = ReEntryLink(request_id=req.id, placement_id=placement.id, status=status, found_by=candidate.found_by,
                       name_score=Decimal(str(candidate.name_score)) if candidate.name_score is not None else None,
                       decided_by_id=user.id, decided_at=utcnow())
    db.session.add(link)
    db.session.flush()
    _audit_re_entry(user, req, candidate, f"{action}_re_entry", status)
    return link


def _audit_re_entry(user: User, req: PlacementRequest, candidate, action: str, status: str) -> None:
    detail = f"placement:{candidate.placement.id};found_by:{candidate.found_by};decision:{status}"
    audit(user, action, "placement_request", req.id, detail=detail)
    audit(user, action, "placement_request", candidate.request.id, detail=f"{detail};request:{req.id}")
