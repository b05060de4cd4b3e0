"""Connected persons (family and friends first, s22C) and sibling groups on a placement request."""


from sqlalchemy import select

from portal.models import ConnectedPerson, PlacementRequest
from tests.pages import Page
from tests.factories import (
    BIRMINGHAM, create_provider, create_request, create_setting, create_user, create_vacancy,
)


def _page(response) -> str:
    """The page's main text, as a person reads it."""
    return Page(response.get_data(as_text=True)).text


def _rows(response, table: str) -> list[str]:
    """Each row of a table (by its data-testid) as one line of text."""
    assert response.status_code == 200
    return [" ".join(row) for row in Page(response.get_data(as_text=True)).table_rows(table)]


PERSON = {"name": "Grace Okafor", "relationship_to_child": "Aunt", "postcode": "cv2 4ga", "stage": "approved",
          "capacity": "1", "source": "family_group_conference"}


def test_connected_person_is_added_and_ranked_first(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    create_vacancy(create_setting(create_provider(), postcode="CV1 5FB", ofsted_rating="outstanding", name="Near home"))
    auth.sign_in(officer)
    response = client.post(f"/requests/{req.id}/connected-persons", data=PERSON)
    assert response.status_code == 302
    person = db_session.scalar(select(ConnectedPerson))
    assert (person.postcode, person.la_code, person.stage) == ("CV2 4GA", "E08000026", "approved")
    rows = _rows(client.get(f"/requests/{req.id}"), "matches-table")
    grace = next(i for i, row in enumerate(rows) if "Grace Okafor" in row)
    near = next(i for i, row in enumerate(rows) if "Near home" in row)
    assert grace < near  # family first, whatever the other's points


def test_identified_connected_person_is_not_offered_until_assessed(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    auth.sign_in(officer)
    client.post(f"/requests/{req.id}/connected-persons", data={**PERSON, "stage": "identified"})
    assert not any("Grace Okafor" in row for row in _rows(client.get(f"/requests/{req.id}"), "matches-table"))
    why_not = _rows(client.get(f"/requests/{req.id}/not-eligible?q=grace"), "not-eligible")
    [row] = [row for row in why_not if "Grace Okafor" in row]
    assert "an assessment is needed before a placement" in row


def test_registered_foster_carer_with_similar_name_is_suggested(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    create_setting(create_provider(name="Arden Fostering"), postcode="CV2 4GA", name="Grace Okafore")
    auth.sign_in(officer)
    client.post(f"/requests/{req.id}/connected-persons", data=PERSON)
    page = _page(client.get(f"/requests/{req.id}/connected-persons"))
    assert "May already be a registered foster carer" in page and "Arden Fostering" in page
    assert "Same postcode" in page


def test_bad_connected_person_input(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    auth.sign_in(officer)
    for changes, message in [({"postcode": "nope"}, "Enter a real postcode"), ({"capacity": "0"}, "from 1 to 6"),
                             ({"stage": "maybe"}, "Not a valid choice"), ({"name": ""}, "Enter the person's full name")]:
        response = client.post(f"/requests/{req.id}/connected-persons", data={**PERSON, **changes})
        assert response.status_code == 422
        assert message in _page(response)
    assert db_session.scalar(select(ConnectedPerson)) is None


def test_siblings_are_linked_within_the_la_only(client, auth, db_session):
    officer = create_user("officer")
    older = create_request(officer, first_name="Older")
    younger = create_request(officer, first_name="Younger")
    other_la = create_request(create_user("officer", la_code=BIRMINGHAM), first_name="Elsewhere")
    auth.sign_in(officer)
    response = client.post(f"/requests/{older.id}/siblings", data={"child_reference": other_la.child_reference})
    assert response.status_code == 422
    assert "no placement request with that reference" in _page(response)
    response = client.post(f"/requests/{older.id}/siblings",
                           data={"child_reference": younger.child_reference.lower(), "together": "y"})
    assert response.status_code == 302
    db_session.expire_all()
    a, b = db_session.get(PlacementRequest, older.id), db_session.get(PlacementRequest, younger.id)
    assert a.sibling_group_id == b.sibling_group_id is not None and a.sibling_group.together
    assert "Younger" in _page(client.get(f"/requests/{older.id}/siblings"))
    response = client.post(f"/requests/{older.id}/siblings", data={"child_reference": older.child_reference})
    assert "different child" in _page(response)


def test_siblings_together_only_match_homes_with_room_for_both(client, auth, db_session):
    officer = create_user("officer")
    older = create_request(officer, first_name="Older")
    younger = create_request(officer, first_name="Younger")
    provider = create_provider()
    create_vacancy(create_setting(provider, name="Room for one", registered_places=1), places=1)
    create_vacancy(create_setting(provider, name="Room for two", postcode="CV2 4GA", registered_places=2), places=2)
    auth.sign_in(officer)
    response = client.post(f"/requests/{older.id}/siblings", data={"child_reference": younger.child_reference, "together": "y"})
    assert response.status_code == 302, _page(response)[-3000:]
    rows = _rows(client.get(f"/requests/{older.id}"), "matches-table")
    assert any("Room for two" in row for row in rows) and not any("Room for one" in row for row in rows)
