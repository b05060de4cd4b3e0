"""Ending a placement: the end date and the SSDA903 reason, including a return home; once only; the request
keeps the placement as history."""

from datetime import date, timedelta

from sqlalchemy import select

from portal.models import AuditEvent, Placement, PlacementRequest
from tests.factories import BIRMINGHAM, create_user
from tests.placements.placement_factories import create_offer_placement, date_fields, past


def _placement(db_session, placement_id):
    return db_session.get(Placement, placement_id)  # fresh: each request closes the test's session


def test_a_return_home_ends_the_placement_and_the_request_stays_placed(client, auth, db_session):
    op = create_offer_placement(start_date=past(30))
    auth.sign_in(op.officer)
    page = client.get(f"/placements/{op.placement.id}/end").get_data(as_text=True)
    assert "Return home: Returned home to live with parent(s)" in page and "(E4A)" in page and "(E13)" in page
    response = client.post(f"/placements/{op.placement.id}/end",
                           data={**date_fields("end_date", past(2)), "end_reason": "E4A"})
    assert response.status_code == 302
    placement = _placement(db_session, op.placement.id)
    assert placement.end_date == past(2) and placement.end_reason == "E4A"
    assert db_session.get(PlacementRequest, op.request.id).status == "placed"
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "end_placement"))
    assert event.detail == f"placement:{op.placement.id};reason:E4A;return_home"
    page = client.get(f"/placements/{op.placement.id}").get_data(as_text=True)
    assert "Ended on" in page and "(E4A)" in page and 'data-testid="end-link"' not in page

    # Once ended it cannot be ended again.
    response = client.post(f"/placements/{op.placement.id}/end",
                           data={**date_fields("end_date", past(1)), "end_reason": "E13"})
    assert response.status_code == 409
    assert "already ended" in response.get_data(as_text=True)
    assert _placement(db_session, op.placement.id).end_reason == "E4A"
    assert 'data-testid="already-ended"' in client.get(f"/placements/{op.placement.id}/end").get_data(as_text=True)


def test_bad_end_inputs_are_422_with_everything_kept_and_nothing_saved(client, auth, db_session):
    op = create_offer_placement(start_date=past(10))
    auth.sign_in(op.officer)
    url = f"/placements/{op.placement.id}/end"
    cases = [
        ({}, ["Enter the date the placement ended", "Select why the placement ended"]),
        ({**date_fields("end_date", date.today() + timedelta(days=1)), "end_reason": "E8"},
         ["must be today or in the past"]),
        ({**date_fields("end_date", past(11)), "end_reason": "E8"}, ["on or after the day the placement started"]),
        ({**date_fields("end_date", past(1)), "end_reason": "E99"}, ["Select why the placement ended"]),
        ({"end_date": ["31", "2", "2026"], "end_reason": "E8"}, ["as a real date"]),
    ]
    for data, messages in cases:
        response = client.post(url, data=data)
        assert response.status_code == 422, data
        page = response.get_data(as_text=True)
        assert "govuk-error-summary" in page
        for message in messages:
            assert message in page, (data, message)
        if "end_date" in data:
            assert f'value="{data["end_date"][0]}"' in page and f'value="{data["end_date"][2]}"' in page
        if data.get("end_reason") == "E8":
            assert 'value="E8" checked' in page
    placement = _placement(db_session, op.placement.id)
    assert placement.end_date is None and placement.end_reason is None


def test_only_the_las_officer_can_end_a_placement(client, auth, db_session):
    op = create_offer_placement(start_date=past(5))
    data = {**date_fields("end_date", past(1)), "end_reason": "CARPL"}
    auth.sign_in(op.provider_user)
    assert client.post(f"/placements/{op.placement.id}/end", data=data).status_code == 403
    auth.sign_out()
    auth.sign_in(create_user("officer", la_code=BIRMINGHAM))
    assert client.get(f"/placements/{op.placement.id}/end").status_code == 404
    assert client.post(f"/placements/{op.placement.id}/end", data=data).status_code == 404
    assert _placement(db_session, op.placement.id).end_date is None
