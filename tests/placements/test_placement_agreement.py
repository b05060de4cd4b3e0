"""The placement record and its agreement: generated from the request and the offer, signed by both sides
(typed name + time), then locked. On SQLite and PostgreSQL."""

import re

from sqlalchemy import func, select

from portal.models import AuditEvent, PlacementAgreement
from portal.placement_records import create_agreement
from tests.factories import create_user
from tests.placements.placement_factories import create_offer_placement


def _agreement(db_session, placement_id):
    """Read fresh: each request closes the test's session (tests/conftest.py), so this is what was saved."""
    return db_session.scalar(select(PlacementAgreement).where(PlacementAgreement.placement_id == placement_id))


def test_agreement_terms_come_from_the_request_and_the_offer_and_are_generated_once(db_session):
    op = create_offer_placement()
    agreement = _agreement(db_session, op.placement.id)
    terms = agreement.terms
    assert terms["child_reference"] == op.request.child_reference
    assert terms["setting"]["name"] == "Willow household" and terms["setting"]["postcode"] == "CV2 4GA"
    assert terms["provider"] == {"name": "Arden Fostering"}
    assert terms["start_date"] == op.placement.start_date.isoformat()
    assert terms["weekly_cost_gbp"] == "880.00"
    assert terms["placement_type"] == {
        "code": "U6", "label": "Foster placement with other foster carer - not long term or FFA"}
    assert terms["provider_code"] == {"code": "PR4", "label": "Private provision"}
    assert terms["distance_miles"] == f"{op.placement.distance_miles:.1f}"
    assert terms["needs"] == ["Therapeutic support"] and terms["risks"] == ["Going missing"]
    assert terms["local_authority"]["name"] == "Coventry" and terms["carer"] is None
    assert len(terms["clauses"]) >= 5
    assert "Amara" not in str(terms)  # the reference identifies the child; the name is not in the terms
    # Idempotent: a second call returns the same agreement and adds no row.
    again = create_agreement(op.placement, op.request, None, user=op.officer)
    db_session.commit()
    assert again.id == agreement.id
    assert db_session.scalar(select(func.count()).select_from(PlacementAgreement)) == 1


def test_officer_sees_the_placement_record_with_its_ssda903_fields(client, auth, db_session):
    op = create_offer_placement()
    auth.sign_in(op.officer)
    response = client.get(f"/placements/{op.placement.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    record = page.split('data-testid="placement-record"')[1].split("</dl>")[0]
    for text in ("Current", op.request.child_reference, "Willow household, Arden Fostering",
                 "U6: Foster placement with other foster carer - not long term or FFA", "PR4: Private provision",
                 "£880", f"{op.placement.distance_miles:.1f} miles", "Yes, inside Coventry"):
        assert text in record, text
    assert re.search(r"More than 20 miles from home\s*</dt>\s*<dd[^>]*>\s*No", record)
    assert "Waiting for signatures" in page and page.count("Not signed yet") == 2
    assert 'data-testid="sign-form"' in page
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "view_placement"))
    assert event.record_type == "placement_request" and event.record_id == op.request.id
    assert event.user_id == op.officer.id and "Amara" not in (event.detail or "")


