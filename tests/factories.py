"""Plain create_* factories (the GOV.UK Notify habit): explicit defaults, real rows, committed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from argon2 import PasswordHasher

from portal import geo
from portal.models import ConnectedPerson, Offer, PlacementRequest, Provider, Referral, Setting, User, Vacancy
from portal.db import db, utcnow
from portal.options import bump_options_version

COVENTRY = "E08000026"
BIRMINGHAM = "E08000025"
_seq = count(1)
# The tests' cheap argon2id profile (conftest.TEST_PASSWORD_HASHING), so a sign-in does not rehash.
# Every user the factories make has set up their authenticator app with this secret (tests.conftest.AuthActions).
TEST_MFA_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("password")


def create_user(role: str = "officer", *, la_code: str | None = COVENTRY, provider: Provider | None = None,
                provider_role: str | None = None, email: str | None = None, name: str | None = None) -> User:
    n = next(_seq)
    user = User(
        email=email or f"{role}{n}@example.test",
        name=name or f"Test {role.capitalize()} {n}",
        password_hash=_PASSWORD_HASH,
        role=role,
        la_code=la_code if role in ("officer", "commissioner") else None,
        provider_id=provider.id if provider is not None else None,
        provider_role=provider_role or ("admin" if role == "provider" else None),
        mfa_secret=TEST_MFA_SECRET, mfa_enrolled_at=utcnow(),
    )
    db.session.add(user)
    db.session.commit()
    return user


def create_provider(*, name: str | None = None, kind: str = "ifa", provider_code: str = "PR4",
                    status: str = "approved", la_code: str | None = None) -> Provider:
    provider = Provider(
        name=name or f"Provider {next(_seq)}", kind=kind, provider_code=provider_code, contract="framework",
        status=status, la_code=la_code, approved_at=utcnow() if status == "approved" else None,
    )
    db.session.add(provider)
    db.session.commit()
    return provider


def create_setting(provider: Provider, *, postcode: str = "CV1 2AB", kind: str = "foster", age_min: int = 0,
                   age_max: int = 17, sexes=("female", "male"), needs_met=(), risks_managed=(),
                   ofsted_rating: str | None = "good", fee_gbp_week: str = "850", registered_places: int = 2,
                   name: str | None = None) -> Setting:
    info = geo.lookup(postcode)
    setting = Setting(
        provider_id=provider.id, name=name or f"Home {next(_seq)}", kind=kind, postcode=info.postcode,
        la_code=info.la_code, easting=info.easting, northing=info.northing, ofsted_urn="SC123456",
        ofsted_rating=ofsted_rating, registered_places=registered_places, age_min=age_min, age_max=age_max,
        sexes=list(sexes), needs_met=list(needs_met), risks_managed=list(risks_managed),
        fee_gbp_week=Decimal(fee_gbp_week),
    )
    db.session.add(setting)
    db.session.commit()
    return setting


def create_vacancy(setting: Setting, *, places: int = 1, available_from: date | None = None,
                   fee_gbp_week: str | None = None, status: str = "open") -> Vacancy:
    vacancy = Vacancy(
        setting_id=setting.id, places=places, available_from=available_from or date.today(),
        fee_gbp_week=Decimal(fee_gbp_week) if fee_gbp_week else setting.fee_gbp_week, status=status,
        confirmed_at=utcnow(),
    )
    db.session.add(vacancy)
    db.session.flush()
    bump_options_version(vacancies=[vacancy.id])  # as the service does: processes patch their index with it
    db.session.commit()
    return vacancy


def create_request(officer: User, *, first_name: str = "Amara", last_name: str = "Okafor", age: int = 12,
                   sex: str = "female", home_postcode: str = "CV1 2AB", urgency: str = "within_5_days",
                   needed_in_days: int = 3, needs=(), risks=(), status: str = "searching",
                   suitability_foster: str = "preferred", suitability_residential: str = "suitable",
                   suitability_supported: str = "unsuitable", budget: str | None = None) -> PlacementRequest:
    info = geo.lookup(home_postcode)
    needed_by = date.today() + timedelta(days=needed_in_days)
    dob = date(needed_by.year - age, 1, 1)  # so the child is exactly `age` on the needed-by date
    req = PlacementRequest(
        la_code=officer.la_code, created_by_id=officer.id, status=status,
        child_reference=f"REF-{next(_seq):05d}", first_name=first_name, last_name=last_name,
        date_of_birth=dob, sex=sex, home_postcode=info.postcode, home_easting=info.easting,
        home_northing=info.northing, urgency=urgency, needed_by=needed_by,
        suitability_foster=suitability_foster, suitability_residential=suitability_residential,
        suitability_supported=suitability_supported, needs=list(needs), risks=list(risks),
        budget_gbp_week=Decimal(budget) if budget else None, submitted_at=utcnow(),
    )
    db.session.add(req)
    db.session.commit()
    return req


def create_connected_person(req: PlacementRequest, *, name: str = "Grace Okafor", postcode: str = "CV2 4GA",
                            stage: str = "approved") -> ConnectedPerson:
    info = geo.lookup(postcode)
    person = ConnectedPerson(
        request_id=req.id, name=name, relationship_to_child="Aunt", postcode=info.postcode, la_code=info.la_code,
        easting=info.easting, northing=info.northing, stage=stage, capacity=1,
    )
    db.session.add(person)
    db.session.commit()
    return person


def create_referral(req: PlacementRequest, provider: Provider) -> Referral:
    referral = Referral(request_id=req.id, provider_id=provider.id)
    db.session.add(referral)
    db.session.commit()
    return referral


def create_offer(referral: Referral, vacancy: Vacancy, *, fee: str = "850") -> Offer:
    offer = Offer(
        referral_id=referral.id, request_id=referral.request_id, provider_id=referral.provider_id,
        vacancy_id=vacancy.id, fee_gbp_week=Decimal(fee), start_date=date.today() + timedelta(days=3),
    )
    db.session.add(offer)
    referral.status = "offered"
    db.session.commit()
    return offer
