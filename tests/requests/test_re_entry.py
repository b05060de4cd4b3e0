"""Re-entry to care (issue 11 §7): earlier placements of the same child shown when an officer starts a request,
confirmed or dismissed, and the request recorded as a re-entry. On both databases."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from portal.models import AuditEvent, Placement, PlacementRequest, ReEntryLink
from tests.factories import BIRMINGHAM, create_provider, create_request, create_user
from tests.pages import Page
from tests.requests.helpers import child_section


def earlier_placement(officer, *, first_name: str = "Amara", last_name: str = "Okafor", reference: str | None = None,
                      date_of_birth: date | None = None, start_days_ago: int = 400, ended_days_ago: int | None = 200,
                      end_reason: str | None = "E4A") -> Placement:
    """A placed request of the officer's LA from the past, with its placement (ended unless told otherwise)."""
    from portal.db import db

    req = create_request(officer, first_name=first_name, last_name=last_name, status="placed")
    if reference:
        req.child_reference = reference
    if date_of_birth:
        req.date_of_birth = date_of_birth
    start = date.today() - timedelta(days=start_days_ago)
    placement = Placement(
        request_id=req.id, la_code=req.la_code, start_date=start,
        end_date=date.today() - timedelta(days=ended_days_ago) if ended_days_ago is not None else None,
        end_reason=end_reason if ended_days_ago is not None else None, placement_type="U6", provider_code="PR4",
        distance_miles=Decimal("3.0"), inside_la=True, over_20_miles=False,
    )
    db.session.add(placement)
    db.session.commit()
    return placement


def new_request(officer, *, reference: str = "COV-NEW-1", first_name: str = "Amara", last_name: str = "Okafor",
                date_of_birth: date | None = None) -> PlacementRequest:
    from portal.db import db

    req = create_request(officer, first_name=first_name, last_name=last_name)
    req.child_reference = reference
    if date_of_birth:
        req.date_of_birth = date_of_birth
    db.session.commit()
    return req


def page(client, req) -> Page:
    response = client.get(f"/requests/{req.id}/earlier-placements")
    assert response.status_code == 200
    return Page(response.get_data(as_text=True))


def cards(p: Page) -> list[dict[str, str]]:
    return [Page(str(card)).summary() for card in p.soup.select('[data-testid="earlier-placement"]')]


def answer(client, req, placement_id: str, action: str):
    return client.post(f"/requests/{req.id}/earlier-placements", data={"placement_id": placement_id,
                                                                         "action": action})


def test_the_same_child_reference_is_found_with_dates_and_end_reason(client, auth, db_session):
    officer = create_user("officer")
    earlier = earlier_placement(officer, first_name="Someone", last_name="Else", reference="COV-2019-00042",
                                end_reason="E4A")
    req = new_request(officer, reference="cov-2019-00042 ", first_name="Amara")
    auth.sign_in(officer)
    [card] = cards(page(client, req))
    assert card["Found by"] == "The same child reference"
    assert card["Started"] == f"{earlier.start_date.day} {earlier.start_date:%B %Y}"
    assert card["Ended"] == f"{earlier.end_date.day} {earlier.end_date:%B %Y}"
    assert card["Why it ended"].startswith("Returned home to live with parent(s)")
    assert card["Your answer"] == "Not answered yet"
    # The task list (where a request starts) and the request page say so, and link here.
    for path in (f"/requests/{req.id}/edit", f"/requests/{req.id}"):
        shown = Page(client.get(path).get_data(as_text=True))
        notice = shown.testid("earlier-care-notice")
        assert "This child may have been in care before: 1 earlier placement" in notice
        assert f"/requests/{req.id}/earlier-placements" in shown.hrefs("earlier-placements")


def test_a_similar_name_with_the_same_date_of_birth_is_found(client, auth, db_session):
    officer = create_user("officer")
    born = date(2012, 5, 17)
    similar = earlier_placement(officer, first_name="Amarah", last_name="Okafor", date_of_birth=born)
    earlier_placement(officer, first_name="Zoe", last_name="Brown", date_of_birth=born)  # not similar
    earlier_placement(officer, first_name="Amara", last_name="Okafor", date_of_birth=date(2012, 5, 18))
    req = new_request(officer, first_name="Amara", last_name="Okafor", date_of_birth=born)
    auth.sign_in(officer)
    p = page(client, req)
    [card] = cards(p)
    assert card["Found by"].startswith("The same date of birth and a similar name (name ")
    assert db_session.get(PlacementRequest, similar.request_id).child_reference in card["Earlier request"]


