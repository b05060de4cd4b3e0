"""Brothers and sisters to be placed together, from the ranking to the placement (issue 11 §1-2), as the
Coventry officer of the issue found them: a boy of 11 who needs therapeutic support and goes missing, his sister
of 8. One list for both, one referral per provider, only settings that fit both, one offer, one acceptance that
places both, and a group the officer can split on purpose."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from portal.models import (
    AuditEvent,
    Offer,
    Placement,
    PlacementAgreement,
    PlacementRequest,
    Referral,
    SiblingGroup,
    Vacancy,
)
from tests.conftest import signed_in_clients
from tests.factories import (
    create_connected_person,
    create_offer,
    create_provider,
    create_referral,
    create_request,
    create_setting,
    create_user,
    create_vacancy,
)
from tests.pages import get_page, post_page

THERAPY, MISSING = "therapeutic_support", "going_missing"


def the_pair(client, auth, officer, *, together: bool = True, sister_status: str = "searching"):
    boy = create_request(officer, first_name="Jayden", last_name="Cole", age=11, sex="male", needs=[THERAPY],
                         risks=[MISSING])
    girl = create_request(officer, first_name="Maya", last_name="Cole", age=8, sex="female", status=sister_status)
    auth.sign_in(officer)
    data = {"child_reference": girl.child_reference}
    if together:
        data["together"] = "y"
    assert client.post(f"/requests/{boy.id}/siblings", data=data).status_code == 302
    return boy, girl


def a_market():
    """Three households: one fits both children, one fits only the girl, one fits both but has one place."""
    both = create_provider(name="Arden Fostering")
    both_home = create_setting(both, name="Willow household", needs_met=[THERAPY], risks_managed=[MISSING])
    both_vacancy = create_vacancy(both_home, places=2)
    plain = create_provider(name="Plain Fostering")
    create_vacancy(create_setting(plain, name="Birch household"), places=2)
    single = create_provider(name="Single Place Fostering")
    create_vacancy(create_setting(single, name="Rowan household", needs_met=[THERAPY], risks_managed=[MISSING]),
                   places=1)
    return both, both_vacancy, plain, single


def matches(client, req) -> list[str]:
    return [row[1] if len(row) > 1 else row[0] for row in get_page(client, f"/requests/{req.id}").table_rows(
        "matches-table")]


def test_the_sisters_page_ranks_the_group_and_only_homes_that_fit_both(client, auth, db_session):
    officer = create_user("officer")
    a_market()
    boy, girl = the_pair(client, auth, officer)
    boy_page, girl_page = get_page(client, f"/requests/{boy.id}"), get_page(client, f"/requests/{girl.id}")
    for page in (boy_page, girl_page):
        text = " ".join(" ".join(row) for row in page.table_rows("matches-table"))
        assert "Willow household" in text
        assert "Birch household" not in text and "Rowan household" not in text
        assert "matched as one unit" in page.testid("sibling-unit")
    assert boy_page.table_rows("matches-table") == girl_page.table_rows("matches-table")
    why_not = get_page(client, f"/requests/{girl.id}/not-eligible")
    birch = [row for row in why_not.table_rows("not-eligible") if any("Birch" in cell for cell in row)]
    assert birch and "Boy aged 11: Needs not met: Therapeutic support" in " ".join(birch[0])
    rowan = [row for row in why_not.table_rows("not-eligible") if any("Rowan" in cell for cell in row)]
    assert rowan and "the sibling group needs 2" in " ".join(rowan[0])


def test_one_referral_one_offer_and_one_acceptance_place_both_children(client, auth, db_session):
    officer = create_user("officer")
    both, vacancy, plain, single = a_market()
    boy, girl = the_pair(client, auth, officer)

    # Sent from the sister's page, then again from the brother's: one referral per provider for the group.
    assert client.post(f"/requests/{girl.id}/referrals", data={"send_to": "all"}).status_code == 302
    assert client.post(f"/requests/{boy.id}/referrals", data={"send_to": "all"}).status_code == 302
    referrals = db_session.scalars(select(Referral)).all()
    assert [r.provider_id for r in referrals] == [both.id]
    auth.sign_out()

    # The provider sees one referral for both children, anonymised, and only the setting that fits both.
    provider_user = create_user("provider", provider=both)
    auth.sign_in(provider_user)
    inbox = get_page(client, "/provider/")
    assert "Sibling group of 2: boy 11, girl 8" in inbox.text
    [url] = inbox.hrefs(r"^/provider/referrals/[0-9a-f]+$")
    page = get_page(client, url)
    assert page.testid("referral-children") == "Sibling group of 2: boy 11, girl 8"
    assert "one offer is for all 2 children" in page.testid("sibling-group")
    for secret in ("Jayden", "Maya", "Cole", boy.child_reference, girl.child_reference):
        assert secret not in page.html
    post_page(client, url, {"vacancy_id": vacancy.id, "fee_gbp_week": "900"}, status=302)
    auth.sign_out()

    # The officer accepts it from the sister's page: both are placed, in one setting, one record each.
    auth.sign_in(officer)
    page = get_page(client, f"/requests/{girl.id}")
    [accept_url] = page.form_actions(r"/offers/[0-9a-f]+/accept$")
    response = client.post(accept_url)
    assert response.status_code == 302
    db_session.expire_all()
    placements = db_session.scalars(select(Placement).order_by(Placement.request_id)).all()
    assert sorted(p.request_id for p in placements) == sorted([boy.id, girl.id])
    assert len({p.setting_id for p in placements}) == 1 and len({p.offer_id for p in placements}) == 1
    assert [p.siblings_placed_together for p in placements] == [2, 2]
    assert {db_session.get(PlacementRequest, r).status for r in (boy.id, girl.id)} == {"placed"}
    booked = db_session.get(Vacancy, vacancy.id)
    assert (booked.places_taken, booked.status) == (2, "filled")
    agreements = db_session.scalars(select(PlacementAgreement)).all()
    assert {a.placement_id for a in agreements} == {p.id for p in placements}  # every child's agreement
    by_placement = {p.id: p.request_id for p in placements}
    references = {boy.id: boy.child_reference, girl.id: girl.child_reference}
    for agreement in agreements:  # each names the other child placed with them
        this = by_placement[agreement.placement_id]
        assert agreement.terms["placed_with"] == [ref for rid, ref in references.items() if rid != this]
    accepted = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "accept_offer")).all()
    assert {e.record_id for e in accepted} == {boy.id, girl.id}
    # The brother's page says where his sister lives, and the market counts them as placed together.
    boy_page = get_page(client, f"/requests/{boy.id}")
    assert "Maya Cole" in boy_page.testid("sibling-list") and "Willow household" in boy_page.testid("sibling-list")


def test_an_offer_needs_a_place_for_every_child(client, auth, db_session):
    officer = create_user("officer")
    provider = create_provider(name="Arden Fostering")
    home = create_setting(provider, needs_met=[THERAPY], risks_managed=[MISSING])
    roomy = create_vacancy(home, places=2)
    boy, girl = the_pair(client, auth, officer)
    referral = create_referral(boy, provider)
    auth.sign_out()
    auth.sign_in(create_user("provider", provider=provider))
    # The vacancy loses a place after the page was ranked: the offer is refused, with why, and nothing saved.
    stored = db_session.get(Vacancy, roomy.id)
    stored.places_taken = 1
    db_session.commit()
    response = client.post(f"/provider/referrals/{referral.id}", data={"vacancy_id": roomy.id})
    assert response.status_code == 422
    assert db_session.scalar(select(func.count()).select_from(Offer)) == 0


def test_referrals_wait_until_every_sibling_to_be_placed_together_is_submitted(client, auth, db_session):
    officer = create_user("officer")
    a_market()
    boy, girl = the_pair(client, auth, officer, sister_status="draft")
    page = get_page(client, f"/requests/{boy.id}")
    assert "Maya Cole: the request is still a draft" in page.testid("sibling-draft")
    page = post_page(client, f"/requests/{boy.id}/referrals", {"send_to": "all"}, status=422)
    assert "Submit Maya Cole's request first" in page.text
    assert db_session.scalar(select(func.count()).select_from(Referral)) == 0


def test_a_connected_person_for_one_sibling_is_ranked_for_both(client, auth, db_session):
    officer = create_user("officer")
    boy, girl = the_pair(client, auth, officer)
    aunt = create_connected_person(girl, name="Grace Cole")
    db_session.get(type(aunt), aunt.id).capacity = 2
    db_session.commit()
    for req in (boy, girl):
        rows = get_page(client, f"/requests/{req.id}").table_rows("matches-table")
        assert rows and "Grace Cole" in " ".join(rows[0])


def test_splitting_the_group_needs_a_reason_and_then_each_child_is_matched_alone(client, auth, db_session):
    officer = create_user("officer")
    both, vacancy, plain, single = a_market()
    boy, girl = the_pair(client, auth, officer)
    assert client.post(f"/requests/{boy.id}/referrals", data={"send_to": "all"}).status_code == 302
    referral = db_session.scalar(select(Referral))
    offer = create_offer(referral, vacancy)

    page = post_page(client, f"/requests/{girl.id}/siblings/split", {"reason": "  "}, status=422)
    assert "Enter why the children can be placed apart" in page.text
    long = "x" * 1001
    page = post_page(client, f"/requests/{girl.id}/siblings/split", {"reason": long}, status=422)
    assert long in page.html  # what was typed is kept
    db_session.expire_all()
    assert db_session.scalar(select(SiblingGroup)).together is True

    reason = "Together-or-apart assessment: Maya needs a placement of her own"
    post_page(client, f"/requests/{girl.id}/siblings/split", {"reason": reason}, status=302)
    db_session.expire_all()
    group = db_session.scalar(select(SiblingGroup))
    assert (group.together, group.split_reason, group.split_by_id) == (False, reason, officer.id)
    # The offer and referral made for them together are closed; the provider is told, without a name.
    assert db_session.get(Offer, offer.id).status == "not_chosen"
    closed = db_session.get(Referral, referral.id)
    assert closed.status == "closed" and "live apart" in closed.outcome_reason and "Maya" not in closed.outcome_reason
    # From now on the sister is matched on her own: the plain household fits her.
    text = " ".join(" ".join(row) for row in get_page(client, f"/requests/{girl.id}").table_rows("matches-table"))
    assert "Birch household" in text
    assert reason in get_page(client, f"/requests/{boy.id}/siblings").testid("split-reason")
    # A second split is refused clearly.
    post_page(client, f"/requests/{girl.id}/siblings/split", {"reason": reason}, status=409)


def test_another_las_officer_cannot_split_a_group(client, auth, db_session):
    officer = create_user("officer")
    boy, girl = the_pair(client, auth, officer)
    auth.sign_out()
    auth.sign_in(create_user("officer", la_code="E08000025"))
    assert client.get(f"/requests/{boy.id}/siblings/split").status_code == 404
    assert client.post(f"/requests/{boy.id}/siblings/split", data={"reason": "x"}).status_code == 404
    db_session.expire_all()
    assert db_session.scalar(select(SiblingGroup)).together is True


def test_two_officers_accepting_two_offers_for_the_group_at_once_place_it_once(app, client, auth, db_session):
    """Each offer is for both children: exactly one acceptance wins, the other gets a clear 409, and both
    children end up in the winner's setting (all or nothing)."""
    officer = create_user("officer")
    boy, girl = the_pair(client, auth, officer)
    homes = []
    for name in ("Arden Fostering", "Briar Fostering"):
        provider = create_provider(name=name)
        vacancy = create_vacancy(create_setting(provider, needs_met=[THERAPY], risks_managed=[MISSING]), places=2)
        homes.append(create_offer(create_referral(boy, provider), vacancy))
    pages = [boy.id, girl.id]
    clients = signed_in_clients(app, officer, 2)
    barrier = threading.Barrier(2)
    statuses = [0, 0]

    def race(i):
        barrier.wait()
        statuses[i] = clients[i].post(f"/requests/{pages[i]}/offers/{homes[i].id}/accept").status_code

    threads = [threading.Thread(target=race, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join(timeout=60) for t in threads]
    assert sorted(statuses) == [302, 409], statuses
    db_session.expire_all()
    placements = db_session.scalars(select(Placement)).all()
    assert sorted(p.request_id for p in placements) == sorted([boy.id, girl.id])
    assert len({p.offer_id for p in placements}) == 1
    assert sum(v.places_taken for v in db_session.scalars(select(Vacancy))) == 2


def test_brothers_and_sisters_placed_apart_but_accepted_into_one_home_at_once_are_counted_together(
        app, client, auth, db_session):
    """A split group whose children each had their own offer from one home, accepted by two officers' tabs at the
    same moment: siblingsPlacedTogether is 2 on both placements (each acceptance counts committed rows)."""
    officer = create_user("officer")
    boy, girl = the_pair(client, auth, officer)
    post_page(client, f"/requests/{girl.id}/siblings/split", {"reason": "Assessed: they may live apart"}, status=302)
    provider = create_provider(name="Arden Fostering")
    home = create_setting(provider, registered_places=3, needs_met=[THERAPY], risks_managed=[MISSING])
    offers = [create_offer(create_referral(child, provider), create_vacancy(home, places=1))
              for child in (boy, girl)]
    clients = signed_in_clients(app, officer, 2)
    barrier = threading.Barrier(2)
    statuses = [0, 0]

    def accept(i):
        child = (boy, girl)[i]
        barrier.wait()
        statuses[i] = clients[i].post(f"/requests/{child.id}/offers/{offers[i].id}/accept").status_code

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join(timeout=60) for t in threads]
    assert statuses == [302, 302]
    db_session.expire_all()
    placements = db_session.scalars(select(Placement)).all()
    assert sorted(p.request_id for p in placements) == sorted([boy.id, girl.id])
    assert [p.siblings_placed_together for p in placements] == [2, 2]
