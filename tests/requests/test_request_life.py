"""A request's whole life: check your answers before submitting; changes of circumstances after it (ranked again,
kept, told to providers with a live referral, offers that no longer fit flagged); family added later; withdrawal
with a reason; referrals to more providers; a brother's or sister's request started from it. Bad input, closed
requests, races and privacy boundaries on every new page."""

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import geo
from portal.models import (
    AuditEvent, ConnectedPerson, MatchRun, Offer, PlacementRequest, Referral, ReferralDecline, RequestChange,
)
from tests.conftest import signed_in_clients
from tests.factories import (
    BIRMINGHAM, create_connected_person, create_offer, create_provider, create_referral, create_request,
    create_setting, create_user, create_vacancy,
)
from tests.pages import Page, get_page, post_page
from tests.requests.helpers import child_section, create_request_via_web, date_fields

NEEDS_BSL = {"communication": ["bsl"], "cultural_needs": "not_known", "living_companions": "no_preference",
             "pets": "unknown", "action": "continue"}
PERSON = {"name": "Grace Okafor", "relationship_to_child": "Aunt", "postcode": "CV2 4GA", "stage": "identified",
          "capacity": "1", "source": "family_group_conference"}


def _matches(page: Page) -> str:
    return " ".join(" ".join(row) for row in page.table_rows("matches-table"))


def _count(db_session, model, *where) -> int:
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


# ------------------------------------------------------------------------------------------- check your answers

