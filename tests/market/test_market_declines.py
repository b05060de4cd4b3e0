"""Declines and placement flags (issue 13 §4): the counts come from the records, small numbers are hidden on the page
and in every CSV file alike, on both databases."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

from portal.matching import vocabulary as vocab
from tests.factories import BIRMINGHAM, COVENTRY, create_provider, create_request, create_user
from tests.market.market_data import TODAY, at, create_placement, create_referral_at, decline_at, read_page

# (provider kind, reason, how many): counted per kind and per reason below, never typed as results.
DECLINES = [("ifa", "no_vacancy", 9), ("ifa", "location", 3), ("childrens_home", "matching", 10),
            ("childrens_home", "risk_to_others", 2), ("supported_accommodation", "other", 1)]


def build_declines():
    officer = create_user("officer")
    providers = {kind: [create_provider(kind=kind) for _ in range(3)] for kind in {k for k, _, _ in DECLINES}}
    sent = at(TODAY - timedelta(3), 9)
    used = Counter()
    for kind, reason, n in DECLINES:
        for _ in range(n):
            req = create_request(officer, needs=["therapeutic_support"])
            provider = providers[kind][used[kind] % 3]
            used[kind] += 1
            decline_at(create_referral_at(req, provider, sent), sent + timedelta(hours=2), reason,
                       "Manager away" if reason == "other" else None)


def page(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return read_page(response.get_data(as_text=True))


def test_declines_counted_by_reason_and_provider_kind(market, exact, db_session):
    build_declines()
    tables, figures = page(market, "/market/declines")
    total = sum(n for _, _, n in DECLINES)
    assert figures["declines"] == str(total)
    by_reason = Counter()
    for _, reason, n in DECLINES:
        by_reason[reason] += n
    for reason in vocab.DECLINE_REASONS:
        assert tables["by-reason"][reason][0] == str(by_reason[reason])
    assert tables["by-reason"]["total"][0] == str(total)
    reasons = list(vocab.DECLINE_REASONS)
    for kind in ("ifa", "childrens_home", "supported_accommodation", "la_fostering"):
        row = tables["by-provider-kind"][kind]
        mine = {reason: n for k, reason, n in DECLINES if k == kind}
        assert row[0] == str(sum(mine.values()))
        for i, reason in enumerate(reasons):
            assert row[1 + 2 * i] == str(mine.get(reason, 0))
            if mine:
                assert row[2 + 2 * i] == f"{100 * mine.get(reason, 0) / sum(mine.values()):.1f}%"
    # Every child here has one need: its line holds every decline.
    assert tables["by-need"]["therapeutic_support"][0] == str(total)
    assert tables["by-need"]["bsl"][0] == "0"
    assert tables["by-type"]["foster"][0] == str(total)  # the factory's requests seek foster care


def test_small_numbers_are_hidden_on_the_page_and_in_the_csv(market, db_session):
    build_declines()
    tables, _ = page(market, "/market/declines")
    row = tables["by-reason"]
    # 3 location, 2 risks to others, 1 other: at most the threshold (7), hidden.
    assert row["location"][0] == row["risk_to_others"][0] == row["other"][0] == "c"
    assert row["total"][0] == str(sum(n for _, _, n in DECLINES))  # the whole is shown
    # No count from 1 to the threshold shows anywhere (count columns: the first, then each reason's).
    for key in ("by-reason", "by-provider-kind", "by-type", "by-need"):
        for cells in tables[key].values():
            counts = cells[:1] if key == "by-reason" else cells[:1] + cells[1::2]
            assert not [c for c in counts if c.isdigit() and 1 <= int(c) <= 7], (key, cells)
    supported = tables["by-provider-kind"]["supported_accommodation"]
    assert supported[0] == "c" and set(supported[1:]) <= {"c", "0", "x"}
    for key, table in tables.items():
        response = market.get(f"/market/declines/{key}.csv")
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        in_file = [[cell == "c" for cell in r[1:]] for r in rows[1:]]
        on_page = [[cell == "c" for cell in cells] for cells in table.values()]
        assert in_file == on_page, key  # the file hides exactly what the page hides
    # The hidden reasons cannot be worked out from a total: the total is hidden too, or two or more cells are.
    hidden = [k for k in vocab.DECLINE_REASONS if row[k][0] == "c"]
    assert len(hidden) >= 2


def test_deprivation_of_liberty_and_unregistered_counted_by_la_and_type(market, exact, db_session):
    cov, bham = create_user("officer"), create_user("officer", la_code=BIRMINGHAM)
    flags = [(cov, "U6", True, False), (cov, "K2", True, True), (cov, "K3", False, True), (cov, "K3", False, True),
             (bham, "K2", False, False), (bham, "U6", True, False)]
    for officer, kind, dol, unregistered in flags:
        create_placement(create_request(officer), start=TODAY - timedelta(5), placement_type=kind, dol=dol,
                         unregistered=unregistered)
    tables, figures = page(market, "/market/declines")
    assert figures["dol"] == str(sum(1 for f in flags if f[2]))
    assert figures["unregistered"] == str(sum(1 for f in flags if f[3]))
    for la, officer in ((COVENTRY, cov), (BIRMINGHAM, bham)):
        mine = [f for f in flags if f[0] is officer]
        row = tables["flags-by-la"][la]
        assert row[:2] == [str(len(mine)), str(sum(1 for f in mine if f[2]))]
        assert row[3] == str(sum(1 for f in mine if f[3]))
    supported = [f for f in flags if f[1] == "K3"]
    assert tables["flags-by-type"]["supported"][3] == str(sum(1 for f in supported if f[3]))


def test_flags_are_suppressed_too(market, db_session):
    officer = create_user("officer")
    for i in range(12):
        create_placement(create_request(officer), start=TODAY - timedelta(5), placement_type="K2", dol=i < 2)
    tables, figures = page(market, "/market/declines")
    assert figures["dol"] == "c"
    assert tables["flags-by-la"][COVENTRY][1] == "c" and tables["flags-by-la"][COVENTRY][2] == "c"
    assert "c" in market.get("/market/declines/flags-by-la.csv").get_data(as_text=True)
