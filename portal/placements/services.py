"""What happens after a decision: the placement agreement, signatures, connected-person placements, endings.

Services add and flush, audit, and never commit: the view that started the unit of work commits it once
(STYLE.md habit 2). Every change that two people could race is one conditional UPDATE whose changed-row count is
checked (DESIGN.md §3), never read-then-write.

"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError

from portal import geo
from portal.models import ConnectedPerson, Offer, Placement, PlacementAgreement, PlacementRequest, Provider, Referral, User
from portal.auth.permissions import audit
from portal.db import db, utcnow
from portal.placement_records import create_agreement, deprivation_of_liberty_recorded, education_continuity
from portal.errors import Conflict, Forbidden, NotFound, ServiceError
from portal.formatting import children_summary, format_date
from portal.notifications.services import link, queue_notification
from portal.matching import vocabulary

# Provider users who may sign an agreement for their organisation; staff accounts are read only.
SIGNING_PROVIDER_ROLES = ("admin", "manager")
# s22C(6)(a): a child may live with a connected person only once they are approved as a foster carer, or
# temporarily approved under regulation 24 of the Care Planning, Placement and Case Review (England)
# Regulations 2010.
PLACEABLE_STAGES = ("temporary_approval", "approved")
# A request in these states has no placement yet and can get one.
OPEN_REQUEST_STATUSES = ("draft", "searching", "offers")
# How far from today a connected-person placement's start date may be (a typo guard, not a rule of law).
START_DATE_WINDOW = timedelta(days=366)
# ---------------------------------------------------------------------------------------------------------------
# The individual placement agreement
# ---------------------------------------------------------------------------------------------------------------


def signing_side(user: User, placement: Placement) -> str | None:
    """Which side of the agreement this user signs for: "la" (an officer of the placement's LA), "provider" (an
    admin or manager of the placement's provider), or None."""
    if user.role == "officer" and user.la_code and user.la_code == placement.la_code:
        return "la"
    if (
        user.role == "provider"
        and placement.provider_id is not None
        and user.provider_id == placement.provider_id
        and user.provider_role in SIGNING_PROVIDER_ROLES
    ):
        return "provider"
    return None


def needs_provider_signature(placement: Placement) -> bool:
    """A connected-person placement has no provider: the carer has no portal account and signs the placement
    plan with their social worker, so the LA's signature alone completes the portal agreement."""
    return placement.provider_id is not None


def can_sign(user: User, placement: Placement, agreement: PlacementAgreement | None) -> bool:
    """Whether to offer this user the signature form now."""
    side = signing_side(user, placement)
    if agreement is None or agreement.locked_at is not None or side is None:
        return False
    return (agreement.officer_signed_at if side == "la" else agreement.provider_signed_at) is None


def _same_name(typed: str, account_name: str) -> bool:
    return " ".join(typed.split()).casefold() == " ".join(account_name.split()).casefold()


def sign_agreement(user: User, placement: Placement, agreement: PlacementAgreement | None, typed_name: str) -> bool:
    """Sign the agreement for the user's side with their typed full name and the time; lock it once every side
    has signed. Returns True when this signature locked it.

    The signature is one conditional update (only if this side has not signed and the agreement is not locked),
    and so is the lock, so two people signing at once cannot overwrite each other or leave it half-locked.
    """
    if agreement is None:
        raise Conflict("Generate the placement agreement before signing it", code="no_agreement")
    if agreement.placement_id != placement.id:
        raise NotFound()
    side = signing_side(user, placement)
    if side is None:
        raise Forbidden("Only the placement officer or the provider's administrator or manager can sign",
                         code="not_a_signatory")
    if not _same_name(typed_name or "", user.name):
        raise ServiceError(
            f"The name you typed does not match the name on your account. Type your full name as it is on "
            f"your account: {user.name}",
            field="full_name", code="name_mismatch",
        )
    prefix = "officer" if side == "la" else "provider"
    signed_at = getattr(PlacementAgreement, f"{prefix}_signed_at")
    now = utcnow()
    changed = db.session.execute(
        update(PlacementAgreement)
        .where(PlacementAgreement.id == agreement.id, signed_at.is_(None), PlacementAgreement.locked_at.is_(None))
        .values({
            f"{prefix}_signed_by_id": user.id,
            f"{prefix}_signed_name": user.name,
            f"{prefix}_signed_at": now,
            "updated_at": now,
        })
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.refresh(agreement)
        if agreement.locked_at is not None:
            raise Conflict(
                "This agreement has been signed by both sides and is locked. It cannot be signed again or changed",
                code="locked",
            )
        who = "the local authority" if side == "la" else "the provider"
        raise Conflict(f"This agreement has already been signed for {who}. It cannot be signed again",
                                code="already_signed")
    complete = PlacementAgreement.officer_signed_at.is_not(None)
    if needs_provider_signature(placement):
        complete = and_(complete, PlacementAgreement.provider_signed_at.is_not(None))
    locked = db.session.execute(
        update(PlacementAgreement)
        .where(PlacementAgreement.id == agreement.id, complete, PlacementAgreement.locked_at.is_(None))
        .values(locked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(agreement)
    audit(user, "sign_agreement", "placement_request", placement.request_id,
          detail=f"placement:{placement.id};side:{side}" + (";locked" if locked else ""))
    if side == "provider":
        _tell_officer_of_signature(placement, locked)
    return locked


def _tell_officer_of_signature(placement: Placement, locked: bool) -> None:
    """Queue "agreement signed" for the officer who recorded the placement (else whoever created the request):
    the provider's name, the anonymised summary and a link (issue 17 §2)."""
    placement_request = db.session.get(PlacementRequest, placement.request_id)
    officer = db.session.get(User, placement.recorded_by_id or placement_request.created_by_id or "")
    if officer is None:
        return
    provider = db.session.get(Provider, placement.provider_id)
    queue_notification(officer, "agreement_signed", provider=provider.name,
                       summary=children_summary([placement_request]),
                       state="both sides have signed, so it is now locked" if locked else "it now needs your signature",
                       link=link("placements.detail", placement_id=placement.id))


# ---------------------------------------------------------------------------------------------------------------
# Ending a placement
# ---------------------------------------------------------------------------------------------------------------


def end_placement(user: User, placement: Placement, end_date: date, reason: str, *,
                  today: date | None = None) -> Placement:
    """Record the end of a placement: the end date and the SSDA903 reason for the change (E4A / E13 are a
    return home, so reunification can be measured). The request stays placed: the placement is its history.
    A placement ends once; the conditional update refuses a second ending."""
    today = today or date.today()
    if reason not in vocabulary.PLACEMENT_END_REASONS:
        raise ServiceError("Select why the placement ended", field="end_reason")
    if end_date > today:
        raise ServiceError("The end date must be today or in the past", field="end_date", code="future")
    if end_date < placement.start_date:
        raise ServiceError(
            f"The end date must be on or after the day the placement started, {format_date(placement.start_date)}",
            field="end_date", code="before_start",
        )
    changed = db.session.execute(
        update(Placement)
        .where(Placement.id == placement.id, Placement.end_date.is_(None))
        .values(end_date=end_date, end_reason=reason, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict("This placement has already ended. It cannot be ended again", code="already_ended")
    db.session.refresh(placement)
    return_home = ";return_home" if reason in vocabulary.RETURN_HOME_REASONS else ""
    audit(user, "end_placement", "placement_request", placement.request_id,
          detail=f"placement:{placement.id};reason:{reason}{return_home}")
    return placement


def set_placement_flags(user: User, placement: Placement, *, deprivation_of_liberty: bool,
                        unregistered_setting: bool) -> bool:
    """Correct what the record says about a deprivation of liberty order and an unregistered setting (issue 13 §4;
    commissioners count both). Audited with the new values; returns whether anything changed."""
    before = (placement.deprivation_of_liberty, placement.unregistered_setting)
    after = (bool(deprivation_of_liberty), bool(unregistered_setting))
    if before == after:
        return False
    placement.deprivation_of_liberty, placement.unregistered_setting = after
    placement.updated_at = utcnow()
    db.session.flush()
    audit(user, "correct_placement_flags", "placement_request", placement.request_id,
          detail=f"placement:{placement.id};deprivation_of_liberty:{int(after[0])};unregistered_setting:{int(after[1])}")
    return True


# ---------------------------------------------------------------------------------------------------------------
# Connected-person placements (s22C: family and friends first)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectedPlacementPreview:
    """What a placement with this connected person would record, and why it cannot be made (if it cannot)."""

    distance_miles: float
    inside_la: bool
    over_20_miles: bool
    refusal: ServiceError | None


def _refusal(placement_request: PlacementRequest, person: ConnectedPerson) -> ServiceError | None:
    if placement_request.status == "placed":
        return Conflict("This child already has a placement. Nothing has been saved", code="already_placed")
    if placement_request.status not in OPEN_REQUEST_STATUSES:
        return Conflict("This request is withdrawn or closed, so it cannot have a placement",
                                 code="request_closed")
    if person.stage not in PLACEABLE_STAGES:
        stage = vocabulary.CONNECTED_PERSON_STAGES.get(person.stage, person.stage).lower()
        return ServiceError(
            f"This connected person's assessment is at the stage: {stage}. Before a child can live with them they "
            f"need temporary approval under regulation 24, or full approval as a connected-person foster carer",
            code=f"stage_{person.stage}",
        )
    return None


def preview_connected_placement(placement_request: PlacementRequest,
                                person: ConnectedPerson) -> ConnectedPlacementPreview:
    """The SSDA903 distance and LA flags a placement with this person would have, and any reason it cannot be made."""
    if person.request_id != placement_request.id:
        raise NotFound()
    distance = geo.distance_miles(placement_request.home_easting, placement_request.home_northing,
                                  person.easting, person.northing)
    return ConnectedPlacementPreview(
        distance_miles=distance,
        inside_la=person.la_code == placement_request.la_code,
        over_20_miles=distance > 20,
        refusal=_refusal(placement_request, person),
    )


def _siblings_with_same_carer(placement_request: PlacementRequest, person: ConnectedPerson) -> list[str]:
    """Current placements of this child's brothers and sisters with the same connected person (same name and
    postcode: each request records its own connected persons)."""
    if placement_request.sibling_group_id is None:
        return []
    return list(db.session.scalars(
        select(Placement.id)
        .join(PlacementRequest, PlacementRequest.id == Placement.request_id)
        .join(ConnectedPerson, ConnectedPerson.id == Placement.connected_person_id)
        .where(
            PlacementRequest.sibling_group_id == placement_request.sibling_group_id,
            PlacementRequest.id != placement_request.id,
            Placement.end_date.is_(None),
            ConnectedPerson.postcode == person.postcode,
            func.lower(ConnectedPerson.name) == person.name.lower(),
        )
    ))


def record_connected_placement(
    user: User,
    placement_request: PlacementRequest,
    person: ConnectedPerson,
    *,
    start_date: date,
    long_term: bool = False,
    weekly_allowance_gbp: Decimal | None = None,
    deprivation_of_liberty: bool | None = None,
    today: date | None = None,
) -> Placement:
    """Place the child with a connected person (s22C(6)(a)) and generate the placement agreement.

    SSDA903: placement type U3 (U1 when long-term fostering), provider code PR1 (the LA's own provision: it
    approves connected-person foster carers), distance in miles to one decimal from home to the carer's postcode,
    inside the LA when the carer lives in the child's LA. The request becomes placed in one conditional update, and
    the unique index on placement.request_id backs it up, so two officers cannot place the same child twice.
    """
    today = today or date.today()
    preview = preview_connected_placement(placement_request, person)
    if preview.refusal is not None:
        raise preview.refusal
    if abs(start_date - today) > START_DATE_WINDOW:
        raise ServiceError("The start date must be within a year of today", field="start_date",
                             code="start_date_range")
    now = utcnow()
    changed = db.session.execute(
        update(PlacementRequest)
        .where(PlacementRequest.id == placement_request.id, PlacementRequest.status.in_(OPEN_REQUEST_STATUSES))
        .values(status="placed", closed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict("This child already has a placement, or the request is closed. Nothing has been saved",
                                code="already_placed")
    siblings = _siblings_with_same_carer(placement_request, person)
    placement = Placement(
        request_id=placement_request.id,
        connected_person_id=person.id,
        la_code=placement_request.la_code,
        start_date=start_date,
        placement_type="U1" if long_term else "U3",
        provider_code="PR1",
        weekly_cost_gbp=weekly_allowance_gbp,
        distance_miles=Decimal(str(preview.distance_miles)),
        inside_la=preview.inside_la,
        over_20_miles=preview.over_20_miles,
        # Placements Data Standard siblingsPlacedTogether: how many of the sibling group live together, this
        # child included (0 when none do), as accept_offer counts children in one setting.
        siblings_placed_together=len(siblings) + 1 if siblings else 0,
        education_continuity=education_continuity(placement_request, person.easting, person.northing),
        # Issue 13 §4: as the officer says when recording (None: as the request records it). A connected person is
        # a foster carer approved by the LA, never an unregistered setting.
        deprivation_of_liberty=(deprivation_of_liberty_recorded(placement_request.needs) if deprivation_of_liberty is None
                                else bool(deprivation_of_liberty)),
        unregistered_setting=False,
        recorded_by_id=user.id,
    )
    db.session.add(placement)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise Conflict("This child already has a placement. Nothing has been saved",
                                code="already_placed") from error
    if siblings:
        # The brothers and sisters already living with this carer now live with one more of them.
        db.session.execute(
            update(Placement)
            .where(Placement.id.in_(siblings))
            .values(siblings_placed_together=len(siblings) + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    # Providers still waiting on this child are told, without saying where the child went.
    db.session.execute(
        update(Offer)
        .where(Offer.request_id == placement_request.id, Offer.status.in_(("made", "shortlisted")))
        .values(status="not_chosen", decision_reason="The child has been placed elsewhere", decided_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Referral)
        .where(Referral.request_id == placement_request.id, Referral.status != "closed")
        .values(status="closed", outcome_reason="The child has been placed elsewhere")
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(placement_request)
    audit(user, "record_placement", "placement_request", placement_request.id,
          detail=f"placement:{placement.id};type:{placement.placement_type};connected_person")
    create_agreement(placement, placement_request, None, user=user)
    return placement
