"""Privacy of the commissioner pages: who gets in, small numbers hidden (and not given back by totals, other
filters or differences), narrow filters refused, bad filters answered with 400, never 500."""

from __future__ import annotations

import re

import pytest

from portal.market.filters import month_key
from tests.factories import BIRMINGHAM, COVENTRY, create_provider, create_request, create_user
from tests.market.market_data import LAST_MONTH, THIS_MONTH, read_page, submitted

PAGES = ("/market/", "/market/demand", "/market/supply", "/market/gaps", "/market/prices", "/market/distance",
         "/market/outcomes", "/market/responses", "/market/declines", "/market/shape", "/market/summary",
         "/market/extract", "/market/declines/by-reason.csv",
         "/market/demand/by-month.csv", "/market/extract.csv", "/market/forecast", "/market/forecast/history.csv")


@pytest.mark.parametrize("role", ["officer", "provider"])
def test_only_commissioners_and_administrators_get_in(client, auth, db_session, role):
    provider = create_provider() if role == "provider" else None
    auth.sign_in(create_user(role, provider=provider))
    for path in PAGES:
        assert client.get(path).status_code == 403, path


def test_signed_out_people_are_sent_to_sign_in(client, db_session):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], path


def test_an_administrator_sees_the_region(client, auth, db_session):
    auth.sign_in(create_user("admin"))
    assert client.get("/market/demand").status_code == 200


@pytest.mark.parametrize("query", [
    "la=E99999999", "la=coventry", "period=2025", "period=fy2025", "type=hotel", "age=12", "age=10-15",
    "need=swimming", "la=region&la=E08000026",
])
def test_bad_filter_values_get_a_400_page_saying_what_is_wrong(market, query):
    response = market.get(f"/market/demand?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem with the filters" in page and "govuk-error-summary" in page
    assert market.get(f"/market/demand/by-month.csv?{query}").status_code == 400


def test_an_la_commissioner_starts_on_their_la_may_see_the_region_but_not_another_la(client, auth, db_session):
    auth.sign_in(create_user("commissioner", la_code=COVENTRY))
    page = client.get("/market/demand").get_data(as_text=True)
    assert re.search(r'data-testid="market-area">\s*Coventry', page)
    region = client.get("/market/demand?la=region").get_data(as_text=True)
    assert re.search(r'data-testid="market-area">\s*West Midlands region', region)
    response = client.get(f"/market/demand?la={BIRMINGHAM}")
    assert response.status_code == 403
    assert "not another local authority" in response.get_data(as_text=True)


def requests_in(officer, n: int, **kwargs) -> list:
    return [create_request(officer, **kwargs) for _ in range(n)]


def test_small_counts_show_as_c_and_a_lone_one_takes_a_partner(market, db_session):
    """23 requests: Coventry 20, Birmingham 3. Birmingham is hidden; so is Coventry, or the region total minus
    Coventry would give Birmingham back."""
    requests_in(create_user("officer"), 20)
    requests_in(create_user("officer", la_code=BIRMINGHAM), 3, home_postcode="B15 2TT")
    tables, figures = read_page(market.get("/market/demand").get_data(as_text=True))
    assert figures["requests"] == "23"
    assert tables["by-la"][BIRMINGHAM] == ["c", "c"]
    assert tables["by-la"][COVENTRY] == ["c", "c"]
    assert tables["by-la"]["total"][0] == "23"
    page = market.get("/market/demand").get_data(as_text=True)
    assert ">20<" not in page and ">3<" not in page


def test_differencing_region_against_one_la_is_refused(market, db_session):
    """The region shows 23; showing Coventry's 20 would give away Birmingham's 3."""
    requests_in(create_user("officer"), 20)
    requests_in(create_user("officer", la_code=BIRMINGHAM), 3, home_postcode="B15 2TT")
    response = market.get(f"/market/demand?la={COVENTRY}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "cannot be worked out" in page and "20" not in re.sub(r"<[^>]+>", " ", page).split()
    csv = market.get(f"/market/demand/by-month.csv?la={COVENTRY}")
    assert csv.status_code == 422


def test_the_las_own_commissioner_sees_c_not_a_refusal(client, auth, db_session):
    requests_in(create_user("officer"), 20)
    requests_in(create_user("officer", la_code=BIRMINGHAM), 3, home_postcode="B15 2TT")
    auth.sign_in(create_user("commissioner", la_code=COVENTRY))
    _tables, figures = read_page(client.get("/market/demand").get_data(as_text=True))
    assert figures["requests"] == "c"


def test_differencing_with_a_need_filter_is_refused(market, db_session):
    """20 requests, 17 with a need: the need's page would give away the 3 without it."""
    officer = create_user("officer")
    requests_in(officer, 17, needs=["therapeutic_support"])
    requests_in(officer, 3)
    response = market.get("/market/demand?need=therapeutic_support")
    assert response.status_code == 422
    assert "without the need or risk filter by fewer than 8" in response.get_data(as_text=True)


def test_differencing_with_an_age_band_is_refused_and_the_bands_hide_it(market, db_session):
    officer = create_user("officer")
    requests_in(officer, 17, age=12)
    requests_in(officer, 3, age=3)
    tables, figures = read_page(market.get("/market/demand").get_data(as_text=True))
    assert figures["requests"] == "20"
    assert tables["by-age"]["1_4"][0] == "c" and tables["by-age"]["10_15"][0] == "c"
    assert market.get("/market/demand?age=10_15").status_code == 422


def test_a_month_cannot_be_worked_out_from_the_period_total(market, db_session):
    officer = create_user("officer")
    requests_in(officer, 20)
    for req in requests_in(officer, 3):
        submitted(req, LAST_MONTH)
    tables, figures = read_page(market.get("/market/demand").get_data(as_text=True))
    assert figures["requests"] == "23"
    assert tables["by-month"][month_key(LAST_MONTH)] == ["c"]
    assert tables["by-month"][month_key(THIS_MONTH)] == ["c"]


def test_a_small_cohort_is_refused_with_an_explanation(market, db_session):
    officer = create_user("officer")
    requests_in(officer, 20, age=12)
    requests_in(officer, 2, age=16, suitability_supported="preferred")
    response = market.get("/market/demand?age=16_plus")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Fewer than 8 placement requests match these filters" in page
    assert 'href="/market/demand?la=region&amp;period=12m"' in page, "a link to widen the view"


def test_medians_need_more_than_the_threshold(market, db_session):
    from datetime import date, timedelta

    from tests.market.market_data import create_placement

    officer = create_user("officer")
    for fee in ("800", "900", "1000", "1100", "1200"):
        create_placement(create_request(officer), start=date.today() - timedelta(5), weekly_cost=fee)
    _tables, figures = read_page(market.get("/market/prices").get_data(as_text=True))
    assert figures["placements"] == "c" and figures["median_fee"] == "c"
