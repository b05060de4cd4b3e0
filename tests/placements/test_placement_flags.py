"""Placements flagged for a deprivation of liberty order and an unregistered setting (issue 13 §4): set when the
placement is recorded, shown on the record, corrected by the officer (audited), never by a provider."""

from __future__ import annotations

from sqlalchemy import select

from portal.db import db
from portal.models import AuditEvent, Placement
from portal.placement_records import unregistered_setting
from tests.factories import create_user
from tests.placements.placement_factories import create_offer_placement


def test_unregistered_means_a_home_or_supported_accommodation_without_a_urn():
    assert unregistered_setting("residential", None) and unregistered_setting("supported", " ")
    assert not unregistered_setting("residential", "SC123456")
    assert not unregistered_setting("foster", None)  # the agency is the registered body


def test_recorded_from_the_request_and_the_setting_then_corrected_by_the_officer(client, auth, db_session):
    placed = create_offer_placement(needs=("therapeutic_support", "deprivation_of_liberty"))
    placement_id = placed.placement.id
    placement = db_session.get(Placement, placement_id)
    assert placement.deprivation_of_liberty is True and placement.unregistered_setting is False
    auth.sign_in(placed.officer)
    page = client.get(f"/placements/{placement_id}").get_data(as_text=True)
    assert 'data-testid="flag-dol">Yes' in page and 'data-testid="flag-unregistered">No' in page
    response = client.post(f"/placements/{placement_id}/flags", data={"unregistered_setting": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    placement = db_session.get(Placement, placement_id)
    assert (placement.deprivation_of_liberty, placement.unregistered_setting) == (False, True)
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "correct_placement_flags")) is not None
    page = client.get(f"/placements/{placement_id}").get_data(as_text=True)
    assert 'data-testid="flag-dol">No' in page and 'data-testid="flag-unregistered">Yes' in page


def test_a_provider_cannot_correct_the_flags(client, auth, db_session):
    placed = create_offer_placement()
    placement_id = placed.placement.id
    auth.sign_in(placed.provider_user)
    assert client.post(f"/placements/{placement_id}/flags", data={"deprivation_of_liberty": "y"}).status_code == 403
    auth.sign_out()
    auth.sign_in(create_user("officer", la_code="E08000025"))  # another LA's officer: not found
    assert client.post(f"/placements/{placement_id}/flags", data={"deprivation_of_liberty": "y"}).status_code == 404
    db.session.expire_all()
    assert db_session.get(Placement, placement_id).deprivation_of_liberty is False
