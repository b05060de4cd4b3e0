"""The provider's worklist (issue 17 §4): open referrals by urgency then best fit, with the scores the officer's
ranking gives; filters at their fields; paging; only the provider's own referrals; what needs the provider now;
and the per-provider index kept or rebuilt as the options change."""

import re

from portal import listing, matching
from portal.db import db
from portal.options import current_options, request_spec
from tests.factories import create_offer, create_referral, create_request, create_setting, create_vacancy
from tests.providers.helpers import SECRETS, scene


def _order(page: str) -> list[str]:
    return re.findall(r'data-referral="([0-9a-f]{32})"', page)


def _row(page: str, referral_id: str) -> str:
    return page.split(f'data-referral="{referral_id}"')[1].split("</tr>")[0]


def test_open_referrals_by_urgency_then_best_fit_with_the_regional_score(client, auth, db_session):
    s = scene(urgency="over_5_days", needed_in_days=9)
    # Equal urgency: the better fit (near, foster care preferred, no budget) is needed later, so only the fit can put it first.
    near = create_request(s.officer, urgency="within_5_days", needed_in_days=4, home_postcode="CV2 4GA")
    far = create_request(s.officer, urgency="within_5_days", needed_in_days=2, home_postcode="CV3 1AA",
                         suitability_foster="suitable", budget="700")
    urgent = create_request(s.officer, urgency="today", needed_in_days=0, home_postcode="CV3 1AA")
    refs = {name: create_referral(req, s.provider).id for name, req in
            (("near", near), ("far", far), ("urgent", urgent))}
    regional = current_options().index
    scores = {}
    for name, req in (("near", near), ("far", far)):
        found = [m for m in matching.rank(request_spec(req), regional).matches if m.option == s.vacancy.id]
        scores[name] = found[0].score
    assert scores["near"] > scores["far"], scores  # the scene must make the fits differ, or the test proves nothing
    auth.sign_in(s.staff)
    page = client.get("/provider/").get_data(as_text=True)
    assert _order(page) == [refs["urgent"], refs["near"], refs["far"], s.referral.id]
    for name in ("near", "far"):
        shown = re.findall(r'data-testid="fit-score">(-?\d+)<', _row(page, refs[name]))
        assert shown and int(shown[0]) == scores[name]


def test_each_filter_narrows_and_a_bad_value_is_a_400_at_its_field(client, auth, db_session):
    s = scene(urgency="over_5_days", needed_in_days=9, age=12)
    bsl_home = create_setting(s.provider, name="Signing household", needs_met=["bsl"])
    create_vacancy(bsl_home)
    young = create_request(s.officer, urgency="today", needed_in_days=0, age=3, needs=["bsl"])
    placed = create_request(s.officer, urgency="within_5_days", needed_in_days=2, status="placed")
    refs = {"young": create_referral(young, s.provider).id, "placed": create_referral(placed, s.provider).id,
            "main": s.referral.id}
    create_offer(s.referral, s.vacancy)
    bsl_id = bsl_home.id
    auth.sign_in(s.manager)

    def order(query):
        response = client.get(f"/provider/?{query}")
        assert response.status_code == 200, query
        return _order(response.get_data(as_text=True))

    assert order("urgency=today") == [refs["young"]]
    assert order("age_band=1_4") == [refs["young"]]
    assert order("age_band=10_15") == [refs["main"], refs["placed"]]
    assert order("need=bsl") == [refs["young"]]
    assert order(f"setting={bsl_id}") == [refs["young"]]
    assert order("status=closed") == [refs["placed"]]
    assert order("status=answered") == [refs["main"]]
    assert order("status=unanswered") == [refs["young"]]
    assert order("status=due") == [refs["young"]]
    assert set(order("status=open")) == {refs["young"], refs["main"]}
    for field, value, message in (("status", "zzz-typed", "Choose a status from the list"),
                                  ("urgency", "zzz-typed", "Choose when the child is needed"),
                                  ("age_band", "zzz-typed", "Choose an age band from the list"),
                                  ("need", "zzz-typed", "Choose a need or risk from the list"),
                                  ("setting", "zzz-typed", "Choose one of your settings")):
        response = client.get(f"/provider/?{field}={value}&urgency=today" if field != "urgency"
                              else f"/provider/?{field}={value}")
        page = response.get_data(as_text=True)
        assert response.status_code == 400, field
        assert message in page, field
        assert _order(page) == []
        assert re.search(rf'id="{field}"|name="{field}"', page), field


def test_paging_and_a_junk_page_number(client, auth, db_session, monkeypatch):
    monkeypatch.setattr(listing, "PER_PAGE", 2)
    s = scene(urgency="over_5_days", needed_in_days=9)
    for days in (1, 2):
        create_referral(create_request(s.officer, urgency="within_5_days", needed_in_days=days), s.provider)
    auth.sign_in(s.staff)
    first = _order(client.get("/provider/").get_data(as_text=True))
    second_response = client.get("/provider/?page=2")
    second = _order(second_response.get_data(as_text=True))
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
    for junk in ("0", "-1", "abc", "99999999999999999999", "1e3", "3"):
        response = client.get(f"/provider/?page={junk}")
        assert response.status_code in (200, 400), junk
        assert len(_order(response.get_data(as_text=True))) in (1, 2), junk