def test_check_your_answers_shows_every_section_and_each_change_link_comes_back(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    request_id = create_request_via_web(client, submit=False, budget={"budget_gbp_week": "900", "notes": "Likes art"})
    task_list = get_page(client, f"/requests/{request_id}/edit")
    assert task_list.links["Check your answers and submit"] == f"/requests/{request_id}/check-answers"
    assert not task_list.form_actions("/submit$")  # the submit button lives on check your answers

    page = get_page(client, f"/requests/{request_id}/check-answers")
    assert page.h1 == "Check your answers before you submit"
    assert page.summary("[data-testid=answers-child]")["First name"] == "Jay"
    assert page.summary("[data-testid=answers-location]")["Home postcode"] == "CV1 2AB"
    assert page.summary("[data-testid=answers-suitability]")["Foster care"] == "Preferred"
    assert page.summary("[data-testid=answers-budget]")["Weekly budget in pounds (optional)"] == "£900"
    assert page.summary("[data-testid=answers-family]")["Connected persons"].startswith("None recorded")
    for key in ("child", "location", "timing", "suitability", "needs", "risks", "budget"):
        assert page.hrefs(rf"^/requests/{request_id}/edit/{key}\?next=check-answers$"), key
    assert page.testid("incomplete") == ""

    # "Change" opens the section with a way back, and saving it comes back to check your answers.
    section = get_page(client, f"/requests/{request_id}/edit/budget?next=check-answers")
    back = section.find("a", class_="govuk-back-link")
    assert (back.get_text(), back["href"]) == ("Back to check your answers", f"/requests/{request_id}/check-answers")
    response = client.post(f"/requests/{request_id}/edit/budget?next=check-answers",
                           data={"budget_gbp_week": "950", "notes": "Likes art", "action": "continue"})
    assert response.status_code == 302 and response.headers["Location"] == f"/requests/{request_id}/check-answers"
    assert get_page(client, response.headers["Location"]).summary(
        "[data-testid=answers-budget]")["Weekly budget in pounds (optional)"] == "£950"

    response = client.post(f"/requests/{request_id}/submit")
    assert response.status_code == 302 and response.headers["Location"] == f"/requests/{request_id}"
    assert db_session.get(PlacementRequest, request_id).status == "searching"


def test_incomplete_sections_block_submission_with_an_error_summary_linking_to_each(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    response = client.post("/requests/new", data=child_section())
    request_id = response.headers["Location"].split("/")[2]
    page = get_page(client, f"/requests/{request_id}/check-answers")
    assert "You need to complete Home, school and family, When the placement is needed, Type of placement" \
        in page.testid("incomplete")

    page = post_page(client, f"/requests/{request_id}/submit", status=422)
    assert page.title.startswith("Error: ")
    assert page.errors == [f"Complete ‘{title}’ before you submit the request" for title in
                           ("Home, school and family", "When the placement is needed", "Type of placement")]
    links = [a["href"] for a in page.select(".govuk-error-summary__list a")]
    assert links == [f"/requests/{request_id}/edit/{key}?next=check-answers" for key in ("location", "timing",
                                                                                             "suitability")]
    assert db_session.get(PlacementRequest, request_id).status == "draft"
    # Complete them and submit; submitting twice is refused and changes nothing.
    for key, data in {"location": {"home_postcode": "CV1 2AB"},
                      "timing": {"urgency": "today", **date_fields("needed_by", date.today())},
                      "suitability": {"suitability_foster": "preferred", "suitability_residential": "suitable",
                                      "suitability_supported": "unsuitable"}}.items():
        assert client.post(f"/requests/{request_id}/edit/{key}", data={**data, "action": "continue"}).status_code == 302
    assert client.post(f"/requests/{request_id}/submit").status_code == 302
    again = post_page(client, f"/requests/{request_id}/submit", status=409)
    assert "already been submitted" in again.errors[0]


# ------------------------------------------------------------------------------------ a change after submission

def test_a_change_after_submission_ranks_again_is_kept_tells_providers_and_flags_an_offer(client, auth, db_session):
    officer = create_user("officer", name="Olivia Officer")
    req = create_request(officer, first_name="Zephyrine", last_name="Quillfeather")
    signing = create_provider(name="Signing Fostering")
    willow = create_vacancy(create_setting(signing, postcode="CV2 4GA", name="Willow household", needs_met=["bsl"]))
    plain = create_provider(name="Plain Fostering")
    oak = create_vacancy(create_setting(plain, postcode="CV1 5FB", name="Oak household"))
    referral = create_referral(req, plain)
    offer = create_offer(referral, oak)
    auth.sign_in(officer)
    before = get_page(client, f"/requests/{req.id}")
    assert "Willow household" in _matches(before) and "Oak household" in _matches(before)
    assert before.testid("offer-no-longer-fits") == ""

    # Saving a section without changing it is not a change.
    response = client.post(f"/requests/{req.id}/edit/risks", data={"action": "continue"})
    assert response.status_code == 302
    assert _count(db_session, RequestChange) == 0

    response = client.post(f"/requests/{req.id}/edit/needs", data=NEEDS_BSL)
    assert response.status_code == 302 and response.headers["Location"] == f"/requests/{req.id}"
    page = get_page(client, response.headers["Location"])
    assert "Needs: changed. The matches have been ranked again. Providers with a live referral are told what " \
           "changed." in " ".join(page.banners)
    assert "Willow household" in _matches(page) and "Oak household" not in _matches(page)
    assert page.testid("offer-no-longer-fits") == \
        "Check This offer no longer meets the child's needs: Needs not met: British Sign Language (BSL)"
    assert "Needs changed by Olivia Officer" in page.testid("changes")

    change = db_session.scalar(select(RequestChange))
    assert (change.request_id, change.section, change.changed_by_id) == (req.id, "needs", officer.id)
    assert change.notice["details"] == [["Needs", "British Sign Language (BSL)"]]
    assert db_session.get(Offer, offer.id).status == "made"  # flagged, never silently dropped
    run = db_session.scalar(select(MatchRun).where(MatchRun.purpose == "change"))
    assert [m["option"] for m in run.result["matches"]] == [willow.id]
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "change")).detail == \
        f"section:needs change:{change.id}"
    auth.sign_out()

    # The provider holding the live referral sees what changed, anonymised, and that its offer no longer fits.
    auth.sign_in(create_user("provider", provider=plain))
    page = get_page(client, f"/provider/referrals/{referral.id}")
    notice = page.testid("change-notice")
    assert f"This referral changed on {date.today().day} {date.today():%B %Y}: Needs updated" in notice
    assert "British Sign Language (BSL)" in notice
    assert "This offer no longer meets the child's needs: Needs not met: British Sign Language (BSL)" in \
        page.testid("offer-no-longer-fits")
    assert "Zephyrine" not in page.html and "Quillfeather" not in page.html


