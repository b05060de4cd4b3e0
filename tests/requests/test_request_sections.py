"""The placement request task list: sections saved one by one, drafts kept, bad input refused and kept, nothing
saved half-done, duplicates shown before saving, submission only when the required sections are complete."""

import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, PlacementRequest
from tests.factories import create_request, create_user
from tests.pages import Page
from tests.requests.helpers import SECTION_DEFAULTS, child_section, create_request_via_web, date_fields


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("changes, message", [
    ({"first_name": ""}, "Enter the child's first name"),
    ({"child_reference": ""}, "Enter the child's reference"),
    ({"date_of_birth": ["31", "2", "2015"]}, "Enter the child's date of birth as a real date"),
    ({"date_of_birth": ["1", "1", str(date.today().year + 1)]}, "must be today or in the past"),
    ({"date_of_birth": ["1", "1", "1990"]}, "The child must be under 19"),
    ({"sex": "other"}, "Not a valid choice"),
    ({"legal_status": "ZZ"}, "Not a valid choice"),
])
def test_bad_child_details_are_refused_kept_and_not_saved(client, auth, db_session, changes, message):
    auth.sign_in(create_user("officer"))
    response = client.post("/requests/new", data=child_section(**changes))
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.title.startswith("Error: ")
    assert any(message in error for error in page.errors), page.errors
    assert page.value("last_name") == "Singh"  # what was typed is kept
    assert db_session.scalar(select(func.count()).select_from(PlacementRequest)) == 0


@pytest.mark.parametrize("key, data, message", [
    ("location", {"home_postcode": "not a postcode"}, "Enter a real postcode"),
    ("location", {"home_postcode": "CV1 0ZZ"}, "could not find the postcode CV1 0ZZ"),
    ("location", {"home_postcode": ""}, "Enter a postcode"),
    ("location", {"home_postcode": "CV1 2AB", "school_postcode": "ZZ"}, "Enter a real postcode"),
    ("location", {"home_postcode": "CV1 2AB", "keep_school": "y"}, "Enter the school postcode"),
    ("location", {"home_postcode": "CV1 2AB", "avoid_las": ["E99999999"]}, "is not one of the choices"),
    ("timing", {"urgency": "yesterday", **date_fields("needed_by", date.today())}, "Not a valid choice"),
    ("timing", {"urgency": "today", "needed_by": ["1", "1", "2020"]}, "must be today or in the future"),
    ("timing", {"urgency": "today", "needed_by": ["x", "y", "z"]}, "Needed by must be a real date"),
    ("suitability", {"suitability_foster": "unsuitable", "suitability_residential": "unsuitable",
                     "suitability_supported": "unsuitable"}, "At least one type of placement must be suitable"),
    ("needs", {"communication": ["semaphore"], "cultural_needs": "required", "living_companions": "solo",
               "pets": "no"}, "is not one of the choices"),
    ("risks", {"risks_to_child": ["flying"]}, "is not one of the choices"),
    ("budget", {"budget_gbp_week": "-5"}, "Enter a weekly budget between"),
    ("budget", {"budget_gbp_week": "lots"}, "Not a valid decimal value"),
])
def test_bad_section_input_is_refused_kept_and_not_saved(client, auth, db_session, key, data, message):
    auth.sign_in(create_user("officer"))
    request_id = create_request_via_web(client, submit=False)
    before = db_session.get(PlacementRequest, request_id)
    snapshot = (before.home_postcode, before.urgency, before.needed_by, list(before.needs), before.budget_gbp_week)
    response = client.post(f"/requests/{request_id}/edit/{key}", data={**data, "action": "continue"})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.title.startswith("Error: ")
    assert any(message in error for error in page.errors), page.errors
    for name, value in data.items():
        if isinstance(value, str) and value and key in ("location", "budget"):
            assert page.value(name) == value  # kept as typed
    db_session.expire_all()
    after = db_session.get(PlacementRequest, request_id)
    assert (after.home_postcode, after.urgency, after.needed_by, list(after.needs), after.budget_gbp_week) == snapshot


def test_draft_is_kept_and_cannot_be_submitted_until_required_sections_are_complete(client, auth, db_session):
    officer = create_user("officer")
    auth.sign_in(officer)
    response = client.post("/requests/new", data=child_section())
    request_id = re.search(r"/requests/([0-9a-f]{32})/edit", response.headers["Location"]).group(1)
    task_list = _page(client.get(f"/requests/{request_id}/edit"))
    assert "Not yet started" in task_list and "Completed" in task_list
    # Save as draft keeps what was typed without completing the section.
    client.post(f"/requests/{request_id}/edit/location", data={"home_postcode": "cv1 2ab", "action": "draft"})
    req = db_session.get(PlacementRequest, request_id)
    assert req.home_postcode == "CV1 2AB" and "location" not in req.completed_sections
    assert "In progress" in _page(client.get(f"/requests/{request_id}/edit"))
    response = client.post(f"/requests/{request_id}/submit")
    assert response.status_code == 422
    assert Page(response.get_data(as_text=True)).errors == [
        "Complete ‘Home, school and family’ before you submit the request",
        "Complete ‘When the placement is needed’ before you submit the request",
        "Complete ‘Type of placement’ before you submit the request",
    ]
    assert db_session.get(PlacementRequest, request_id).status == "draft"
    # A draft's page is its task list (no matches yet) and it shows in the officer's list.
    assert client.get(f"/requests/{request_id}").headers["Location"].endswith(f"/requests/{request_id}/edit")
    assert "Singh" in _page(client.post("/requests/", data={"status": "draft"}))


