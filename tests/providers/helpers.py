"""What provider tests share: form data as a browser sends it, and a referral ready to answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from portal.models import Offer, PlacementRequest, Provider, Referral, Setting, User, Vacancy
from portal.db import db
from tests.factories import create_provider, create_referral, create_request, create_setting, create_user, create_vacancy

SECRETS = ("Amara", "Okafor")  # the factory child's names: never on a provider page before acceptance


def date_fields(name: str, day: date | None) -> dict:
    if day is None:
        return {name: ["", "", ""]}
    return {name: [str(day.day), str(day.month), str(day.year)]}


def setting_data(**changes) -> dict:
    """A valid 'add a setting' form, as the browser posts it."""
    data = {
        "name": "Oak House", "kind": "residential", "postcode": "cv1 2ab", "ofsted_urn": "sc123456",
        "ofsted_rating": "good", **date_fields("inspected_on", date(2025, 3, 14)), "registered_places": "4",
        "age_min": "8", "age_max": "17", "sexes": ["female", "male"], "needs_met": ["therapeutic_support"],
        "risks_managed": ["going_missing", "self_harm"], "languages": "English, Urdu", "religions": "Muslim",
        "takes_siblings": "y", "fee_gbp_week": "4,250.50",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def vacancy_data(**changes) -> dict:
    data = {"places": "2", **date_fields("available_from", date.today() + timedelta(days=1)),
            **date_fields("available_to", None), "fee_gbp_week": "900", "status": "open"}
    data.update(changes)
    return data


@dataclass
class Scene:
    """An officer's request referred to one provider with a fitting vacancy, plus a second provider."""

    officer: User
    provider: Provider
    admin: User
    manager: User
    staff: User
    setting: Setting
    vacancy: Vacancy
    request: PlacementRequest
    referral: Referral
    other: Provider
    other_user: User
    other_setting: Setting
    other_vacancy: Vacancy


def scene(**request_kwargs) -> Scene:
    officer = create_user("officer", name="Olivia Officer")
    provider = create_provider(name="Arden Fostering")
    setting = create_setting(provider, postcode="CV2 4GA", name="Willow household", needs_met=["therapeutic_support"])
    vacancy = create_vacancy(setting, places=1, fee_gbp_week="880")
    other = create_provider(name="Marches Care")
    other_setting = create_setting(other, postcode="CV3 1AA", name="Rival household",
                                   needs_met=["therapeutic_support"])
    other_vacancy = create_vacancy(other_setting)
    request_kwargs.setdefault("needs", ["therapeutic_support"])
    req = create_request(officer, **request_kwargs)
    referral = create_referral(req, provider)
    return Scene(
        officer=officer, provider=provider,
        admin=create_user("provider", provider=provider, provider_role="admin", name="Ada Admin"),
        manager=create_user("provider", provider=provider, provider_role="manager", name="Pat Provider"),
        staff=create_user("provider", provider=provider, provider_role="staff", name="Sam Staff"),
        setting=setting, vacancy=vacancy, request=req, referral=referral, other=other,
        other_user=create_user("provider", provider=other, provider_role="admin", name="Rhys Rival"),
        other_setting=other_setting, other_vacancy=other_vacancy,
    )


def offer_data(vacancy_id: str, *, fee: str = "880", start: date | None = None, message: str = "") -> dict:
    return {"vacancy_id": vacancy_id, "fee_gbp_week": fee,
            **date_fields("start_date", start or date.today() + timedelta(days=3)), "message": message}


def offers() -> list[Offer]:
    db.session.expire_all()
    return list(db.session.scalars(select(Offer).order_by(Offer.created_at)))


def fresh(model, record_id):
    db.session.expire_all()
    return db.session.get(model, record_id)
