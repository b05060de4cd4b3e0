"""Scoped reads for providers. Every function that can return child-level data takes the acting user."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select, update

from portal.auth.models import User
from portal.db import db
from portal.providers.models import Offer, OptionsVersion, Provider, Setting, Vacancy
from portal.requests.models import PlacementRequest, Referral


def get_options_version() -> int:
    """The number that moves whenever matching inputs change (see OptionsVersion)."""
    return db.session.scalar(select(OptionsVersion.version).where(OptionsVersion.id == 1)) or 0


def bump_options_version() -> None:
    """Tell every process that vacancies, settings or approvals changed. Part of the caller's transaction."""
    db.session.execute(update(OptionsVersion).where(OptionsVersion.id == 1).values(version=OptionsVersion.version + 1))


def list_referrals_for_provider(user: User) -> list[tuple[Referral, PlacementRequest]]:
    """Referrals sent to the user's provider, most urgent first. The request is for anonymised display only."""
    urgency_rank = {"today": 0, "within_5_days": 1, "over_5_days": 2}
    rows = db.session.execute(
        select(Referral, PlacementRequest)
        .join(PlacementRequest, PlacementRequest.id == Referral.request_id)
        .where(Referral.provider_id == user.provider_id)
        .order_by(Referral.sent_at.desc())
    ).all()
    return sorted(((r, p) for r, p in rows), key=lambda rp: (rp[0].status == "closed", urgency_rank[rp[1].urgency], rp[1].needed_by))


def get_referral_for_provider(user: User, referral_id: str) -> Referral:
    """The referral, only if it was sent to the user's provider; otherwise 404 (never reveal it exists)."""
    referral = db.session.scalar(
        select(Referral).where(Referral.id == referral_id, Referral.provider_id == user.provider_id)
    )
    if referral is None:
        abort(404)
    return referral


def list_open_vacancies_for_provider(user: User) -> list[Vacancy]:
    return list(
        db.session.scalars(
            select(Vacancy)
            .join(Setting)
            .where(Setting.provider_id == user.provider_id, Vacancy.status == "open")
            .order_by(Setting.name, Vacancy.available_from)
        )
    )


def list_vacancies_for_provider(user: User) -> list[Vacancy]:
    return list(
        db.session.scalars(
            select(Vacancy)
            .join(Setting)
            .where(Setting.provider_id == user.provider_id)
            .order_by(Vacancy.status, Setting.name, Vacancy.available_from)
        )
    )


def find_vacancy_for_provider(user: User, vacancy_id: str) -> Vacancy | None:
    """The vacancy if it belongs to the user's provider, else None (edited form fields cannot reach others')."""
    return db.session.scalar(
        select(Vacancy).join(Setting).where(Vacancy.id == vacancy_id, Setting.provider_id == user.provider_id)
    )


def list_offers_for_referral(user: User, referral: Referral) -> list[Offer]:
    return list(
        db.session.scalars(
            select(Offer)
            .where(Offer.referral_id == referral.id, Offer.provider_id == user.provider_id)
            .order_by(Offer.created_at)
        )
    )


def list_pending_providers() -> list[Provider]:
    return list(db.session.scalars(select(Provider).where(Provider.status == "pending").order_by(Provider.created_at)))


def get_provider(provider_id: str) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        abort(404)
    return provider
