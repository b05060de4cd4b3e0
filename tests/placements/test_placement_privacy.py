"""Who sees a placement: officers of its LA and the users of its provider. Everyone else gets a 404 (or 403 for
roles with no placements at all), and nothing about the child."""

from sqlalchemy import select

from portal.models import AuditEvent
from tests.factories import BIRMINGHAM, create_provider, create_user
from tests.placements.placement_factories import create_offer_placement, date_fields, past


def test_another_las_officer_and_another_provider_get_404_and_nothing_about_the_child(client, auth, db_session):
    op = create_offer_placement(first_name="Zephyrine")
    pid = op.placement.id
    other_provider = create_provider(name="Other Care")
    outsiders = [
        create_user("officer", la_code=BIRMINGHAM),
        create_user("provider", provider=other_provider, provider_role="admin", name="Ola Other"),
    ]
    for user in outsiders:
        auth.sign_in(user)
        responses = [
            client.get(f"/placements/{pid}"),
            client.post(f"/placements/{pid}/sign", data={"full_name": user.name}),
        ]
        if user.role == "officer":
            responses += [
                client.post(f"/placements/{pid}/agreement"),
                client.get(f"/placements/{pid}/end"),
                client.post(f"/placements/{pid}/end", data={**date_fields("end_date", past(0)), "end_reason": "E8"}),
            ]
        for response in responses:
            assert response.status_code == 404, (user.role, response.request.path)
            assert "Zephyrine" not in response.get_data(as_text=True)
        page = client.get("/placements/").get_data(as_text=True)
        assert "Zephyrine" not in page and op.request.child_reference not in page
        assert "There are no placements yet" in page
        auth.sign_out()
    viewers = db_session.scalars(select(AuditEvent.user_id).where(AuditEvent.action == "view_placement",
                                                           AuditEvent.outcome == "allowed")).all()
    assert not set(viewers) & {u.id for u in outsiders}


def test_commissioners_and_admins_have_no_placement_pages(client, auth, db_session):
    op = create_offer_placement(first_name="Zephyrine")
    for user in (create_user("commissioner"), create_user("admin", la_code=None)):
        auth.sign_in(user)
        for path in ("/placements/", f"/placements/{op.placement.id}"):
            response = client.get(path)
            assert response.status_code == 403 and "Zephyrine" not in response.get_data(as_text=True)
        auth.sign_out()


def test_unknown_placement_ids_are_404(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    assert client.get("/placements/0123456789abcdef0123456789abcdef").status_code == 404


def test_audit_events_hold_no_personal_data(client, auth, db_session):
    op = create_offer_placement(first_name="Zephyrine", start_date=past(3))
    auth.sign_in(op.officer)
    client.get(f"/placements/{op.placement.id}")
    client.post(f"/placements/{op.placement.id}/sign", data={"full_name": "Wrong Name"})
    client.post(f"/placements/{op.placement.id}/sign", data={"full_name": "Olivia Officer"})
    client.post(f"/placements/{op.placement.id}/end", data={**date_fields("end_date", past(0)), "end_reason": "E13"})
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.record_id == op.request.id)).all()
    actions = {e.action for e in events}
    assert {"view_placement", "sign_agreement", "end_placement"} <= actions
    for event in events:
        text = f"{event.detail} {event.record_id} {event.action}"
        for secret in ("Zephyrine", "Okafor", op.request.child_reference, "CV1 2AB", "Wrong Name"):
            assert secret not in text, (event.action, secret)
    # The officer's "who has seen this record" page lists the placement views.
    page = client.get(f"/requests/{op.request.id}/access").get_data(as_text=True)
    assert "view placement" in page and "sign agreement" in page