def test_a_provider_sees_only_its_own_referrals_and_no_names(client, auth, db_session):
    s = scene()
    theirs = create_referral(create_request(s.officer, first_name="Hidden", last_name="Elsewhere"), s.other)
    ids = (s.referral.id, theirs.id)
    auth.sign_in(s.staff)
    page = client.get("/provider/").get_data(as_text=True)
    assert _order(page) == [ids[0]]
    for secret in (*SECRETS, "Hidden", "Elsewhere", "Rival household"):
        assert secret not in page, secret
    auth.sign_out()
    auth.sign_in(s.other_user)
    page = client.get("/provider/").get_data(as_text=True)
    assert _order(page) == [ids[1]] and "Hidden" not in page and "Willow household" not in page


def test_needs_you_now_counts_only_the_providers_own(client, auth, db_session):
    from portal.providers import queries
    s = scene(urgency="today", needed_in_days=0)
    due_elsewhere = create_request(s.officer, urgency="today", needed_in_days=0)
    create_referral(due_elsewhere, s.other)
    # An offer waiting for the officer at each provider.
    offered = create_request(s.officer, urgency="within_5_days", needed_in_days=3)
    create_offer(create_referral(offered, s.provider), s.vacancy)
    other_offered = create_request(s.officer, urgency="within_5_days", needed_in_days=3)
    create_offer(create_referral(other_offered, s.other), s.other_vacancy)
    mine = queries.provider_needs_you_now(s.staff, stale_vacancies=0)
    assert mine.due_today == 1 and mine.offers_awaiting == 1 and mine.agreements_count == 0
    theirs = queries.provider_needs_you_now(s.other_user, stale_vacancies=0)
    assert theirs.due_today == 1 and theirs.offers_awaiting == 1
    # Answering the due referral takes it off the list.
    create_offer(s.referral, s.vacancy)
    assert queries.provider_needs_you_now(s.staff, stale_vacancies=0).due_today == 0
    assert queries.provider_needs_you_now(s.staff, stale_vacancies=0).offers_awaiting == 2
    db.session.rollback()


def test_the_providers_index_is_kept_for_others_changes_and_rebuilt_for_its_own(db_session):
    s = scene()
    before = current_options().provider_options(s.provider.id)
    before.memo["marker"] = True
    create_vacancy(s.other_setting, fee_gbp_week="865")  # the median of 850 and 880: unchanged
    after_other = current_options().provider_options(s.provider.id)
    assert after_other is before and after_other.memo.get("marker")
    new = create_vacancy(s.setting)
    after_own = current_options().provider_options(s.provider.id)
    assert after_own is not before and new.id in after_own.option_ids and "marker" not in after_own.memo


def _counts(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-testid="(now-[a-z]+)" data-count="(\d+)"', page)}


def test_needs_you_now_on_the_providers_page_has_each_kind_of_work(client, auth, db_session, app):
    from datetime import timedelta

    from portal.db import utcnow
    s = scene(urgency="today", needed_in_days=0)
    officer_id = s.officer.id
    accepted = create_request(s.officer, urgency="within_5_days", needed_in_days=3)
    offer = create_offer(create_referral(accepted, s.provider), create_vacancy(s.setting))
    waiting = create_request(s.officer, urgency="within_5_days", needed_in_days=3)
    create_offer(create_referral(waiting, s.provider), create_vacancy(s.setting))
    # Another provider's work never counts here.
    create_referral(create_request(s.officer, urgency="today", needed_in_days=0), s.other)
    old = create_vacancy(s.setting)
    old.confirmed_at = utcnow() - timedelta(days=app.config["VACANCY_STALE_DAYS"] + 1)
    db.session.commit()
    other_old = create_vacancy(s.other_setting)
    other_old.confirmed_at = old.confirmed_at
    db.session.commit()
    ids = (accepted.id, offer.id)
    auth.sign_in(db.session.get(type(s.officer), officer_id))
    assert client.post(f"/requests/{ids[0]}/offers/{ids[1]}/accept").status_code == 302
    auth.sign_out()
    auth.sign_in(s.staff)
    counts = _counts(client.get("/provider/").get_data(as_text=True))
    assert counts == {"now-due": 1, "now-offers": 1, "now-agreements": 1, "now-stale": 1}, counts
    auth.sign_out()
    auth.sign_in(s.other_user)
    counts = _counts(client.get("/provider/").get_data(as_text=True))
    assert counts == {"now-due": 1, "now-offers": 0, "now-agreements": 0, "now-stale": 1}, counts
