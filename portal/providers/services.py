"""What providers do. Services add and flush, write an audit event, and never commit: the view commits once.

Every service that changes a vacancy, a setting or a provider's status calls `bump_options_version()`, so each
web process rebuilds its matching index (README, "Options version").
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from portal import geo
from portal.models import Offer, PlacementRequest, Provider, Referral, ReferralDecline, Setting, User, Vacancy
from portal.auth import tokens
from portal.auth.passwords import hash_password, set_password
from portal.auth.permissions import audit
from portal.auth.services import deactivated
from portal.auth.queries import find_user_by_email
from portal.db import db, utcnow
from portal.providers.csv_format import CsvProblem, VacancyRow
from portal.options import bump_options_version, group_request_ids, placed_together, referral_children
from portal.providers.queries import LIVE_OFFER_STATUSES
from portal.errors import Conflict, Invalid, NotFound, ServiceError
from portal.formatting import children_summary
from portal.matching import vocabulary
from portal.notifications.services import link, queue_notification

INVITE_DAYS = tokens.INVITATION.max_age.days


# ---------------------------------------------------------------------------------------------- registration

@dataclass(frozen=True)
class Registration:
    name: str
    kind: str
    provider_code: str
    la_code: str | None
    contract: str
    contact_name: str
    contact_email: str
    contact_phone: str
    ofsted_urns: tuple[str, ...]
    password: str


def _email_free(email: str) -> str:
    email = email.strip().lower()
    if find_user_by_email(email) is not None:
        raise ServiceError("An account already uses this email address. Sign in, or use another email address")
    return email


def register_provider(details: Registration) -> tuple[Provider, User] | None:
    """A provider registers with its first administrator. Pending: invisible to officers until approved.

    Registering never reveals whether an email address already has an account (issue 15 §3): for one that does,
    nothing is created (the audit trail notes it) and the caller shows the same confirmation; the work of hashing a
    password is still done, so the answer takes as long.
    """
    email = details.contact_email.strip().lower()
    if find_user_by_email(email) is not None:
        hash_password(details.password)
        audit(None, "register", "provider", None, outcome="refused", detail="email_in_use")
        return None
    provider = Provider(
        name=details.name.strip(), kind=details.kind, provider_code=details.provider_code,
        la_code=details.la_code or None, contract=details.contract, status="pending",
        contact_name=details.contact_name.strip(), contact_email=email, contact_phone=details.contact_phone.strip(),
        ofsted_urns=list(details.ofsted_urns),
    )
    db.session.add(provider)
    db.session.flush()
    user = User(email=email, name=details.contact_name.strip(), role="provider", provider_id=provider.id,
                provider_role="admin", password_hash="")
    set_password(user, details.password)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as error:  # two registrations racing for one email: the unique index decides
        raise ServiceError("An account already uses this email address. Sign in, or use another email address") from error
    audit(user, "register", "provider", provider.id)
    return provider, user


@dataclass(frozen=True)
class Profile:
    contact_name: str
    contact_email: str
    contact_phone: str
    contract: str


def update_profile(user: User, provider: Provider, profile: Profile) -> None:
    """An organisation's administrator keeps its contact details current."""
    if provider.id != user.provider_id or user.provider_role != "admin":
        raise ServiceError("Only your organisation's administrators can change its details")
    provider.contact_name = profile.contact_name.strip()
    provider.contact_email = profile.contact_email.strip().lower()
    provider.contact_phone = profile.contact_phone.strip()
    provider.contract = profile.contract
    audit(user, "update_profile", "provider", provider.id)


# ---------------------------------------------------------------------------------------------------- people

def _unusable_password_hash() -> str:
    # Nobody knows this password; a cheap hash is fine because the secret has 256 bits.
    return generate_password_hash(secrets.token_urlsafe(32), method="pbkdf2:sha256:1000")


def invite_token(user: User) -> str:
    """The one-time set-password token for an invited user (emailed to them, and shown to the inviting admin)."""
    return tokens.issue(user, tokens.INVITATION)