def test_the_change_notice_never_names_the_child_or_gives_their_date_of_birth(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer, first_name="Zephyrine", last_name="Quillfeather", age=12)
    provider = create_provider()
    create_vacancy(create_setting(provider))
    referral = create_referral(req, provider)
    auth.sign_in(officer)
    new_birthday = date(req.date_of_birth.year - 2, 6, 15)
    data = child_section(child_reference="COV-SECRET-9", first_name="Philippina", last_name="Larkspurrow",
                         sex="female", **date_fields("date_of_birth", new_birthday), not_a_duplicate="y")
    assert client.post(f"/requests/{req.id}/edit/child", data={**data, "action": "continue"}).status_code == 302
    # A corrected name alone is no news for providers: they never see it.
    name_only = db_session.scalars(select(RequestChange)).all()
    assert [c.notice["details"] for c in name_only] == [[["Age when needed", str(req.age_on(req.needed_by) + 2)]]]
    auth.sign_out()

    auth.sign_in(create_user("provider", provider=provider))
    page = get_page(client, f"/provider/referrals/{referral.id}")
    assert "About the child updated" in page.testid("change-notice")
    assert f"Age when needed {req.age_on(req.needed_by) + 2}" in page.testid("change-notice")
    for secret in ("Zephyrine", "Quillfeather", "Philippina", "Larkspurrow", "COV-SECRET-9", str(new_birthday),
                   f"{new_birthday.day} June {new_birthday.year}"):
        assert secret not in page.html, secret


def test_only_live_referrals_get_the_notice(client, auth, db_session):
    from portal.providers.queries import find_change_notice

    officer = create_user("officer")
    req = create_request(officer)
    live, declined = create_provider(), create_provider()
    for provider in (live, declined):
        create_vacancy(create_setting(provider))
    live_referral, declined_referral = create_referral(req, live), create_referral(req, declined)
    declined_referral.status = "declined"
    db_session.add(ReferralDecline(referral_id=declined_referral.id, provider_id=declined.id, reason="no_vacancy"))
    db_session.commit()
    auth.sign_in(officer)
    assert client.post(f"/requests/{req.id}/edit/needs", data=NEEDS_BSL).status_code == 302
    live_user, declined_user = create_user("provider", provider=live), create_user("provider", provider=declined)
    assert find_change_notice(live_user, db_session.get(Referral, live_referral.id)).sections == ("Needs",)
    assert find_change_notice(declined_user, db_session.get(Referral, declined_referral.id)) is None
    assert find_change_notice(declined_user, db_session.get(Referral, live_referral.id)) is None  # not theirs


@pytest.mark.parametrize("status", ["withdrawn", "placed", "closed"])
def test_a_closed_request_cannot_be_changed(client, auth, db_session, status):
    officer = create_user("officer")
    req = create_request(officer, status=status)
    person = create_connected_person(req)
    auth.sign_in(officer)
    response = client.post(f"/requests/{req.id}/edit/needs", data=NEEDS_BSL)
    assert response.status_code == 409
    assert f"This request is {status}, so it can no longer be changed" in Page(response.get_data(as_text=True)).errors
    response = client.get(f"/requests/{req.id}/edit/needs")  # no form to fill in: back to the request, told why
    assert response.status_code == 302 and response.headers["Location"] == f"/requests/{req.id}"
    assert f"This request is {status}, so it can no longer be changed" in get_page(client, f"/requests/{req.id}").banners[0]
    assert client.post(f"/requests/{req.id}/connected-persons", data=PERSON).status_code == 409
    assert client.post(f"/requests/{req.id}/connected-persons/{person.id}", data=PERSON).status_code == 409
    assert client.post(f"/requests/{req.id}/withdraw", data={"reason": "plan_changed"}).status_code == 409
    assert client.post(f"/requests/{req.id}/new-sibling", data=child_section(first_name="Kit")).status_code == 409
    assert not get_page(client, f"/requests/{req.id}/check-answers").hrefs(r"/edit/")  # no Change links
    db_session.expire_all()
    stored = db_session.get(PlacementRequest, req.id)
    assert (stored.status, stored.needs, db_session.get(ConnectedPerson, person.id).stage) == (status, [], "approved")
    assert _count(db_session, PlacementRequest) == 1 and _count(db_session, RequestChange) == 0