def test_both_sides_sign_and_the_agreement_locks(client, auth, db_session):
    op = create_offer_placement()
    auth.sign_in(op.officer)
    response = client.post(f"/placements/{op.placement.id}/sign", data={"full_name": "  olivia   OFFICER "})
    assert response.status_code == 302
    agreement = _agreement(db_session, op.placement.id)
    assert agreement.officer_signed_name == "Olivia Officer" and agreement.officer_signed_by_id == op.officer.id
    assert agreement.officer_signed_at is not None and agreement.locked_at is None
    # The officer cannot sign twice.
    response = client.post(f"/placements/{op.placement.id}/sign", data={"full_name": "Olivia Officer"})
    assert response.status_code == 409
    assert "already been signed for the local authority" in response.get_data(as_text=True)
    auth.sign_out()

    auth.sign_in(op.provider_user)  # a manager
    page = client.get(f"/placements/{op.placement.id}").get_data(as_text=True)
    assert "Olivia Officer" in page and 'data-testid="sign-form"' in page
    response = client.post(f"/placements/{op.placement.id}/sign", data={"full_name": "Pat Provider"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Both sides have signed" in page and "Locked" in page and 'data-testid="sign-form"' not in page
    agreement = _agreement(db_session, op.placement.id)
    assert agreement.provider_signed_name == "Pat Provider" and agreement.locked_at is not None
    locked_at = agreement.locked_at

    # Locked: nobody can sign again or change it.
    response = client.post(f"/placements/{op.placement.id}/sign", data={"full_name": "Pat Provider"})
    assert response.status_code == 409
    assert "locked. It cannot be signed again or changed" in response.get_data(as_text=True)
    admin = create_user("provider", provider=op.provider, provider_role="admin", name="Ada Admin")
    auth.sign_out()
    auth.sign_in(admin)
    assert client.post(f"/placements/{op.placement.id}/sign", data={"full_name": "Ada Admin"}).status_code == 409
    agreement = _agreement(db_session, op.placement.id)
    assert agreement.provider_signed_name == "Pat Provider" and agreement.locked_at == locked_at
    actions = db_session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "sign_agreement")).all()
    assert sorted(actions) == ["allowed", "allowed", "refused", "refused", "refused"]


def test_a_name_that_is_not_the_signers_is_refused_and_kept(client, auth, db_session):
    op = create_offer_placement()
    auth.sign_in(op.officer)
    response = client.post(f"/placements/{op.placement.id}/sign", data={"full_name": "Someone Else"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page and "does not match the name on your account" in page
    assert 'value="Someone Else"' in page
    response = client.post(f"/placements/{op.placement.id}/sign", data={"full_name": "   "})
    assert response.status_code == 422 and "Type your full name to sign" in response.get_data(as_text=True)
    agreement = _agreement(db_session, op.placement.id)
    assert agreement.officer_signed_at is None and agreement.officer_signed_name is None


def test_provider_staff_cannot_sign(client, auth, db_session):
    op = create_offer_placement()
    staff = create_user("provider", provider=op.provider, provider_role="staff", name="Sam Staff")
    auth.sign_in(staff)
    page = client.get(f"/placements/{op.placement.id}").get_data(as_text=True)
    assert 'data-testid="sign-form"' not in page and "Only your organisation's administrator" in page
    assert client.post(f"/placements/{op.placement.id}/sign", data={"full_name": "Sam Staff"}).status_code == 403
    assert _agreement(db_session, op.placement.id).provider_signed_at is None


def test_an_older_placement_gets_its_agreement_by_a_post_never_a_get(client, auth, db_session):
    op = create_offer_placement(with_agreement=False)
    auth.sign_in(op.provider_user)
    page = client.get(f"/placements/{op.placement.id}").get_data(as_text=True)
    assert "has not generated the placement agreement yet" in page
    assert client.post(f"/placements/{op.placement.id}/agreement").status_code == 403
    response = client.post(f"/placements/{op.placement.id}/sign", data={"full_name": "Pat Provider"})
    assert response.status_code == 409 and "Generate the placement agreement" in response.get_data(as_text=True)
    auth.sign_out()

    auth.sign_in(op.officer)
    page = client.get(f"/placements/{op.placement.id}").get_data(as_text=True)
    assert "Generate the placement agreement" in page and 'data-testid="generate-form"' in page
    assert db_session.scalar(select(func.count()).select_from(PlacementAgreement)) == 0
    assert client.post(f"/placements/{op.placement.id}/agreement").status_code == 302
    assert client.post(f"/placements/{op.placement.id}/agreement").status_code == 302  # idempotent
    assert db_session.scalar(select(func.count()).select_from(PlacementAgreement)) == 1
    agreement = _agreement(db_session, op.placement.id)
    assert agreement.terms["weekly_cost_gbp"] == "880.00" and agreement.terms["offer_id"] is not None
    page = client.get(f"/placements/{op.placement.id}").get_data(as_text=True)
    assert 'data-testid="sign-form"' in page and 'data-testid="generate-form"' not in page