def _email_invitation(actor: User, user: User) -> None:
    queue_notification(user, "invitation", inviter_organisation=actor.provider.name if actor.provider else "Your organisation",
                       days=str(INVITE_DAYS), link=link("providers.set_password", token=invite_token(user)))


def invite_user(actor: User, *, name: str, email: str, provider_role: str) -> User:
    """An organisation's administrator creates an account for a colleague; they set their own password."""
    if provider_role not in ("admin", "manager", "staff"):
        raise ServiceError("Select what they can do")
    user = User(email=_email_free(email), name=name.strip(), role="provider", provider_id=actor.provider_id,
                provider_role=provider_role, password_hash=_unusable_password_hash())
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise ServiceError("An account already uses this email address. Use another email address") from error
    audit(actor, "invite_user", "user", user.id, detail=f"provider_role:{provider_role}")
    _email_invitation(actor, user)  # issue 17 §3: invitations are emailed
    return user


def renew_invite(actor: User, user: User) -> None:
    """A new set-password link for someone who has not signed in yet; older links stop working."""
    if user.provider_id != actor.provider_id:
        raise ServiceError("This person is not in your organisation")
    if not user.active or user.last_sign_in_at is not None:
        raise Conflict("This person has already signed in: they can set a new password themselves")
    user.password_hash = _unusable_password_hash()
    audit(actor, "renew_invite", "user", user.id)
    _email_invitation(actor, user)


def user_for_invite_token(token: str) -> User:
    """The invited user the token is for, if it is genuine, unused, unexpired and the user still active."""
    user = tokens.user_for(token, tokens.INVITATION)
    if user.role != "provider":
        raise NotFound(f"This link has already been used or is no longer valid. {tokens.INVITATION.ask}")
    return user


def set_password_with_token(token: str, password: str) -> User:
    user = user_for_invite_token(token)
    set_password(user, password)
    audit(user, "set_password", "user", user.id)
    return user


def remove_user(actor: User, user: User) -> None:
    """Remove a colleague's access. The account stays (the audit trail names it) but cannot sign in."""
    if user.provider_id != actor.provider_id:
        raise ServiceError("This person is not in your organisation")
    if user.id == actor.id:
        raise Conflict("You cannot remove yourself. Ask another administrator")
    if not user.active:
        raise Conflict("This person has already been removed")
    user.active = False
    user.password_hash = _unusable_password_hash()  # and any set-password link stops working
    deactivated(user)  # and every session of theirs ends at once
    audit(actor, "remove_user", "user", user.id)


# -------------------------------------------------------------------------------------------------- settings

@dataclass(frozen=True)
class SettingDetails:
    name: str
    kind: str
    postcode: geo.PostcodeInfo
    ofsted_urn: str | None
    ofsted_rating: str | None
    inspected_on: date | None
    registered_places: int
    age_min: int
    age_max: int
    sexes: tuple[str, ...]
    needs_met: tuple[str, ...]
    risks_managed: tuple[str, ...]
    languages: tuple[str, ...]
    religions: tuple[str, ...]
    has_pets: bool
    takes_siblings: bool
    solo_only: bool
    fee_gbp_week: Decimal


def _apply_setting(setting: Setting, details: SettingDetails) -> None:
    setting.name = details.name.strip()
    setting.kind = details.kind
    # The postcode's LA decides "inside the child's LA" and distances (DESIGN.md §2, Postcodes).
    setting.postcode = details.postcode.postcode
    setting.la_code = details.postcode.la_code
    setting.easting = details.postcode.easting
    setting.northing = details.postcode.northing
    setting.ofsted_urn = details.ofsted_urn or None
    setting.ofsted_rating = details.ofsted_rating or None
    setting.inspected_on = details.inspected_on if details.ofsted_rating else None
    setting.registered_places = details.registered_places
    setting.age_min = details.age_min
    setting.age_max = details.age_max
    setting.sexes = sorted(details.sexes)
    setting.needs_met = sorted(details.needs_met)
    setting.risks_managed = sorted(details.risks_managed)
    setting.languages = list(details.languages)
    setting.religions = list(details.religions)
    setting.has_pets = details.has_pets
    setting.takes_siblings = details.takes_siblings and not details.solo_only
    setting.solo_only = details.solo_only