def test_a_change_to_a_request_withdrawn_since_the_page_was_read_is_refused(app, db_session):
    """The check is made on the database row inside the unit of work, not on the copy the view loaded: a request
    withdrawn (or placed) in another tab a moment ago is not changed."""
    from sqlalchemy import update

    from portal.errors import Conflict
    from portal.requests import services
    from portal.unit_of_work import unit_of_work

    officer = create_user("officer")
    req = create_request(officer)
    loaded = db_session.get(PlacementRequest, req.id)
    assert loaded.status == "searching"
    db_session.execute(update(PlacementRequest).where(PlacementRequest.id == req.id).values(status="withdrawn")
                       .execution_options(synchronize_session=False))
    db_session.commit()
    assert loaded.status == "searching"  # the stale copy a view would hold
    with app.test_request_context():
        with unit_of_work() as work:
            services.save_section(officer, loaded, "budget", {"budget_gbp_week": 100, "notes": ""}, complete=True)
        assert isinstance(work.error, Conflict) and work.message == \
            "This request is withdrawn, so it can no longer be changed"
    db_session.expire_all()
    assert db_session.get(PlacementRequest, req.id).budget_gbp_week is None
    assert _count(db_session, RequestChange) == 0


# ---------------------------------------------------------------------------- family after submission

def test_connected_person_added_and_approved_after_submission_is_ranked_first(client, auth, db_session):
    from portal.providers.queries import find_change_notice

    officer = create_user("officer")
    req = create_request(officer)
    provider = create_provider()
    create_vacancy(create_setting(provider, postcode="CV1 5FB", name="Near home", ofsted_rating="outstanding"))
    referral = create_referral(req, provider)
    auth.sign_in(officer)
    assert client.post(f"/requests/{req.id}/connected-persons", data=PERSON).status_code == 302
    assert "Grace Okafor" not in _matches(get_page(client, f"/requests/{req.id}"))  # identified: not yet a carer
    person = db_session.scalar(select(ConnectedPerson))

    page = get_page(client, f"/requests/{req.id}/connected-persons/{person.id}")
    assert page.value("name") == "Grace Okafor" and page.find("input", {"name": "stage", "checked": True})["value"] \
        == "identified"
    response = client.post(f"/requests/{req.id}/connected-persons/{person.id}", data={**PERSON, "stage": "approved"})
    assert response.status_code == 302
    rows = get_page(client, f"/requests/{req.id}").table_rows("matches-table")
    assert "Grace Okafor" in " ".join(rows[0])  # family first (s22C), ahead of an outstanding home
    assert db_session.get(ConnectedPerson, person.id).stage == "approved"
    changes = db_session.scalars(select(RequestChange)).all()
    assert [c.section for c in changes] == ["connected_persons", "connected_persons"]
    assert all(c.notice is None for c in changes)  # the LA's family work is not the provider's to read
    assert _count(db_session, MatchRun, MatchRun.purpose == "change") == 2
    assert find_change_notice(create_user("provider", provider=provider), db_session.get(Referral, referral.id)) is None


