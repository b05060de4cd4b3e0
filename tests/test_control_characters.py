"""Bad input never reaches the database or the log (issue 15 §7): control characters are a field error (422)
with what was typed kept and nothing saved, on SQLite and PostgreSQL (which refuses NUL in text: this used to
be a 500 whose log line held the child's details)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.forms import control_characters_message, has_control_characters
from portal.models import ConnectedPerson, PlacementRequest, Provider, Setting
from tests.factories import COVENTRY, create_provider, create_request, create_setting, create_user
from tests.pages import Page, get_page
from tests.requests.helpers import child_section, create_request_via_web


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("text, multiline, refused", [
    ("Amara", False, False),
    ("Zoë Ł 王 😀 – ‘quoted’", False, False),  # letters and punctuation from anywhere are text
    ("a\x00b", False, True),
    ("a\x00b", True, True),  # NUL is refused everywhere
    ("a\x07b", True, True),
    ("a\x1bb", False, True),
    ("a\x7fb", False, True),  # DEL
    ("a\x85b", True, True),  # C1 (next line)
    ("a\x9fb", False, True),
    ("a\ud800b", False, True),  # a lone surrogate
    ("line one\r\nline two\tend", True, False),  # a text area keeps new lines and tabs
    ("line one\nline two", False, True),  # a one-line field does not
    ("tab\there", False, True),
])
def test_which_characters_are_refused(text, multiline, refused):
    assert has_control_characters(text, multiline=multiline) is refused


def test_the_message_names_the_field_by_its_label():
    assert control_characters_message("First name") == "Remove the control characters from First name"
    assert control_characters_message("Gender (optional)") == "Remove the control characters from Gender"


def test_a_nul_byte_in_a_childs_first_name_is_a_field_error_and_nothing_is_saved(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    response = client.post("/requests/new", data=child_section(first_name="Am\x00ara"))
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.title.startswith("Error: ")
    assert page.errors == ["Remove the control characters from First name"]
    assert page.field_error("first_name") == "Remove the control characters from First name"
    assert page.value("last_name") == "Singh"  # what was typed is kept
    assert page.value("first_name").replace("\ufffd", "\x00") == "Am\x00ara"
    assert _count(db_session, PlacementRequest) == 0


@pytest.mark.parametrize("field, value", [
    ("last_name", "Singh\x1b[31m"), ("ethnicity", "\x85"), ("child_reference", "COV\x00-77"),
    ("date_of_birth", ["3", "4\x00", "2015"]), ("sex", "male\x00"), ("gender", "a\tb"),
])
def test_control_characters_in_any_field_of_the_child_section_are_refused(client, auth, db_session, field, value):
    auth.sign_in(create_user("officer"))
    request_id = create_request_via_web(client, submit=False)
    response = client.post(f"/requests/{request_id}/edit/child", data={**child_section(**{field: value}),
                                                                      "action": "continue"})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert len(page.errors) == 1 and page.errors[0].startswith("Remove the control characters from "), page.errors
    assert db_session.get(PlacementRequest, request_id).last_name == "Singh"


def test_a_text_area_keeps_new_lines_but_refuses_nul(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    request_id = create_request_via_web(client, submit=False)
    url = f"/requests/{request_id}/edit/budget"
    response = client.post(url, data={"notes": "Loves football.\r\n\tPlays\ttennis.", "action": "continue"})
    assert response.status_code == 302
    assert db_session.get(PlacementRequest, request_id).notes == "Loves football.\r\n\tPlays\ttennis."
    response = client.post(url, data={"notes": "Loves\x00 football.", "action": "continue"})
    assert response.status_code == 422
    assert Page(response.get_data(as_text=True)).field_error("notes") == \
        "Remove the control characters from Notes for providers"
    assert db_session.get(PlacementRequest, request_id).notes == "Loves football.\r\n\tPlays\ttennis."


def test_a_connected_persons_name_with_a_nul_byte_is_refused(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    auth.sign_in(officer)
    response = client.post(f"/requests/{req.id}/connected-persons", data={
        "name": "Grace\x00 Okafor", "relationship_to_child": "aunt", "postcode": "CV2 4GA",
        "stage": "approved", "capacity": "1", "source": "family_network"})
    assert response.status_code == 422
    assert Page(response.get_data(as_text=True)).field_error("name") == "Remove the control characters from Full name"
    assert _count(db_session, ConnectedPerson) == 0


def test_a_sibling_reference_with_a_nul_byte_is_refused_before_it_is_looked_up(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    auth.sign_in(officer)
    response = client.post(f"/requests/{req.id}/siblings", data={"child_reference": "COV\x00", "together": "y"})
    assert response.status_code == 422
    assert Page(response.get_data(as_text=True)).field_error("child_reference").startswith(
        "Remove the control characters from ")


def test_the_officers_search_refuses_a_nul_byte(client, auth, db_session):
    officer = create_user("officer")
    create_request(officer)
    auth.sign_in(officer)
    response = client.post("/requests/", data={"q": "Am\x00"})
    assert 400 <= response.status_code < 500
    assert "Remove the control characters from Search by reference or name" in Page(response.get_data(as_text=True)).errors


def test_a_provider_setting_name_with_a_control_character_is_refused(client, auth, db_session):
    provider = create_provider()
    auth.sign_in(create_user("provider", la_code=None, provider=provider))
    response = client.post("/provider/settings/new", data={
        "name": "Willow\x00", "kind": "foster", "postcode": "CV1 2AB", "ofsted_rating": "none",
        "registered_places": "2", "age_min": "0", "age_max": "17", "sexes": ["female", "male"],
        "fee_gbp_week": "850"})
    assert response.status_code == 422
    assert Page(response.get_data(as_text=True)).field_error("name").startswith("Remove the control characters from")
    assert _count(db_session, Setting) == 0


def test_provider_registration_refuses_control_characters(client, db_session):
    response = client.post("/provider/register", data={
        "name": "Acme\x00 Fostering", "kind": "ifa", "provider_code": "PR4", "contract": "spot",
        "contact_name": "Sam", "contact_email": "sam@acme.example", "contact_phone": "024 7600 0000",
        "password": "a long enough password", "password_confirm": "a long enough password"})
    assert response.status_code == 422
    assert any(e.startswith("Remove the control characters from") for e in Page(response.get_data(as_text=True)).errors)
    assert _count(db_session, Provider) == 0


def test_sign_in_with_a_nul_byte_in_the_email_is_a_field_error(client):
    response = client.post("/sign-in", data={"email": "officer\x00@example.org", "password": "password"})
    assert 400 <= response.status_code < 500
    assert "Remove the control characters from Email address" in Page(response.get_data(as_text=True)).errors


@pytest.mark.parametrize("url", ["/requests/%00", "/requests/abc%00def/edit", "/provider/referrals/%00",
                                 "/placements/%01x"])
def test_an_address_with_a_control_character_is_not_found(client, auth, db_session, url):
    auth.sign_in(create_user("officer"))
    assert client.get(url).status_code == 404


def test_a_query_string_with_a_control_character_is_refused(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer, status="searching")
    auth.sign_in(officer)
    get_page(client, f"/requests/{req.id}/not-eligible?q=Will%00ow", status=400)
    get_page(client, f"/requests/{req.id}/not-eligible?q%00=x", status=400)
    get_page(client, f"/requests/{req.id}/not-eligible?q=Willow")


def test_the_referral_inbox_filter_refuses_a_nul_byte(client, auth, db_session):
    provider = create_provider()
    create_setting(provider)
    auth.sign_in(create_user("provider", la_code=None, provider=provider))
    assert client.get("/provider/?setting=%00&urgency=today").status_code == 400
    assert client.get("/provider/?urgency=today").status_code == 200


def test_an_officer_of_another_la_with_a_nul_byte_in_a_coventry_id_is_still_not_found(client, auth, db_session):
    create_request(create_user("officer", la_code=COVENTRY))
    auth.sign_in(create_user("officer", la_code="E08000025"))
    assert client.get("/requests/%00").status_code == 404