def test_a_new_request_shows_the_child_s_earlier_placements_once_started(client, auth, db_session):
    officer = create_user("officer")
    earlier_placement(officer, first_name="Jay", last_name="Singh", date_of_birth=date(date.today().year - 9, 4, 3))
    auth.sign_in(officer)
    response = client.post("/requests/new", data=child_section())  # Jay Singh, the same date of birth
    assert response.status_code == 302
    task_list = Page(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "This child may have been in care before" in task_list.testid("earlier-care-notice")


def test_another_la_s_child_is_never_shown_or_linked(client, auth, db_session):
    coventry = create_user("officer")
    birmingham = create_user("officer", la_code=BIRMINGHAM)
    born = date(2011, 2, 3)
    theirs = earlier_placement(birmingham, first_name="Amara", last_name="Okafor", reference="SHARED-1",
                               date_of_birth=born)
    req = new_request(coventry, reference="SHARED-1", first_name="Amara", last_name="Okafor", date_of_birth=born)
    auth.sign_in(coventry)
    p = page(client, req)
    assert cards(p) == [] and p.testid("no-earlier-placements")
    assert "earlier-care-notice" not in client.get(f"/requests/{req.id}").get_data(as_text=True)
    response = answer(client, req, theirs.id, "confirm")
    assert response.status_code == 404
    assert db_session.scalar(select(func.count()).select_from(ReEntryLink)) == 0
    # The refusal is kept on the other child's trail.
    refused = db_session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
    assert any(e.record_id == theirs.request_id for e in refused)


def test_confirm_makes_a_re_entry_and_undo_takes_it_back(client, auth, db_session):
    officer = create_user("officer")
    earlier = earlier_placement(officer, reference="COV-7", end_reason="E13")
    req = new_request(officer, reference="COV-7")
    auth.sign_in(officer)
    response = answer(client, req, earlier.id, "confirm")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#earlier-{earlier.id}")
    link = db_session.scalar(select(ReEntryLink))
    assert (link.status, link.found_by, link.request_id, link.decided_by_id) == (
        "confirmed", "child_reference", req.id, officer.id)
    p = page(client, req)
    assert "This request is a re-entry to care" in p.testid("re-entry")
    assert cards(p)[0]["Your answer"] == "The same child"
    detail = Page(client.get(f"/requests/{req.id}").get_data(as_text=True))
    assert "Re-entry to care: this child was in care before and left care on" in detail.testid("re-entry")
    answers = Page(client.get(f"/requests/{req.id}/check-answers").get_data(as_text=True))
    assert answers.summary('[data-testid="answers-family"]')["In care before"].startswith("re-entry to care")
    # Both children's records are audited.
    actions = db_session.execute(select(AuditEvent.record_id, AuditEvent.detail)
                                 .where(AuditEvent.action == "confirm_re_entry")).all()
    assert {record for record, _ in actions} == {req.id, earlier.request_id}
    assert all(f"placement:{earlier.id}" in detail for _, detail in actions)

    response = answer(client, req, earlier.id, "undo")
    assert response.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(ReEntryLink)) == 0
    assert "earlier-care-notice" in client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "undo_re_entry")) == 2


def test_dismiss_is_kept_and_the_notice_goes(client, auth, db_session):
    officer = create_user("officer")
    earlier = earlier_placement(officer, reference="COV-8")
    req = new_request(officer, reference="COV-8")
    auth.sign_in(officer)
    assert answer(client, req, earlier.id, "dismiss").status_code == 302
    assert db_session.scalar(select(ReEntryLink.status)) == "dismissed"
    detail = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert "earlier-care-notice" not in detail and 'data-testid="re-entry"' not in detail
    assert cards(page(client, req))[0]["Your answer"] == "Not the same child"


def test_the_same_child_still_in_care_is_not_a_re_entry(client, auth, db_session):
    """A change of placement (903 CARPL) or a placement not yet ended: the child never left care."""
    officer = create_user("officer")
    moved = earlier_placement(officer, reference="COV-9", end_reason="CARPL")
    current = earlier_placement(officer, reference="COV-9", start_days_ago=100, ended_days_ago=None)
    req = new_request(officer, reference="COV-9")
    auth.sign_in(officer)
    ended = f"{moved.end_date.day} {moved.end_date:%B %Y}"
    assert {c["Ended"] for c in cards(page(client, req))} == {"Not ended", ended}
    for placement in (moved, current):
        assert answer(client, req, placement.id, "confirm").status_code == 302
    p = page(client, req)
    assert p.testid("re-entry") == ""
    assert "this is not a re-entry to care" in p.testid("same-child-in-care")