def test_connected_person_edit_refuses_bad_input_and_another_childs_person(client, auth, db_session):
    officer = create_user("officer")
    req, other = create_request(officer), create_request(officer, first_name="Other")
    person, theirs = create_connected_person(req), create_connected_person(other, name="Ruth Other")
    auth.sign_in(officer)
    for changes, message in [({"postcode": "nope"}, "Enter a real postcode"), ({"capacity": "0"}, "from 1 to 6"),
                             ({"stage": "maybe"}, "Not a valid choice"), ({"name": ""}, "Enter the person's full name")]:
        page = post_page(client, f"/requests/{req.id}/connected-persons/{person.id}",
                         {**PERSON, "name": "Grace Changed", **changes}, status=422)
        assert any(message in error for error in page.errors), page.errors
        assert page.value("relationship_to_child") == "Aunt"
        if "name" not in changes:
            assert page.value("name") == "Grace Changed"  # what was typed is kept
    assert db_session.get(ConnectedPerson, person.id).name == "Grace Okafor"
    assert client.get(f"/requests/{req.id}/connected-persons/{theirs.id}").status_code == 404
    assert client.post(f"/requests/{req.id}/connected-persons/{theirs.id}", data=PERSON).status_code == 404
    assert db_session.get(ConnectedPerson, theirs.id).name == "Ruth Other"


def test_linking_a_sibling_after_submission_is_a_change_providers_hear_of(client, auth, db_session):
    from portal.providers.queries import find_change_notice

    officer = create_user("officer")
    older = create_request(officer, first_name="Older", age=12)
    younger = create_request(officer, first_name="Younger", age=9, sex="male")
    provider = create_provider()
    create_vacancy(create_setting(provider, registered_places=2), places=2)
    referral = create_referral(older, provider)
    auth.sign_in(officer)
    response = client.post(f"/requests/{older.id}/siblings", data={"child_reference": younger.child_reference,
                                                                   "together": "y"})
    assert response.status_code == 302
    notice = find_change_notice(create_user("provider", provider=provider), db_session.get(Referral, referral.id))
    assert notice.sections == ("Brothers and sisters",)
    # The referral is now for both children: each one's row names them anonymised.
    assert notice.details == (("Brothers and sisters (Male, age 9)", "To be placed together with 1 brother or sister"),
                              ("Brothers and sisters (Female, age 12)", "To be placed together with 1 brother or sister"))
    assert _count(db_session, MatchRun, MatchRun.purpose == "change") == 1
    assert client.post(f"/requests/{older.id}/siblings", data={"action": "unlink"}).status_code == 302
    sections = [c.section for c in db_session.scalars(select(RequestChange).where(RequestChange.request_id == older.id))]
    assert sections == ["siblings", "siblings"]


# ----------------------------------------------------------------------------------------------- withdrawal

