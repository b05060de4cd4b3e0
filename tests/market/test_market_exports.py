"""CSV files: every table as shown, formulas neutralised, downloads audited; a commissioner gets counts only,
never a row per child, on any page or in any download (issue 15 §9; the extract is tests/market/test_market_extract.py)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.models import AuditEvent
from portal.market import views
from portal.market.tables import csv_document, neutralise
from tests.factories import BIRMINGHAM, COVENTRY, create_provider, create_request, create_setting, create_user
from tests.market.market_data import create_placement, read_page
from tests.pages import get_page


def test_cells_a_spreadsheet_would_run_are_neutralised():
    for text in ("=1+1", "+44", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'):
        assert neutralise(text) == "'" + text
    assert neutralise("Coventry") == "Coventry" and neutralise("c") == "c"
    document = csv_document(["=a"], [["=cmd|' /C calc'!A0", "ok"]])
    assert document.splitlines()[1].startswith("'=cmd")


def test_a_table_downloads_as_shown_and_the_download_is_audited(market, commissioner, db_session):
    officer = create_user("officer")
    for _ in range(9):
        create_request(officer)
    create_request(create_user("officer", la_code=BIRMINGHAM), home_postcode="B15 2TT")
    tables, _ = read_page(market.get("/market/demand").get_data(as_text=True))
    response = market.get("/market/demand/by-la.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(response.get_data(as_text=True)))}
    assert rows["Coventry"] == tables["by-la"][COVENTRY] == ["c", "c"]
    assert rows["Birmingham"] == ["c", "c"] and rows["Total"][0] == "10"
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "export_table_csv")).one()
    assert (event.user_id, event.record_id) == (commissioner.id, "demand/by-la")
    assert "la=region" in event.detail
    assert market.get("/market/demand/no-such-table.csv").status_code == 404


def _placed_children(n: int) -> list:
    """n children placed this month in Coventry, each with their own name, postcode and reference."""
    officer = create_user("officer")
    provider = create_provider()
    setting = create_setting(provider, postcode="CV2 4GA")
    out = []
    for i in range(n):
        req = create_request(officer, first_name=f"Zebedee{i}", last_name="Quixote", home_postcode="CV1 2AB",
                             needs=["bsl", "therapeutic_support"], risks=["going_missing"])
        out.append((req, create_placement(req, start=date.today() - timedelta(3), provider=provider,
                                          setting=setting)))
    return out


PSEUDONYM = re.compile(r"\b[0-9a-f]{20}\b")
FIGURE = re.compile(r"c|x|-?£?\d[\d,]*(\.\d+)?%?|")


@pytest.mark.parametrize("la_code", [None, COVENTRY])
def test_a_commissioner_gets_no_child_level_rows_anywhere(client, auth, db_session, la_code):
    """Every market page and every CSV it links to: tables of counts only, nothing that stands for one child.
    The old pseudonymised exports are gone and the extract is refused without its permission."""
    children = _placed_children(12)
    secrets = {s for req, placement in children for s in (
        req.id, placement.id, req.child_reference, req.first_name, req.date_of_birth.isoformat(), "CV1 2",
        "CV2 4")}
    auth.sign_in(create_user("commissioner", la_code=la_code))
    pages = ["/market/", *(f"/market/{name}" for name in views.PAGE_NAMES.split(","))]
    downloads: set[str] = set()
    for path in pages:
        page = get_page(client, path)
        assert not page.hrefs(r"/market/(extract|exports?)\b"), f"{path} links to a child-level download"
        downloads.update(page.hrefs(r"\.csv"))
        text = page.text
        assert not (secrets & set(re.split(r"[\s<>]+", text))) and not PSEUDONYM.search(text), path
    assert len(downloads) > 20, "every table's CSV was found and read"
    for href in sorted(downloads):
        response = client.get(href)
        assert response.status_code == 200 and response.mimetype == "text/csv", href
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        header, body = rows[0], rows[1:]
        assert not {"childId", "placementId", "referralDate", "placementDate"} & set(header), href
        text = response.get_data(as_text=True)
        assert not any(secret in text for secret in secrets) and not PSEUDONYM.search(text), href
        # A table of figures: a label (a category or a month), then counts, shares, fees or distances, or c / x.
        labels = [row[0] for row in body]
        assert len(set(labels)) == len(labels), f"{href}: one row per category, not per child"
        for row in body:
            assert not re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[0]), f"{href}: a row for a date is a row per record"
            for cell in row[1:]:
                assert FIGURE.fullmatch(cell), f"{href}: {cell!r} is not a figure"
    for gone in ("/market/exports", "/market/export/referrals.csv", "/market/export/placements.csv"):
        assert client.get(gone).status_code == 404, gone
    for refused in ("/market/extract", "/market/extract.csv"):
        assert client.get(refused).status_code == 403, refused
    refusals = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "download_extract")).all()
    assert len(refusals) == 2 and {e.outcome for e in refusals} == {"refused"}