def test_bad_answers_are_refused_with_a_clear_message_and_change_nothing(client, auth, db_session):
    officer = create_user("officer")
    earlier = earlier_placement(officer, reference="COV-10")
    other_child = earlier_placement(officer, reference="COV-OTHER", first_name="Kit", last_name="Marlowe")
    req = new_request(officer, reference="COV-10")
    auth.sign_in(officer)
    url = f"/requests/{req.id}/earlier-placements"
    assert client.post(url, data={"placement_id": "0" * 32, "action": "confirm"}).status_code == 404
    assert client.post(url, data={"placement_id": other_child.id, "action": "confirm"}).status_code == 404
    for data, message in [({"action": "confirm"}, "Choose an earlier placement"),
                          ({"placement_id": earlier.id}, "Choose whether this is the same child"),
                          ({"placement_id": earlier.id, "action": "maybe"}, "Not a valid choice"),
                          ({"placement_id": "x" * 40, "action": "confirm"}, "Choose an earlier placement")]:
        response = client.post(url, data=data)
        assert response.status_code == 422, data
        assert message in Page(response.get_data(as_text=True)).errors[0]
    assert answer(client, req, earlier.id, "undo").status_code == 409  # nothing to undo
    assert db_session.scalar(select(func.count()).select_from(ReEntryLink)) == 0

    assert answer(client, req, earlier.id, "confirm").status_code == 302
    for action in ("confirm", "dismiss"):  # a second answer (another tab): a clear 409, no second row
        response = answer(client, req, earlier.id, action)
        assert response.status_code == 409
        assert "You have already said this placement is the same child" in Page(
            response.get_data(as_text=True)).errors[0]
    assert db_session.scalars(select(ReEntryLink.status)).all() == ["confirmed"]


def test_only_the_la_s_officers_see_the_page(client, auth, db_session):
    officer = create_user("officer")
    earlier = earlier_placement(officer, reference="COV-11")
    req = new_request(officer, reference="COV-11")
    provider = create_provider()
    outsiders = [create_user("provider", provider=provider), create_user("commissioner"),
                 create_user("commissioner", la_code=None), create_user("officer", la_code=BIRMINGHAM)]
    for user in outsiders:
        auth.sign_in(user)
        url = f"/requests/{req.id}/earlier-placements"
        get, post = client.get(url), client.post(url, data={"placement_id": earlier.id, "action": "confirm"})
        assert get.status_code in (403, 404) and post.status_code in (403, 404), user.role
        assert "Okafor" not in get.get_data(as_text=True)
        auth.sign_out()
    assert db_session.scalar(select(func.count()).select_from(ReEntryLink)) == 0


def test_the_placement_s_name_is_compared_when_found_again_after_a_correction(client, auth, db_session):
    """A decision stays on the page even when the request no longer matches (the reference was corrected)."""
    from portal.db import db

    officer = create_user("officer")
    earlier = earlier_placement(officer, reference="COV-12", first_name="Other", last_name="Name")
    req = new_request(officer, reference="COV-12")
    auth.sign_in(officer)
    answer(client, req, earlier.id, "dismiss")
    db.session.get(PlacementRequest, req.id).child_reference = "COV-12-CORRECTED"
    db.session.commit()
    [card] = cards(page(client, req))
    assert card["Your answer"] == "Not the same child"


def test_a_double_click_saves_one_answer_and_shows_the_first_result(client, auth, db_session):
    import re

    officer = create_user("officer")
    earlier = earlier_placement(officer, reference="COV-13")
    req = new_request(officer, reference="COV-13")
    auth.sign_in(officer)
    url = f"/requests/{req.id}/earlier-placements"
    key = re.search(r'name="form_key"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)
    data = {"placement_id": earlier.id, "action": "confirm", "form_key": key}
    first = client.post(url, data=data)
    again = client.post(url, data=data)
    assert first.status_code == 302 and again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert db_session.scalar(select(func.count()).select_from(ReEntryLink)) == 1