def test_complete_request_is_submitted_with_every_field(client, auth, db_session):
    officer = create_user("officer")
    auth.sign_in(officer)
    request_id = create_request_via_web(
        client,
        child=child_section(gender="Boy", ethnicity="Mixed White and Black Caribbean", religion="Christian",
                            first_language="English", legal_status="C2"),
        location={"home_postcode": "CV1 2AB", "school_postcode": "cv2 4ga", "keep_school": "y",
                  "family_postcode": "CV1 5FB", "avoid_las": ["E08000025"]},
        needs={"communication": ["bsl"], "home_adaptation": "y", "support": ["therapeutic_support"],
               "deprivation_of_liberty": "y", "cultural_needs": "required", "living_companions": "solo",
               "pets": "no", "additional_support_other": "Weekly music therapy"},
        risks={"risks_to_child": ["going_missing"], "risks_to_others": ["others_fire"], "risk_other": ""},
        budget={"budget_gbp_week": "4500", "notes": "Loves football."},
    )
    req = db_session.get(PlacementRequest, request_id)
    assert req.status == "searching" and req.submitted_at is not None
    assert (req.school_postcode, req.keep_school, req.family_postcode) == ("CV2 4GA", True, "CV1 5FB")
    assert req.avoid_las == ["E08000025"] and req.legal_status == "C2"
    assert set(req.needs) == {"bsl", "home_adaptation", "therapeutic_support", "deprivation_of_liberty"}
    assert set(req.risks) == {"going_missing", "others_fire"}
    assert (req.cultural_needs, req.living_companions, req.pets) == ("required", "solo", "no")
    assert str(req.budget_gbp_week) == "4500.00"
    actions = [e.action for e in db_session.scalars(select(AuditEvent).where(AuditEvent.record_id == request_id))]
    assert actions.count("create") == 1 and actions.count("submit") == 1 and actions.count("update") >= 6


def test_submitted_request_sections_prefill_and_stay_complete(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    request_id = create_request_via_web(client)
    page = _page(client.get(f"/requests/{request_id}/edit/location"))
    assert 'value="CV1 2AB"' in page and "Save as draft" not in page
    response = client.post(f"/requests/{request_id}/edit/timing", data={**SECTION_DEFAULTS["timing"], "action": "draft"})
    assert response.status_code == 422
    assert "every section must stay complete" in _page(response)


def test_possible_duplicate_is_shown_before_saving_and_the_officer_decides(client, auth, db_session):
    officer = create_user("officer")
    existing = create_request(officer, first_name="Jay", last_name="Singh", age=9)
    auth.sign_in(officer)
    data = child_section(first_name="Jai", last_name="Singh", date_of_birth=[
        str(existing.date_of_birth.day), str(existing.date_of_birth.month), str(existing.date_of_birth.year)])
    response = client.post("/requests/new", data=data)
    assert response.status_code == 409
    page = _page(response)
    assert "may already have a placement request" in page and existing.child_reference in page
    assert db_session.scalar(select(func.count()).select_from(PlacementRequest)) == 1
    response = client.post("/requests/new", data={**data, "not_a_duplicate": "y"})
    assert response.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(PlacementRequest)) == 2


def test_different_date_of_birth_is_not_a_duplicate(client, auth, db_session):
    officer = create_user("officer")
    create_request(officer, first_name="Jay", last_name="Singh", age=9)
    auth.sign_in(officer)
    response = client.post("/requests/new", data=child_section(date_of_birth=["2", "2", str(date.today().year - 7)]))
    assert response.status_code == 302


def test_placed_request_cannot_be_changed(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer, status="placed")
    auth.sign_in(officer)
    response = client.post(f"/requests/{req.id}/edit/budget", data={"budget_gbp_week": "100", "action": "continue"})
    assert response.status_code == 409
    assert "can no longer be changed" in _page(response)
    assert client.get(f"/requests/{req.id}/edit/nonsense").status_code == 404


@pytest.mark.parametrize("needed_by", [["3"], ["1", "2", "2030", "4"], ["", "", ""]])
def test_a_date_with_missing_or_extra_boxes_is_a_clear_error_not_a_crash(client, auth, db_session, needed_by):
    auth.sign_in(create_user("officer"))
    request_id = create_request_via_web(client, submit=False)
    response = client.post(f"/requests/{request_id}/edit/timing",
                           data={"urgency": "today", "needed_by": needed_by, "action": "continue"})
    assert response.status_code == 422
    page = _page(response)
    assert "Needed by must be a real date" in page or "Enter the date the placement is needed by" in page


def test_the_task_list_counts_only_the_sections_completed(client, auth, db_session):
    """A new draft has one section done (the child's details), not 'completed 4 of 7' (optional sections are not
    done until the officer completes them)."""
    from portal.requests.sections import SECTIONS

    auth.sign_in(create_user("officer"))
    response = client.post("/requests/new", data=child_section())
    request_id = re.search(r"/requests/([0-9a-f]{32})/edit", response.headers["Location"]).group(1)
    page = Page(client.get(f"/requests/{request_id}/edit").get_data(as_text=True))
    assert page.testid("progress").startswith(f"You have completed 1 of {len(SECTIONS)} sections;")
    client.post(f"/requests/{request_id}/edit/location", data={"home_postcode": "cv1 2ab", "action": "draft"})
    page = Page(client.get(f"/requests/{request_id}/edit").get_data(as_text=True))
    assert page.testid("progress").startswith(f"You have completed 1 of {len(SECTIONS)} sections;")  # a draft is not done
