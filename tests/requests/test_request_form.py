"""The placement request form: bad input is a 422 with the error summary, everything typed kept, nothing saved."""

import html
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.auth.models import AuditEvent
from portal.requests.models import PlacementRequest
from tests.factories import create_user


def _valid(**changes):
    needed_by = date.today() + timedelta(days=4)
    data = {
        "child_reference": "COV-77", "first_name": "Jay", "last_name": "Singh",
        "date_of_birth": ["3", "4", str(date.today().year - 9)], "sex": "male", "home_postcode": "CV1 2AB",
        "school_postcode": "", "urgency": "over_5_days",
        "needed_by": [str(needed_by.day), str(needed_by.month), str(needed_by.year)],
        "suitability_foster": "preferred", "suitability_residential": "suitable",
        "suitability_supported": "unsuitable",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("changes, message", [
    ({"home_postcode": "not a postcode"}, "Enter a real postcode"),
    ({"home_postcode": "CV1 0ZZ"}, "could not find the postcode CV1 0ZZ"),
    ({"home_postcode": ""}, "Enter a postcode"),
    ({"school_postcode": "ZZ"}, "Enter a real postcode"),
    ({"first_name": ""}, "Enter the child's first name"),
    ({"date_of_birth": ["31", "2", "2015"]}, "Enter the child's date of birth"),
    ({"date_of_birth": ["1", "1", str(date.today().year + 1)]}, "must be today or in the past"),
    ({"needed_by": ["1", "1", "2020"]}, "must be today or in the future"),
    ({"sex": "other"}, "Not a valid choice"),
    ({"urgency": "yesterday"}, "Not a valid choice"),
    ({"needs": ["flying"]}, "is not one of the choices"),
    ({"budget_gbp_week": "-5"}, "Enter a weekly budget between"),
    ({"budget_gbp_week": "lots"}, "Not a valid decimal value"),
])
def test_bad_input_is_refused_and_kept(client, auth, db_session, changes, message):
    auth.sign_in(create_user("officer"))
    response = client.post("/requests/new", data=_valid(**changes))
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "There is a problem" in page
    assert message in page
    assert 'value="Singh"' in page or changes.get("last_name") is not None  # what was typed is kept
    assert db_session.scalar(select(func.count()).select_from(PlacementRequest)) == 0


def test_valid_request_is_saved_in_the_officers_la_and_audited(client, auth, db_session):
    officer = create_user("officer")
    auth.sign_in(officer)
    response = client.post("/requests/new", data=_valid(school_postcode="cv2 4ga", keep_school="y"))
    assert response.status_code == 302
    req = db_session.scalar(select(PlacementRequest))
    assert (req.la_code, req.school_postcode, req.keep_school) == (officer.la_code, "CV2 4GA", True)
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "create")).record_id == req.id