def test_withdrawing_closes_live_referrals_and_offers_and_providers_see_only_the_category(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer, first_name="Zephyrine")
    offering, waiting, declining = (create_provider(name=n) for n in ("Offering Care", "Waiting Care", "No Room"))
    vacancy = create_vacancy(create_setting(offering))
    offered = create_referral(req, offering)
    offer = create_offer(offered, vacancy)
    sent = create_referral(req, waiting)
    refused = create_referral(req, declining)
    refused.status = "declined"
    db_session.add(ReferralDecline(referral_id=refused.id, provider_id=declining.id, reason="no_vacancy"))
    db_session.commit()
    auth.sign_in(officer)
    assert get_page(client, f"/requests/{req.id}").links["Withdraw this request"] == f"/requests/{req.id}/withdraw"
    get_page(client, f"/requests/{req.id}/withdraw")

    page = post_page(client, f"/requests/{req.id}/withdraw", {"reason_other": "Typed first"}, status=422)
    assert page.errors == ["Select why the request is being withdrawn"]
    assert page.value("reason_other") == "Typed first"
    page = post_page(client, f"/requests/{req.id}/withdraw", {"reason": "other", "reason_other": "  "}, status=422)
    assert page.errors == ["Enter why the request is being withdrawn"]
    assert page.find("input", {"name": "reason", "value": "other"}).has_attr("checked")
    page = post_page(client, f"/requests/{req.id}/withdraw", {"reason": "other", "reason_other": "x" * 501},
                     status=422)
    assert page.errors == ["The reason must be 500 characters or fewer"] and page.value("reason_other") == "x" * 501
    page = post_page(client, f"/requests/{req.id}/withdraw", {"reason": "sometime"}, status=422)
    assert page.errors == ["Not a valid choice."]
    assert db_session.get(PlacementRequest, req.id).status == "searching"

    words = "Moving in with her grandmother Philippa in Leeds"
    response = client.post(f"/requests/{req.id}/withdraw", data={"reason": "other", "reason_other": words})
    assert response.status_code == 302
    page = get_page(client, f"/requests/{req.id}")
    assert "Request withdrawn. 2 providers were told." in page.banners[0]
    assert page.testid("withdrawn").startswith(f"Withdrawn on {date.today().day} ")
    assert words in page.testid("withdrawn")
    db_session.expire_all()
    stored = db_session.get(PlacementRequest, req.id)
    assert (stored.status, stored.withdrawn_reason, stored.withdrawn_reason_other, stored.withdrawn_by_id) == \
        ("withdrawn", "other", words, officer.id)
    outcome = "The local authority withdrew this referral: another reason"
    assert (db_session.get(Offer, offer.id).status, db_session.get(Offer, offer.id).decision_reason) == \
        ("not_chosen", outcome)
    assert {r.id: (r.status, r.outcome_reason) for r in db_session.scalars(select(Referral))} == {
        offered.id: ("closed", outcome), sent.id: ("closed", outcome), refused.id: ("declined", None)}
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "withdraw"))
    assert event.detail == "reason:other referrals_closed:2 offers_closed:1" and "Philippa" not in event.detail

    # Once only: the second try is a conflict that changes nothing.
    again = post_page(client, f"/requests/{req.id}/withdraw", {"reason": "plan_changed"}, status=409)
    assert again.errors == ["This request is withdrawn, so it can no longer be changed"]
    assert db_session.get(PlacementRequest, req.id).withdrawn_reason == "other"
    auth.sign_out()

    auth.sign_in(create_user("provider", provider=offering))
    inbox = get_page(client, "/provider/")
    assert "Withdrawn by the local authority" in " ".join(" ".join(r) for r in inbox.table_rows("referrals-table"))
    page = get_page(client, f"/provider/referrals/{offered.id}")
    assert page.testid("outcome") == outcome
    assert "Philippa" not in page.html and "Leeds" not in page.html and "Zephyrine" not in page.html
    assert page.testid("change-notice") == ""