def create_setting(user: User, details: SettingDetails) -> Setting:
    """Add a children's home, supported accommodation service or fostering household."""
    setting = Setting(provider_id=user.provider_id, fee_gbp_week=details.fee_gbp_week)
    _apply_setting(setting, details)
    db.session.add(setting)
    db.session.flush()
    bump_options_version(settings=[setting.id])
    audit(user, "create_setting", "setting", setting.id)
    return setting


def update_setting(user: User, setting: Setting, details: SettingDetails) -> None:
    """Change a setting. Its vacancies keep their own fees; matching sees the change at once."""
    if setting.provider_id != user.provider_id:
        raise ServiceError("This setting is not one of yours")
    _apply_setting(setting, details)
    setting.fee_gbp_week = details.fee_gbp_week
    bump_options_version(settings=[setting.id])
    audit(user, "update_setting", "setting", setting.id)


def set_setting_active(user: User, setting: Setting, active: bool) -> int:
    """Close a setting (its open and held vacancies are withdrawn) or reopen it. Returns vacancies withdrawn."""
    if setting.provider_id != user.provider_id:
        raise ServiceError("This setting is not one of yours")
    if setting.active == active:
        raise ServiceError("This setting is already " + ("open" if active else "closed"))
    withdrawn = 0
    if not active:
        ids = list(db.session.scalars(
            select(Vacancy.id).where(Vacancy.setting_id == setting.id, Vacancy.status.in_(("open", "held")))
        ))
        for vacancy_id in ids:
            withdrawn += _withdraw_vacancy(user, vacancy_id)
    setting.active = active
    bump_options_version(settings=[setting.id])
    audit(user, "reopen_setting" if active else "close_setting", "setting", setting.id)
    return withdrawn


# ------------------------------------------------------------------------------------------------- vacancies

@dataclass(frozen=True)
class VacancyDetails:
    places_free: int
    available_from: date
    available_to: date | None
    fee_gbp_week: Decimal
    status: str  # open or held


def _check_vacancy_details(details: VacancyDetails, today: date, unchanged_from: date | None = None) -> None:
    if details.status not in ("open", "held"):
        raise ServiceError("A vacancy can be open or held")
    if details.available_from < today and details.available_from != unchanged_from:
        raise ServiceError("The available-from date must be today or in the future")
    if details.available_to is not None and details.available_to < details.available_from:
        raise ServiceError("The end date must be the same as or after the available-from date")
    if details.places_free < 1:
        raise ServiceError("A vacancy has at least 1 free place: to close it, withdraw it")


def add_vacancy(user: User, setting: Setting, details: VacancyDetails, today: date) -> Vacancy:
    """Add a vacancy in one of the provider's open settings; it counts as confirmed now."""
    if setting.provider_id != user.provider_id:
        raise ServiceError("Select one of your own settings")
    if not setting.active:
        raise ServiceError("This setting is closed. Reopen it before adding a vacancy")
    _check_vacancy_details(details, today)
    vacancy = Vacancy(
        setting_id=setting.id, places=details.places_free, places_taken=0, available_from=details.available_from,
        available_to=details.available_to, fee_gbp_week=details.fee_gbp_week, status=details.status,
        confirmed_at=utcnow(),
    )
    db.session.add(vacancy)
    db.session.flush()
    bump_options_version(vacancies=[vacancy.id])
    audit(user, "add_vacancy", "vacancy", vacancy.id, detail=f"setting:{setting.id}")
    return vacancy


