"""Re-entry to care on the Outcomes page: counted from the officers' confirmed links, with suppression (issue 11
§7). On both databases."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from portal.db import db
from portal.models import ReEntryLink
from tests.factories import BIRMINGHAM, COVENTRY, create_request, create_user
from tests.market.market_data import TODAY, create_placement, read_page, submitted


def earlier(officer, *, ended_days_ago: int = 100, end_reason: str = "E4A"):
    """A child's earlier placement in the period (its request submitted 200 days ago), ended."""
    req = submitted(create_request(officer, status="placed"), TODAY - timedelta(days=200))
    return create_placement(req, start=TODAY - timedelta(days=199), end=TODAY - timedelta(days=ended_days_ago),
                            end_reason=end_reason)


def again(officer, placement, status: str = "confirmed", *, days_ago: int = 0):
    """The same child's new request, linked by the officer to the earlier placement (`status`), or not (None)."""
    req = create_request(officer)
    if days_ago:
        submitted(req, TODAY - timedelta(days=days_ago))
    if status:
        db.session.add(ReEntryLink(request_id=req.id, placement_id=placement.id, status=status,
                                   found_by="child_reference", decided_by_id=officer.id))
        db.session.commit()
    return req


def outcomes(client, path: str = "/market/outcomes"):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return read_page(response.get_data(as_text=True))


def test_re_entries_are_counted_from_confirmed_links_only(market, exact, db_session):
    cov, bham = create_user("officer"), create_user("officer", la_code=BIRMINGHAM)
    went_home = earlier(cov)
    again(cov, went_home)  # a re-entry
    again(cov, earlier(cov, end_reason="CARPL"))  # the same child, who only moved: not a re-entry
    again(cov, went_home, "dismissed")  # not the same child
    unlinked = again(cov, went_home, None)  # the same reference, but nobody confirmed it: not counted
    unlinked.child_reference = went_home.request.child_reference
    db.session.commit()
    again(cov, earlier(cov, ended_days_ago=10), days_ago=50)  # the earlier placement ended after this request
    again(bham, earlier(bham, end_reason="E13"))  # a re-entry in Birmingham
    tables, figures = outcomes(market)
    # 10 requests in the period: 4 earlier ones and 6 new ones, of which 2 are re-entries.
    assert figures["reentries"] == "2"
    assert tables["reentry"]["reentry"] == ["2", "20.0%"]
    assert tables["reentry"]["total"] == ["10", "100.0%"]
    assert tables["reentry-by-la"][COVENTRY] == ["8", "1", "12.5%"]
    assert tables["reentry-by-la"][BIRMINGHAM] == ["2", "1", "50.0%"]
    assert tables["reentry-by-la"]["region"] == ["10", "2", "20.0%"]
    assert tables["reentry-by-age"]["10_15"] == ["10", "2", "20.0%"]
    # One LA's view has no breakdown by LA; its figures are its own.
    tables, figures = outcomes(market, f"/market/outcomes?la={BIRMINGHAM}")
    assert "reentry-by-la" not in tables and figures["reentries"] == "1"


def test_small_numbers_of_re_entries_are_hidden_on_the_page_and_in_the_csv(market, db_session):
    cov = create_user("officer")
    placements = [earlier(cov) for _ in range(9)]
    for placement in placements[:3]:
        again(cov, placement)
    tables, figures = outcomes(market)
    assert figures["reentries"] == "c"
    assert tables["reentry"]["reentry"] == ["c", "c"]
    assert tables["reentry-by-la"][COVENTRY][1] == "c"
    rows = list(csv.reader(io.StringIO(market.get("/market/outcomes/reentry-by-la.csv").get_data(as_text=True))))
    assert rows[0] == ["Local authority", "Requests", "Re-entries", "Share"]
    assert ["Coventry", "12", "c", "c"] in rows
    rows = list(csv.reader(io.StringIO(market.get("/market/outcomes/reentry.csv").get_data(as_text=True))))
    assert rows[1][:2] == ["The child had left care before (re-entry)", "c"]
    # With more than the threshold the count shows.
    for placement in placements[3:]:
        again(cov, placement)
    tables, figures = outcomes(market)
    assert figures["reentries"] == "9" and tables["reentry-by-la"][COVENTRY] == ["18", "9", "50.0%"]
