"""Scoped reads for placement officers: every query takes the acting user and filters by their LA."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from portal.auth.models import User
from portal.db import db
from portal.providers.models import Offer, Provider, Setting, Vacancy
from portal.requests.models import Placement, PlacementRequest, Referral


def list_requests_for_officer(user: User, status: str | None = None) -> list[PlacementRequest]:
    query = select(PlacementRequest).where(PlacementRequest.la_code == user.la_code)
    if status:
        query = query.where(PlacementRequest.status == status)
    return list(db.session.scalars(query.order_by(PlacementRequest.created_at.desc()).limit(500)))


def get_request_for_officer(user: User, request_id: str) -> PlacementRequest:
    """The request, only for officers of its LA; anyone else gets 404 (the record's existence is not revealed)."""
    placement_request = db.session.scalar(
        select(PlacementRequest).where(PlacementRequest.id == request_id, PlacementRequest.la_code == user.la_code)
    )
    if placement_request is None:
        abort(404)
    return placement_request


def list_referrals_for_request(user: User, placement_request: PlacementRequest) -> list[tuple[Referral, Provider]]:
    assert placement_request.la_code == user.la_code
    return list(
        db.session.execute(
            select(Referral, Provider)
            .join(Provider, Provider.id == Referral.provider_id)
            .where(Referral.request_id == placement_request.id)
            .order_by(Provider.name)
        ).all()
    )


def list_offers_for_request(user: User, placement_request: PlacementRequest) -> list[tuple[Offer, Vacancy, Setting, Provider]]:
    assert placement_request.la_code == user.la_code
    return list(
        db.session.execute(
            select(Offer, Vacancy, Setting, Provider)
            .join(Vacancy, Vacancy.id == Offer.vacancy_id)
            .join(Setting, Setting.id == Vacancy.setting_id)
            .join(Provider, Provider.id == Offer.provider_id)
            .where(Offer.request_id == placement_request.id)
            .order_by(Offer.created_at)
        ).all()
    )


def get_offer_for_request(user: User, placement_request: PlacementRequest, offer_id: str) -> Offer:
    offer = db.session.scalar(
        select(Offer).where(Offer.id == offer_id, Offer.request_id == placement_request.id)
    )
    if offer is None or placement_request.la_code != user.la_code:
        abort(404)
    return offer


def find_placement_for_request(user: User, placement_request: PlacementRequest) -> Placement | None:
    assert placement_request.la_code == user.la_code
    return db.session.scalar(select(Placement).where(Placement.request_id == placement_request.id))