def change_vacancy(user: User, vacancy: Vacancy, details: VacancyDetails, today: date) -> None:
    """Change places, dates, fee or open/held. One conditional update: a booking made meanwhile is never lost."""
    if vacancy.setting.provider_id != user.provider_id:
        raise ServiceError("This vacancy is not one of yours")
    _check_vacancy_details(details, today, unchanged_from=vacancy.available_from)
    # `places` counts places taken too, so it is set relative to the row's own places_taken (no read-then-write).
    changed = db.session.execute(
        update(Vacancy)
        .where(Vacancy.id == vacancy.id, Vacancy.status.in_(("open", "held")))
        .values(places=Vacancy.places_taken + details.places_free, available_from=details.available_from,
                available_to=details.available_to, fee_gbp_week=details.fee_gbp_week, status=details.status,
                confirmed_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise ServiceError("This vacancy has been filled or withdrawn, so it cannot be changed")
    db.session.expire(vacancy)
    bump_options_version(vacancies=[vacancy.id])
    audit(user, "change_vacancy", "vacancy", vacancy.id)


def _withdraw_vacancy(user: User, vacancy_id: str) -> int:
    """Withdraw one open or held vacancy and the provider's live offers of it. Returns 1 if it was withdrawn."""
    changed = db.session.execute(
        update(Vacancy)
        .where(Vacancy.id == vacancy_id, Vacancy.status.in_(("open", "held")))
        .values(status="withdrawn", closed_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        return 0
    # An offer of a withdrawn vacancy could never be accepted: withdraw it too, so the officer is not misled.
    offers = list(db.session.scalars(
        select(Offer).where(Offer.vacancy_id == vacancy_id, Offer.status.in_(LIVE_OFFER_STATUSES))
    ))
    for offer in offers:
        _withdraw_offer(user, offer)
    audit(user, "withdraw_vacancy", "vacancy", vacancy_id, detail=f"offers_withdrawn:{len(offers)}")
    return 1


def withdraw_vacancy(user: User, vacancy: Vacancy) -> None:
    """Withdraw a vacancy: it leaves matching at once; live offers of it are withdrawn too."""
    if vacancy.setting.provider_id != user.provider_id:
        raise ServiceError("This vacancy is not one of yours")
    if _withdraw_vacancy(user, vacancy.id) != 1:
        raise Conflict("This vacancy has already been filled or withdrawn")
    db.session.expire(vacancy)
    bump_options_version(vacancies=[vacancy.id])


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def confirm_vacancies(user: User, vacancies: list[Vacancy]) -> int:
    """'Still available': the vacancies are confirmed now, so they stop being stale and rank normally again."""
    ids = [v.id for v in vacancies if v.setting.provider_id == user.provider_id and v.status in ("open", "held")]
    if not ids:
        raise ServiceError("There are no open or held vacancies to confirm")
    db.session.execute(
        update(Vacancy).where(Vacancy.id.in_(ids), Vacancy.status.in_(("open", "held")))
        .values(confirmed_at=utcnow()).execution_options(synchronize_session=False)
    )
    # Matching reads a vacancy's confirmation only as "stale or not" (portal.options.index): confirming one that
    # is not stale changes no option, so the processes keep their matching index rather than all rebuilding it.
    stale_before = utcnow() - timedelta(days=current_app.config["VACANCY_STALE_DAYS"])
    was_stale = any(_as_utc(v.confirmed_at or v.created_at) < stale_before for v in vacancies if v.id in ids)
    for vacancy in vacancies:
        db.session.expire(vacancy)
    if was_stale:
        bump_options_version(vacancies=ids)
    for vacancy_id in ids:
        audit(user, "confirm_vacancy", "vacancy", vacancy_id)
    return len(ids)


# --------------------------------------------------------------------------------------- CSV bulk vacancies

@dataclass
class BulkResult:
    added: int = 0
    changed: int = 0
    withdrawn: int = 0

    @property
    def total(self) -> int:
        return self.added + self.changed + self.withdrawn


class BulkUploadRejected(ServiceError):
    """The file had problems: nothing was saved. `problems` lists every bad row and field."""

    def __init__(self, problems: list[CsvProblem]):
        super().__init__(f"{len(problems)} problem(s): nothing was saved")
        self.problems = sorted(problems, key=lambda p: (p.row or 0, p.column or ""))


def bulk_update_vacancies(user: User, rows: list[VacancyRow], problems: list[CsvProblem], today: date) -> BulkResult:
    """Save a whole vacancies file, or nothing (docs/providers.md, "Bulk update by CSV").

    `rows` and `problems` come from `forms.parse_vacancy_csv` (shape). Here each row's setting and vacancy must be
    the provider's own, open, and consistent; any problem anywhere rejects the whole file, so no row is ever half
    applied and a file is never half saved. Another provider's ids read exactly like unknown ones.
    """
    problems = list(problems)
    settings = {s.id: s for s in db.session.scalars(select(Setting).where(Setting.provider_id == user.provider_id))}
    by_urn: dict[str, list[Setting]] = defaultdict(list)
    for setting in settings.values():
        if setting.ofsted_urn:
            by_urn[setting.ofsted_urn].append(setting)
    vacancy_ids = [r.vacancy_id for r in rows if r.vacancy_id]
    vacancies = {
        v.id: v for v in db.session.scalars(
            select(Vacancy).join(Setting).where(Setting.provider_id == user.provider_id, Vacancy.id.in_(vacancy_ids))
        )
    } if vacancy_ids else {}
    plan: list[tuple[VacancyRow, Setting, Vacancy | None]] = []
    for row in rows:
        bad = lambda column, message, row=row: problems.append(CsvProblem(row.row, column, message))  # noqa: E731
        setting = None
        if row.setting_id:
            setting = settings.get(row.setting_id)
            if setting is None:
                bad("setting_id", f"There is no setting {row.setting_id} among your settings")
                continue
        if row.ofsted_urn:
            found = by_urn.get(row.ofsted_urn, [])
            if not found:
                bad("ofsted_urn", f"None of your settings has the Ofsted URN {row.ofsted_urn}")
                continue
            if setting is not None and setting not in found:
                bad("ofsted_urn", f"The Ofsted URN {row.ofsted_urn} is not the URN of setting {setting.id}")
                continue
            if setting is None and len(found) > 1:
                bad("ofsted_urn", f"More than one of your settings has the Ofsted URN {row.ofsted_urn}: give the "
                                  "setting_id instead")
                continue
            setting = setting or found[0]
        vacancy = None
        if row.vacancy_id:
            vacancy = vacancies.get(row.vacancy_id)
            if vacancy is None:
                bad("vacancy_id", f"There is no vacancy {row.vacancy_id} among your vacancies")
                continue
            if setting is not None and vacancy.setting_id != setting.id:
                bad("setting_id", "This vacancy is in another of your settings: a vacancy cannot move setting")
                continue
            setting = settings[vacancy.setting_id]
            if vacancy.status not in ("open", "held"):
                bad("vacancy_id", f"This vacancy is {vacancy.status} and cannot be changed")
                continue
            if row.available_from < today and row.available_from != vacancy.available_from:
                bad("available_from", "The available-from date must be today or in the future")
                continue
        else:
            if not setting.active:
                bad("setting_id", f"{setting.name} is closed: reopen it before adding vacancies")
                continue
            if row.available_from < today:
                bad("available_from", "The available-from date of a new vacancy must be today or in the future")
                continue
        plan.append((row, setting, vacancy))
    if problems:
        raise BulkUploadRejected(problems)

    result = BulkResult()
    for row, setting, vacancy in plan:
        try:
            if vacancy is None:
                add_vacancy(user, setting, VacancyDetails(row.places, row.available_from, row.available_to,
                                                          row.fee_gbp_week, row.status), today)
                result.added += 1
            elif row.status == "withdrawn":
                withdraw_vacancy(user, vacancy)
                result.withdrawn += 1
            else:
                change_vacancy(user, vacancy, VacancyDetails(row.places, row.available_from, row.available_to,
                                                             row.fee_gbp_week, row.status), today)
                result.changed += 1
        except ServiceError as error:  # booked or withdrawn while the file was being checked
            problems.append(CsvProblem(row.row, None, str(error)))
    if problems:
        raise BulkUploadRejected(problems)
    audit(user, "bulk_update_vacancies", "provider", user.provider_id,
          detail=f"added:{result.added} changed:{result.changed} withdrawn:{result.withdrawn}")
    return result


# ----------------------------------------------------------------------------------------- referrals, offers

def _request_is_open(referral: Referral) -> PlacementRequest:
    placement_request = db.session.get(PlacementRequest, referral.request_id)
    if placement_request.status not in ("searching", "offers") or referral.status == "closed":
        raise ServiceError("This referral is closed: the child no longer needs a placement from you")
    return placement_request


OFFERED_ALREADY = "You have already offered this vacancy for this child"


def make_offer(
    user: User,
    referral: Referral,
    vacancy: Vacancy | None,
    eligible_vacancy_ids: set[str],
    *,
    fee_gbp_week: Decimal | None,
    start_date: date | None,
    message: str | None,
) -> Offer:
    """Offer one of the provider's own open vacancies that the matching core says can meet the child's needs.

    The fee and start date follow the vacancy offered unless the provider gives others: no fee is the vacancy's
    own, no date the later of the date the child is needed, the date the vacancy is free and today."""
    if referral.provider_id != user.provider_id:
        raise ServiceError("This referral was not sent to you")
    if vacancy is None or vacancy.setting.provider_id != user.provider_id:
        raise ServiceError("Select one of your own vacancies")
    if vacancy.status != "open" or vacancy.places_free < 1:
        raise ServiceError("This vacancy is no longer open. Choose another")
    placement_request = _request_is_open(referral)
    children = len(placed_together(placement_request))
    if vacancy.places_free < children:
        raise ServiceError(f"This vacancy has {vacancy.places_free} free place{'s' if vacancy.places_free != 1 else ''}; "
                           f"the brothers and sisters need {children}, in the same home. Choose another")
    if vacancy.id not in eligible_vacancy_ids:
        raise ServiceError("This vacancy cannot meet the child's needs. Choose another")
    already = db.session.scalar(
        select(Offer.id).where(Offer.referral_id == referral.id, Offer.vacancy_id == vacancy.id,
                               Offer.status.in_(LIVE_OFFER_STATUSES))
    )
    if already:
        raise Conflict(OFFERED_ALREADY, field="vacancy_id", code="offered_already")
    if fee_gbp_week is None:
        fee_gbp_week = vacancy.fee_gbp_week
    if start_date is None:
        start_date = max(vacancy.available_from, placement_request.needed_by or date.today(), date.today())
    offer = Offer(
        referral_id=referral.id,
        request_id=referral.request_id,
        provider_id=user.provider_id,
        vacancy_id=vacancy.id,
        fee_gbp_week=fee_gbp_week,
        start_date=start_date,
        message=(message or "").strip() or None,
        created_by_id=user.id,
    )
    db.session.add(offer)
    referral.status = "offered"
    for child in placed_together(placement_request):  # an offer for a sibling group is an offer for each child
        if child.status == "searching":
            child.status = "offers"
    db.session.flush()
    audit(user, "make_offer", "placement_request", referral.request_id, detail=f"offer:{offer.id}")
    _tell_officer_of_offer(referral, placement_request, "offer_received")  # issue 17 §2: to the officer
    return offer


def _tell_officer_of_offer(referral: Referral, placement_request: PlacementRequest, template: str) -> None:
    """Queue a new or withdrawn offer's email for the officer who sent the referral (else whoever created the
    request): the provider's name, the anonymised summary and a link; never the child's name."""
    officer = db.session.get(User, referral.sent_by_id or placement_request.created_by_id or "")
    if officer is None:
        return
    provider = db.session.get(Provider, referral.provider_id)
    queue_notification(officer, template, provider=provider.name,
                       summary=children_summary(referral_children(placement_request) or [placement_request]),
                       link=link("requests.detail", request_id=placement_request.id))


def _withdraw_offer(user: User, offer: Offer) -> None:
    # Conditional: an offer accepted a moment ago is locked and stays accepted (issue 5 §4).
    changed = db.session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.provider_id == user.provider_id, Offer.status.in_(LIVE_OFFER_STATUSES))
        .values(status="withdrawn", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict("This offer can no longer be withdrawn: the placement officer has already decided")
    live = db.session.scalar(
        select(Offer.id).where(Offer.referral_id == offer.referral_id, Offer.id != offer.id,
                               Offer.status.in_(LIVE_OFFER_STATUSES))
    )
    referral = db.session.get(Referral, offer.referral_id)
    if live is None and referral.status == "offered":
        referral.status = "sent"
    # The child's request (each child's, for a sibling group) goes back to "searching" when no live offer is left
    # from any provider.
    placement_request = db.session.get(PlacementRequest, offer.request_id)
    any_live = db.session.scalar(
        select(Offer.id).where(Offer.request_id.in_(group_request_ids(placement_request)),
                               Offer.status.in_(LIVE_OFFER_STATUSES))
    )
    if any_live is None:
        for child in placed_together(placement_request):
            if child.status == "offers":
                child.status = "searching"
    db.session.expire(offer)
    audit(user, "withdraw_offer", "placement_request", offer.request_id, detail=f"offer:{offer.id}")
    _tell_officer_of_offer(referral, placement_request, "offer_withdrawn")  # issue 17 §2


def withdraw_offer(user: User, offer: Offer) -> None:
    """Withdraw an offer the placement officer has not decided on. Once accepted it is locked."""
    _withdraw_offer(user, offer)


def decline_referral(user: User, referral: Referral, reason: str, other: str | None = None) -> ReferralDecline:
    """Answer "we cannot offer a place", with a reason from the fixed list (vocabulary.DECLINE_REASONS) that the
    placement officer sees and commissioners count; "other" needs the provider's own words (issue 13 §4). The
    form checks the same; this is the rule for every caller (the pages and the API)."""
    if referral.provider_id != user.provider_id:
        raise ServiceError("This referral was not sent to you")
    if reason not in vocabulary.DECLINE_REASONS:
        raise Invalid("Select why you cannot offer a place", field="reason")
    other = (other or "").strip() or None
    if reason == "other" and other is None:
        raise Invalid("Enter why you cannot offer a place", field="reason_other")
    if other is not None and len(other) > vocabulary.DECLINE_REASON_OTHER_MAX:
        raise Invalid(f"The reason must be {vocabulary.DECLINE_REASON_OTHER_MAX} characters or fewer",
                      field="reason_other")
    if reason != "other":
        other = None  # the words belong to "another reason" only: a reason from the list is counted as it is
    _request_is_open(referral)
    if db.session.scalar(select(Offer.id).where(Offer.referral_id == referral.id,
                                                Offer.status.in_(LIVE_OFFER_STATUSES))):
        raise ServiceError("You have an offer for this child. Withdraw it first")
    if db.session.scalar(select(ReferralDecline.id).where(ReferralDecline.referral_id == referral.id)):
        raise ServiceError("You have already said you cannot offer a place for this child")
    decline = ReferralDecline(referral_id=referral.id, provider_id=user.provider_id, reason=reason,
                              reason_other=other, declined_by_id=user.id)
    db.session.add(decline)
    referral.status = "declined"
    try:
        db.session.flush()
    except IntegrityError as error:
        raise ServiceError("You have already said you cannot offer a place for this child") from error
    audit(user, "decline_referral", "placement_request", referral.request_id,
          detail=f"referral:{referral.id};reason:{reason}")
    return decline


def mark_referral_viewed(user: User, referral: Referral) -> None:
    """Every view of a referral is recorded against the child's record (DESIGN.md §5)."""
    if referral.first_viewed_at is None:
        referral.first_viewed_at = utcnow()
    audit(user, "view_referral", "placement_request", referral.request_id, detail=f"referral:{referral.id}")
