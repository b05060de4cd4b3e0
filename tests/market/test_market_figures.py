"""Every page's figures against hand-computed ones, on a small hand-built region, on both databases.

The threshold is 0 here (the `exact` fixture) so every figure shows; suppression has its own tests.
"""

from __future__ import annotations

from datetime import timedelta

from portal.models import AllocationRun, ReEntryLink
from portal.db import db
from portal.market.filters import month_key
from tests.factories import (
    BIRMINGHAM,
    COVENTRY,
    create_provider,
    create_request,
    create_setting,
    create_user,
    create_vacancy,
)
from tests.market.market_data import (
    LAST_MONTH,
    THIS_MONTH,
    TODAY,
    at,
    create_placement,
    create_referral_at,
    decline_at,
    in_sibling_group,
    offer_at,
    read_page,
    submitted,
)


def page(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return read_page(response.get_data(as_text=True))


def build_demand():
    cov, bham = create_user("officer"), create_user("officer", la_code=BIRMINGHAM)
    create_request(cov, age=12, urgency="today", needs=["therapeutic_support"], risks=["going_missing"])
    create_request(cov, age=15, urgency="within_5_days", suitability_foster="unsuitable",
                   suitability_residential="preferred", risks=["criminal_exploitation"])
    r3 = create_request(cov, age=3, urgency="over_5_days")
    r4 = create_request(cov, age=16, urgency="over_5_days", suitability_foster="suitable",
                        suitability_supported="preferred")
    create_request(bham, age=12, urgency="today", needs=["therapeutic_support"], home_postcode="B15 2TT")
    r6 = create_request(bham, age=8, urgency="within_5_days", home_postcode="B15 2TT")
    create_request(cov, status="draft")  # drafts never count
    for req in (r3, r4, r6):
        submitted(req, LAST_MONTH)


def test_demand(market, exact, db_session):
    build_demand()
    tables, figures = page(market, "/market/demand")
    assert figures["requests"] == "6"
    assert tables["by-month"][month_key(THIS_MONTH)] == ["3"]
    assert tables["by-month"][month_key(LAST_MONTH)] == ["3"]
    assert tables["by-month"]["total"] == ["6"]
    assert {k: v[0] for k, v in tables["by-urgency"].items()} == {
        "today": "2", "within_5_days": "2", "over_5_days": "2", "total": "6"}
    assert tables["by-urgency"]["today"] == ["2", "33.3%"]
    assert {k: v[0] for k, v in tables["by-type"].items()} == {
        "foster": "4", "residential": "1", "supported": "1", "other": "0", "total": "6"}
    assert {k: v[0] for k, v in tables["by-age"].items()} == {
        "under_1": "0", "1_4": "1", "5_9": "1", "10_15": "3", "16_plus": "1", "total": "6"}
    assert tables["by-la"][COVENTRY][0] == "4" and tables["by-la"][BIRMINGHAM][0] == "2"
    assert tables["needs"]["therapeutic_support"] == ["2", "33.3%"]
    assert tables["risks"]["going_missing"][0] == "1" and tables["risks"]["criminal_exploitation"][0] == "1"

    tables, figures = page(market, f"/market/demand?la={COVENTRY}")
    assert figures["requests"] == "4"
    assert tables["by-month"][month_key(THIS_MONTH)] == ["2"]
    assert "by-la" not in tables, "one LA: no breakdown by LA"
    _tables, figures = page(market, "/market/demand?need=therapeutic_support")
    assert figures["requests"] == "2"


def build_placements():
    cov, bham = create_user("officer"), create_user("officer", la_code=BIRMINGHAM)
    ifa = create_provider(kind="ifa", provider_code="PR4")
    spot_homes = create_provider(kind="childrens_home", provider_code="PR4")
    spot_homes.contract = "spot"
    charity_homes = create_provider(kind="childrens_home", provider_code="PR5")
    foster_home = create_setting(ifa, kind="foster", ofsted_rating="good")
    home = create_setting(spot_homes, kind="residential", ofsted_rating="outstanding")
    charity_home = create_setting(charity_homes, kind="residential", ofsted_rating="requires_improvement",
                                  postcode="B15 2TT")
    c1 = create_request(cov, age=12, budget="900")
    c2 = create_request(cov, age=12, budget="850")
    in_sibling_group(c1, c2)
    c3 = create_request(cov, age=14)
    b4 = create_request(bham, age=13, home_postcode="B15 2TT")
    b5 = create_request(bham, age=7, home_postcode="B15 2TT")
    t = TODAY
    create_placement(c1, start=t - timedelta(10), provider=ifa, setting=foster_home, weekly_cost="800", miles="4.0",
                     siblings_together=1)
    create_placement(c2, start=t - timedelta(20), provider=ifa, setting=foster_home, weekly_cost="900", miles="12.0")
    create_placement(c3, start=t - timedelta(40), placement_type="K2", provider=spot_homes, setting=home,
                     weekly_cost="5000", miles="25.0", inside=False, end=t - timedelta(5), end_reason="CARPL")
    create_placement(b4, start=t - timedelta(40), placement_type="K2", provider_code="PR5", provider=charity_homes,
                     setting=charity_home, weekly_cost="10500", miles="30.0", inside=False)
    went_home = create_placement(b5, start=t - timedelta(15), placement_type="U3", provider_code="PR1",
                                 weekly_cost="250", miles="2.0", end=t - timedelta(2), end_reason="E4A")
    for req, days in ((c1, 2), (c2, 5), (c3, 0), (b4, 10), (b5, 1)):
        start = {c1: 10, c2: 20, c3: 40, b4: 40, b5: 15}[req]
        submitted(req, t - timedelta(start + days))
    # The child of b5 went home, and comes back: the officer confirms it is the same child, a re-entry.
    back = create_request(bham, age=7, home_postcode="B15 2TT")
    back.child_reference = b5.child_reference
    db.session.add(ReEntryLink(request_id=back.id, placement_id=went_home.id, status="confirmed",
                               found_by="child_reference", decided_by_id=bham.id))
    db.session.commit()


def test_prices(market, exact, db_session):
    build_placements()
    tables, figures = page(market, "/market/prices")
    assert figures == {"placements": "5", "median_fee": "£900", "high_cost": "1"}
    assert tables["fee-by-type"]["foster"] == ["3", "£525", "£800", "£850"]
    assert tables["fee-by-type"]["residential"] == ["2", "£6,375", "£7,750", "£9,125"]
    assert tables["fee-by-type"]["all"] == ["5", "£800", "£900", "£5,000"]
    assert tables["fee-by-provider"]["ifa"] == ["2", "£825", "£850", "£875"]
    assert tables["fee-by-provider"]["none"] == ["1", "£250", "£250", "£250"]
    assert tables["over-budget"]["foster"] == ["2", "1", "50.0%"]
    assert tables["high-cost"]["residential"] == ["2", "1", "50.0%"]
    assert tables["high-cost"]["all"] == ["5", "1", "20.0%"]


def test_distance(market, exact, db_session):
    build_placements()
    tables, figures = page(market, "/market/distance")
    assert figures == {"placements": "5", "inside_share": "60.0%", "far_share": "40.0%", "median_miles": "12.0",
                       "p90_miles": "28.0"}
    assert tables["dfe-breakdown"] == {"inside": ["3", "0", "3"], "outside": ["0", "2", "2"], "all": ["3", "2", "5"]}
    assert tables["by-la"][COVENTRY] == ["3", "66.7%", "33.3%", "12.0"]
    assert tables["by-la"][BIRMINGHAM] == ["2", "50.0%", "50.0%", "16.0"]


def test_outcomes(market, exact, db_session):
    build_placements()
    tables, figures = page(market, "/market/outcomes")
    assert figures == {
        "placements": "5", "family_share": "20.0%", "siblings_together_share": "50.0%", "days_median": "2",
        "days_p90": "8", "ended_share": "40.0%", "returned_home": "1", "reentries": "1",
    }
    assert tables["time-to-placement"]["foster"] == ["3", "2", "4.4"]
    assert tables["time-to-placement"]["residential"] == ["2", "5", "9"]
    assert tables["stability"]["moved"][0] == "1" and tables["stability"]["ended"][0] == "1"
    assert tables["endings"]["returned_home"][0] == "1" and tables["endings"]["moved"][0] == "1"


def test_market_shape(market, exact, db_session):
    build_placements()
    tables, figures = page(market, "/market/shape")
    assert figures == {"placements": "5", "private_share": "60.0%", "spot_share": "20.0%"}
    assert {k: v[0] for k, v in tables["by-provider-code"].items()} == {
        "PR0": "0", "PR1": "1", "PR2": "0", "PR3": "0", "PR4": "3", "PR5": "1", "total": "5"}
    assert {k: v[0] for k, v in tables["by-contract"].items()} == {
        "framework": "3", "spot": "1", "none": "1", "total": "5"}
    assert {k: v[0] for k, v in tables["by-ofsted"].items()} == {
        "outstanding": "1", "good": "2", "requires_improvement": "1", "inadequate": "0", "not_rated": "1",
        "total": "5"}


def test_referrals_and_responses(market, exact, db_session):
    officer = create_user("officer")
    fostering = create_provider(kind="ifa")
    homes = create_provider(kind="childrens_home")
    vacancy = create_vacancy(create_setting(fostering))
    first, second = create_request(officer), create_request(officer)
    sent = at(TODAY - timedelta(3), 9)
    offer_at(create_referral_at(first, fostering, sent), vacancy, sent + timedelta(hours=2))
    decline_at(create_referral_at(first, homes, sent), sent + timedelta(hours=4))
    create_referral_at(second, fostering, sent)
    tables, figures = page(market, "/market/responses")
    assert figures == {"referrals": "3", "offers_per_referral": "0.33", "answered_share": "66.7%",
                       "response_hours": "3.0"}
    assert tables["responses"]["ifa"] == ["2", "50.0%", "50.0%", "2.0"]
    assert tables["responses"]["childrens_home"] == ["1", "100.0%", "0.0%", "4.0"]


def test_supply(market, exact, db_session):
    fostering = create_provider(kind="ifa")
    homes = create_provider(kind="childrens_home")
    pending = create_provider(kind="ifa", status="pending")
    foster_home = create_setting(fostering, registered_places=3, needs_met=["therapeutic_support"])
    home = create_setting(homes, kind="residential", postcode="B15 2TT", registered_places=4)
    create_vacancy(foster_home, places=2, available_from=TODAY - timedelta(10))
    stale = create_vacancy(home, available_from=TODAY - timedelta(3))
    stale.confirmed_at = at(TODAY - timedelta(20))
    create_vacancy(home, available_from=TODAY + timedelta(5))
    create_vacancy(create_setting(pending))  # not approved: not in the market
    db.session.commit()
    tables, figures = page(market, "/market/supply")
    assert figures == {"open_vacancies": "3", "free_places": "4", "registered_places": "7"}
    assert tables["vacancies-by-type"]["foster"] == ["1", "2", "0", "0", "10", "10"]
    assert tables["vacancies-by-type"]["residential"] == ["2", "2", "1", "1", "3", "3"]
    assert tables["vacancies-by-type"]["all"][:5] == ["3", "4", "1", "1", "6.5"]
    assert tables["places-by-la"][COVENTRY][0] == "2" and tables["places-by-la"][BIRMINGHAM][1] == "2"
    assert tables["days-vacant"]["0_7"] == ["1"] and tables["days-vacant"]["8_14"] == ["1"]
    _tables, figures = page(market, "/market/supply?need=therapeutic_support")
    assert figures["open_vacancies"] == "1"


def test_gaps_and_the_allocation_trend(market, exact, db_session):
    officer = create_user("officer")
    vacancy = create_vacancy(create_setting(create_provider(), needs_met=["therapeutic_support"]))
    can = create_request(officer, needs=["therapeutic_support"])
    risky = create_request(officer, risks=["going_missing"])
    residential = create_request(officer, suitability_foster="unsuitable", suitability_residential="preferred")
    assert can and residential
    tables, figures = page(market, "/market/gaps")
    assert figures == {"open_requests": "3", "gaps": "2", "gap_share": "66.7%"}
    assert tables["gap-by-rule"]["risks"] == ["1", "0", "0", "1"]
    assert tables["gap-by-rule"]["suitability"] == ["0", "1", "0", "1"]
    assert tables["gap-by-rule"]["gap"] == ["1", "1", "0", "2"]
    assert tables["gap-by-need"]["going_missing"] == ["1", "1", "100.0%"]
    assert tables["gap-by-need"]["therapeutic_support"] == ["1", "0", "0.0%"]

    db.session.add(AllocationRun(
        options_version=1, requests_count=2, options_count=1, placed_count=1, unplaced_count=1, objective=10,
        bound=10, gap=0.0, status="optimal", seconds=0.1, placed_by_urgency={},
        result={"assignments": [{"request": can.id, "option": vacancy.id}],
                "unplaced": [{"request": risky.id,
                              "reason": "No eligible option among 1; the most common reason: x"}]}))
    db.session.commit()
    tables, _figures = page(market, "/market/gaps")
    assert tables["allocation-trend"][month_key(TODAY)] == ["2", "1", "1", "0"]


def test_overview_and_summary(market, exact, db_session):
    build_placements()
    _tables, figures = page(market, "/market/")
    assert figures["placements_12_months"] == "5"
    assert figures["placements_inside_la"] == "3" and figures["placements_over_20_miles"] == "2"
    tables, figures = page(market, "/market/summary")
    assert figures["prices.median_fee"] == "£900" and figures["distance.inside_share"] == "60.0%"
    assert figures["outcomes.days_median"] == "2"
    assert tables["fee-by-type"]["all"] == ["5", "£800", "£900", "£5,000"]


def test_the_allocation_page_counts_the_latest_run_by_la_type_age_and_need(market, exact, db_session):
    officer = create_user("officer")
    brum = create_user("officer", la_code=BIRMINGHAM)
    vacancy = create_vacancy(create_setting(create_provider(), needs_met=["therapeutic_support"]))
    can = create_request(officer, needs=["therapeutic_support"])
    risky = create_request(officer, risks=["going_missing"])
    taken = create_request(brum, needs=["therapeutic_support"], home_postcode="B15 2TT")
    older = {"assignments": [], "unplaced": [{"request": can.id, "reason": "No eligible option among 0"}]}
    latest = {"assignments": [{"request": can.id, "option": vacancy.id}],
              "unplaced": [{"request": risky.id, "reason": "No eligible option among 1; the most common reason: x"},
                           {"request": taken.id, "reason": "Every eligible option went to children needed sooner"}]}
    for minutes, result in ((60, older), (0, latest)):
        db.session.add(AllocationRun(
            created_at=at(TODAY) - timedelta(minutes=minutes),
            options_version=1, requests_count=3, options_count=1, placed_count=len(result["assignments"]),
            unplaced_count=len(result["unplaced"]), objective=10, bound=10, gap=0.0, status="optimal", seconds=0.1,
            placed_by_urgency={}, result=result))
    db.session.commit()
    tables, figures = page(market, "/market/allocation")
    assert figures == {"allocation_requests": "3", "allocation_placed": "1", "allocation_share": "33.3%"}
    # In the run, placed, nothing eligible, all taken, share placed: the latest run's, not the earlier one's.
    assert tables["allocation-by-la"][COVENTRY] == ["2", "1", "1", "0", "50.0%"]
    assert tables["allocation-by-la"][BIRMINGHAM] == ["1", "0", "0", "1", "0.0%"]
    assert tables["allocation-by-la"]["total"] == ["3", "1", "1", "1", "33.3%"]
    assert tables["allocation-by-need"]["therapeutic_support"] == ["2", "1", "1", "50.0%"]
    assert tables["allocation-by-need"]["going_missing"] == ["1", "0", "1", "0.0%"]
    assert tables["allocation-by-type"]["total"] == ["3", "1", "1", "1", "33.3%"]


def test_the_allocation_page_before_any_run(market, db_session):
    response = market.get("/market/allocation")
    assert response.status_code == 200
    assert "No regional allocation was saved in this period." in response.get_data(as_text=True)


def test_the_allocation_page_suppresses_small_numbers(market, db_session):
    officer = create_user("officer")
    vacancy = create_vacancy(create_setting(create_provider()))
    child = create_request(officer)
    db.session.add(AllocationRun(
        options_version=1, requests_count=1, options_count=1, placed_count=1, unplaced_count=0, objective=10,
        bound=10, gap=0.0, status="optimal", seconds=0.1, placed_by_urgency={},
        result={"assignments": [{"request": child.id, "option": vacancy.id}], "unplaced": []}))
    db.session.commit()
    tables, figures = page(market, "/market/allocation")
    assert figures["allocation_requests"] == "c" and figures["allocation_placed"] == "c"
    assert tables["allocation-by-la"][COVENTRY][:2] == ["c", "c"]
    assert "1" not in tables["allocation-by-la"]["total"][:4]