def test_two_withdrawals_at_once_one_wins_the_other_gets_409(app, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    provider = create_provider()
    create_offer(create_referral(req, provider), create_vacancy(create_setting(provider)))
    clients = signed_in_clients(app, officer, 2)
    barrier = threading.Barrier(2)
    statuses = [0, 0]

    def race(i: int, reason: str) -> None:
        barrier.wait()
        statuses[i] = clients[i].post(f"/requests/{req.id}/withdraw", data={"reason": reason}).status_code

    threads = [threading.Thread(target=race, args=(0, "plan_changed")),
               threading.Thread(target=race, args=(1, "returning_home"))]
    [t.start() for t in threads]
    [t.join(timeout=60) for t in threads]
    assert sorted(statuses) == [302, 409], statuses
    db_session.expire_all()
    assert _count(db_session, AuditEvent, AuditEvent.action == "withdraw") == 1
    assert db_session.get(PlacementRequest, req.id).status == "withdrawn"
    assert _count(db_session, Offer, Offer.status == "not_chosen") == 1


def test_a_child_to_be_placed_with_siblings_is_taken_out_of_the_group_before_withdrawing(client, auth, db_session):
    officer = create_user("officer")
    older, younger = create_request(officer, first_name="Older"), create_request(officer, first_name="Younger")
    auth.sign_in(officer)
    client.post(f"/requests/{older.id}/siblings", data={"child_reference": younger.child_reference, "together": "y"})
    page = post_page(client, f"/requests/{older.id}/withdraw", {"reason": "plan_changed"}, status=409)
    assert "remove this child from the sibling group first" in page.errors[0]
    assert db_session.get(PlacementRequest, older.id).status == "searching"


# ------------------------------------------------------------------------------------- further referrals

def test_further_referrals_reach_only_new_providers_that_fit(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer, needs=["therapeutic_support"])
    first = create_provider(name="First Fostering")
    create_vacancy(create_setting(first, needs_met=["therapeutic_support"]))
    auth.sign_in(officer)
    assert client.post(f"/requests/{req.id}/referrals", data={"send_to": "all"}).status_code == 302

    later = create_provider(name="Later Fostering")
    create_vacancy(create_setting(later, postcode="CV2 4GA", needs_met=["therapeutic_support"]))
    cannot = create_provider(name="Cannot Care")
    create_vacancy(create_setting(cannot, postcode="CV1 5FB", needs_met=[]))
    page = get_page(client, f"/requests/{req.id}")
    rows = {row[1].split(" · ")[0]: row for row in page.table_rows("matches-table")}
    first_row = next(row for name, row in rows.items() if "First Fostering" in name)
    later_row = next(row for name, row in rows.items() if "Later Fostering" in name)
    assert "Referral sent" in first_row[-1] and "Send to Later Fostering" in later_row[-1]
    assert not any("Cannot Care" in name for name in rows)

    response = client.post(f"/requests/{req.id}/referrals", data={"send_to": "all"})
    assert response.status_code == 302
    assert "Referral sent to 1 provider." in get_page(client, f"/requests/{req.id}").banners[0]
    assert sorted(r.provider_id for r in db_session.scalars(select(Referral))) == sorted([first.id, later.id])

    # Again (a stale page, a double click): nothing twice, and the officer is told so.
    response = client.post(f"/requests/{req.id}/referrals", data={"providers": [first.id, later.id]})
    assert response.status_code == 302
    assert "nothing new was sent" in get_page(client, f"/requests/{req.id}").banners[0]
    assert client.post(f"/requests/{req.id}/referrals", data={"providers": [cannot.id]}).status_code in (400, 422)
    assert _count(db_session, Referral) == 2


# ------------------------------------------------------------------------------ a brother's or sister's request

def test_a_brother_or_sisters_request_copies_only_what_they_share_and_is_linked(client, auth, db_session):
    officer = create_user("officer")
    source = create_request(officer, first_name="Amara", needs=["bsl"], risks=["going_missing"], budget="900")
    family, school = geo.lookup("CV2 4GA"), geo.lookup("CV1 5FB")
    stored = db_session.get(PlacementRequest, source.id)
    stored.family_postcode, stored.family_easting, stored.family_northing = family.postcode, family.easting, family.northing
    stored.school_postcode, stored.school_easting, stored.school_northing = school.postcode, school.easting, school.northing
    stored.keep_school, stored.avoid_las, stored.notes = True, [BIRMINGHAM], "Amara loves art"
    db_session.commit()
    auth.sign_in(officer)

    page = get_page(client, f"/requests/{source.id}/new-sibling")
    assert page.h1 == "Start a request for a brother or sister"
    assert page.select("[data-testid=what-is-copied] li") and [li.get_text() for li in page.select(
        "[data-testid=what-is-copied] li")] == ["Home postcode", "Family postcode", "Local authorities to avoid",
                                                "When the placement is needed"]
    assert "to be placed together" in page.testid("what-is-copied")
    assert page.value("first_name") in (None, "") and page.value("child_reference") in (None, "")

    page = post_page(client, f"/requests/{source.id}/new-sibling", child_section(first_name="", last_name="Okafor"),
                     status=422)
    assert page.errors == ["Enter the child's first name"] and page.value("last_name") == "Okafor"
    assert _count(db_session, PlacementRequest) == 1

    response = client.post(f"/requests/{source.id}/new-sibling",
                           data=child_section(child_reference="COV-SIB", first_name="Kit", last_name="Okafor"))
    assert response.status_code == 302
    new_id = response.headers["Location"].split("/")[2]
    banner = get_page(client, response.headers["Location"]).banners[0]
    assert "Copied from Amara Okafor's request: home postcode, family postcode, local authorities to avoid, when " \
           "the placement is needed." in banner

    db_session.expire_all()
    new, old = db_session.get(PlacementRequest, new_id), db_session.get(PlacementRequest, source.id)
    assert (new.la_code, new.status, new.created_by_id) == (officer.la_code, "draft", officer.id)
    assert (new.home_postcode, new.home_easting, new.family_postcode, new.avoid_las) == \
        (old.home_postcode, old.home_easting, "CV2 4GA", [BIRMINGHAM])
    assert (new.urgency, new.needed_by) == (old.urgency, old.needed_by)
    # The new child's own details start empty (or are the ones just typed for them).
    assert (new.first_name, new.child_reference, new.sex) == ("Kit", "COV-SIB", "male")
    assert (new.needs, new.risks, new.school_postcode, new.keep_school, new.budget_gbp_week, new.notes) == \
        ([], [], None, False, None, None)
    assert sorted(new.completed_sections) == ["child", "location", "timing"]
    assert new.sibling_group_id == old.sibling_group_id is not None and old.sibling_group.together
    assert (old.needs, old.first_name) == (["bsl"], "Amara")  # the first child's request is as it was
    check = get_page(client, f"/requests/{new_id}/check-answers")
    assert "Type of placement" in check.testid("incomplete")
    assert "Amara Okafor (" in check.summary("[data-testid=answers-family]")["Brothers and sisters"]


def test_a_sibling_started_from_a_group_placed_apart_stays_apart(client, auth, db_session):
    officer = create_user("officer")
    older, younger = create_request(officer, first_name="Older"), create_request(officer, first_name="Younger")
    auth.sign_in(officer)
    client.post(f"/requests/{older.id}/siblings", data={"child_reference": younger.child_reference})  # not together
    response = client.post(f"/requests/{older.id}/new-sibling", data=child_section(first_name="Third"))
    assert response.status_code == 302
    db_session.expire_all()
    group = db_session.get(PlacementRequest, older.id).sibling_group
    assert len(group.requests) == 3 and group.together is False


def test_a_possible_duplicate_is_shown_before_a_sibling_request_is_saved(client, auth, db_session):
    officer = create_user("officer")
    source = create_request(officer)
    twin = create_request(officer, first_name="Jay", last_name="Singh", age=9, sex="male")
    auth.sign_in(officer)
    dob = twin.date_of_birth
    data = child_section(date_of_birth=[str(dob.day), str(dob.month), str(dob.year)])
    page = post_page(client, f"/requests/{source.id}/new-sibling", data, status=409)
    assert twin.child_reference in page.testid("duplicates") or twin.child_reference in page.text
    assert _count(db_session, PlacementRequest) == 2
    assert client.post(f"/requests/{source.id}/new-sibling", data={**data, "not_a_duplicate": "y"}).status_code == 302


# ------------------------------------------------------------------------------------------------- privacy

def test_another_las_officer_gets_404_on_every_new_page_and_changes_nothing(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer, first_name="Zephyrine")
    person = create_connected_person(req)
    auth.sign_in(create_user("officer", la_code=BIRMINGHAM))
    gets = ["check-answers", "withdraw", "new-sibling", f"connected-persons/{person.id}",
            "edit/needs?next=check-answers"]
    for path in gets:
        response = client.get(f"/requests/{req.id}/{path}")
        assert response.status_code == 404, path
        assert "Zephyrine" not in response.get_data(as_text=True)
    posts = {"withdraw": {"reason": "plan_changed"}, "new-sibling": child_section(), "submit": {},
             f"connected-persons/{person.id}": {**PERSON, "stage": "approved"}, "edit/needs": NEEDS_BSL}
    for path, data in posts.items():
        assert client.post(f"/requests/{req.id}/{path}", data=data).status_code == 404, path
    db_session.expire_all()
    assert db_session.get(PlacementRequest, req.id).status == "searching"
    assert db_session.get(ConnectedPerson, person.id).stage == "approved"
    assert _count(db_session, PlacementRequest) == 1 and _count(db_session, RequestChange) == 0
    refused = db_session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
    assert len(refused) >= len(gets) + len(posts)  # every refused look at the record is on its trail
