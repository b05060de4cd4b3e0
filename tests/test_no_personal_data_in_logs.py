"""Nothing personal in anything the server logs (issue 15 §7): a child with unique marker values in every personal
field goes through the officer's and the provider's journeys, with bad input, a refused look and forced database
errors on the way, while every logger (portal, werkzeug, sqlalchemy, psycopg, ...) records at DEBUG and stderr is
captured; no marker may appear anywhere."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta

from sqlalchemy import select, text

from portal.models import PlacementRequest
from tests.factories import BIRMINGHAM, create_provider, create_setting, create_user, create_vacancy
from tests.pages import get_page
from tests.requests.helpers import date_fields

DOB = date(2013, 7, 19)
MARKERS = {
    "first_name": "Zqxfirstmarker", "last_name": "Qzylastmarker", "child_reference": "ZQX-REF-91827",
    "gender": "Zqxgendermarker", "ethnicity": "Zqxethnicmarker", "religion": "Zqxfaithmarker",
    "first_language": "Zqxlangmarker",
}
POSTCODE = "CV6 1GX"
CARER = "Zqxcarermarker Person"
NOTES = "Zqxnotesmarker likes chess"
SEARCH = "Zqxsearchmarker"
DOB_FORMS = ("2013-07-19", "19/07/2013", "19 July 2013", "19 7 2013", "2013, 7, 19")
LOGGERS = ("", "portal", "werkzeug", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.engine.Engine", "sqlalchemy.pool",
           "sqlalchemy.orm", "psycopg", "flask_login", "alembic")


def _markers() -> list[str]:
    return [*MARKERS.values(), POSTCODE, POSTCODE.replace(" ", ""), CARER, NOTES, SEARCH, *DOB_FORMS]


def test_no_personal_data_reaches_any_log(app, client, auth, db_session, caplog, capfd, monkeypatch):
    officer = create_user("officer", name="Olivia Officer")
    agency = create_provider(name="Arden Fostering")
    vacancy = create_vacancy(create_setting(agency, postcode="CV2 4GA", name="Willow household"), places=1)
    provider_user = create_user("provider", provider=agency, name="Pat Provider")
    outsider = create_user("officer", la_code=BIRMINGHAM)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)

    # The officer's journey, with bad input on the way.
    auth.sign_in(officer)
    child = {**MARKERS, **date_fields("date_of_birth", DOB), "sex": "female"}
    assert client.post("/requests/new", data={**child, "first_name": MARKERS["first_name"] + "\x00"}).status_code == 422
    assert client.post("/requests/new", data={**child, "date_of_birth": ["31", "2", "2013"]}).status_code == 422
    response = client.post("/requests/new", data=child)
    assert response.status_code == 302
    request_id = re.search(r"/requests/([0-9a-f]{32})/edit", response.headers["Location"]).group(1)
    needed_by = date.today() + timedelta(days=3)
    for key, data in {
        "location": {"home_postcode": POSTCODE, "school_postcode": "ZZ99 9ZZ"},  # refused first
        "location ": {"home_postcode": POSTCODE, "school_postcode": ""},
        "timing": {"urgency": "within_5_days", **date_fields("needed_by", needed_by)},
        "suitability": {"suitability_foster": "preferred", "suitability_residential": "suitable",
                        "suitability_supported": "unsuitable"},
        "budget": {"notes": NOTES, "budget_gbp_week": "900"},
    }.items():
        client.post(f"/requests/{request_id}/edit/{key.strip()}", data={**data, "action": "continue"})
    assert client.post(f"/requests/{request_id}/submit").status_code == 302
    get_page(client, f"/requests/{request_id}")
    client.get(f"/requests/{request_id}/matches")
    get_page(client, f"/requests/{request_id}/not-eligible?q={SEARCH}")
    client.post("/requests/", data={"q": MARKERS["last_name"]})
    client.post("/requests/", data={"q": SEARCH + "\x00"})
    client.post(f"/requests/{request_id}/connected-persons", data={
        "name": CARER, "relationship_to_child": "aunt", "postcode": POSTCODE, "stage": "identified",
        "capacity": "1", "source": "family_network"})
    client.post(f"/requests/{request_id}/siblings", data={"child_reference": MARKERS["child_reference"] + "-SIB"})
    get_page(client, f"/requests/{request_id}/access")
    assert client.post(f"/requests/{request_id}/referrals", data={"send_to": "all"}).status_code == 302
    auth.sign_out()

    # Someone who may not look, looks.
    auth.sign_in(outsider)
    assert client.get(f"/requests/{request_id}").status_code == 404
    auth.sign_out()

    # The provider's journey.
    auth.sign_in(provider_user)
    [referral_url] = get_page(client, "/provider/").hrefs(r"^/provider/referrals/[0-9a-f]+$")
    get_page(client, referral_url)
    client.post(referral_url, data={"vacancy_id": vacancy.id, "fee_gbp_week": "nope"})
    assert client.post(referral_url, data={"vacancy_id": vacancy.id, "fee_gbp_week": "880",
                                           **date_fields("start_date", date.today())}).status_code == 302
    auth.sign_out()

    # The officer accepts; the provider then sees the child's details (and must still log none of them).
    auth.sign_in(officer)
    [accept_url] = get_page(client, f"/requests/{request_id}").form_actions(r"/offers/[0-9a-f]+/accept$")
    assert client.post(accept_url).status_code == 302
    auth.sign_out()
    auth.sign_in(provider_user)
    page = get_page(client, referral_url)
    assert MARKERS["first_name"] in page.text  # the journey really carried the markers
    get_page(client, "/placements/")
    auth.sign_out()

    # Forced database errors whose own messages hold the child's details (PostgreSQL's DETAIL names the row).
    from portal.requests import services

    def failing_duplicates(user, values, exclude_id=None):
        from portal.db import db

        db.session.execute(text("INSERT INTO local_authority (code, name, kind) VALUES ('ZZ', :name, NULL)"),
                           {"name": values["first_name"] + " " + values["child_reference"]})

    auth.sign_in(officer)
    monkeypatch.setattr(services, "find_possible_duplicates", failing_duplicates)
    assert client.post("/requests/new", data=child).status_code == 500
    if db_session.bind.dialect.name == "postgresql":
        def failing_cast(user, values, exclude_id=None):
            from portal.db import db

            db.session.execute(text("SELECT CAST(:v AS INTEGER)"), {"v": values["last_name"]})

        monkeypatch.setattr(services, "find_possible_duplicates", failing_cast)
        assert client.post("/requests/new", data=child).status_code == 422
    auth.sign_out()

    assert db_session.scalar(select(PlacementRequest.first_name)) == MARKERS["first_name"]
    captured = capfd.readouterr()
    logged = "\n".join([caplog.text, *(r.getMessage() for r in caplog.records), captured.out, captured.err])
    assert "Unhandled sqlalchemy.exc.IntegrityError in POST requests.new" in logged  # the error was logged
    assert "sqlalchemy.engine" in caplog.text  # statements were logged: the check had something to look at
    leaked = sorted({marker for marker in _markers() if marker.lower() in logged.lower()})
    assert leaked == [], f"personal data in the logs: {leaked}"
