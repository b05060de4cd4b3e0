"""CSV files: every table as shown, formulas neutralised, downloads audited; the pseudonymised export holds no
names, dates of birth or full postcodes."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from datetime import date, timedelta

from sqlalchemy import select

from portal.models import AuditEvent
from portal.db import db
from portal.market.tables import csv_document, neutralise
from tests.factories import BIRMINGHAM, COVENTRY, create_provider, create_request, create_setting, create_user
from tests.market.market_data import create_placement, read_page


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


def pseudonym(kind: str, record_id: str) -> str:
    return hmac.new(b"test-secret", f"{kind}:{record_id}".encode(), hashlib.sha256).hexdigest()[:20]


def test_the_pseudonymised_export_keeps_no_names_birthdays_or_postcodes(market, db_session):
    officer = create_user("officer")
    provider = create_provider()
    setting = create_setting(provider, postcode="CV2 4GA")
    setting.ofsted_urn = "=1+cmd|'/C'"  # at most 12 characters
    req = create_request(officer, first_name="Zebedee", last_name="Quixote", home_postcode="CV1 2AB",
                         needs=["bsl", "therapeutic_support"], risks=["going_missing"])
    born = req.date_of_birth
    placement = create_placement(req, start=date.today() - timedelta(3), provider=provider, setting=setting)
    referrals = market.get("/market/export/referrals.csv")
    placements = market.get("/market/export/placements.csv")
    assert referrals.status_code == placements.status_code == 200
    for response in (referrals, placements):
        text = response.get_data(as_text=True)
        for secret in ("Zebedee", "Quixote", born.isoformat(), born.strftime("%d/%m/%Y"), "CV1 2AB", "CV2 4GA",
                       req.id, placement.id, req.child_reference):
            assert secret not in text
    referral_rows = list(csv.DictReader(io.StringIO(referrals.get_data(as_text=True))))
    placement_rows = list(csv.DictReader(io.StringIO(placements.get_data(as_text=True))))
    assert len(referral_rows) == len(placement_rows) == 1
    row = referral_rows[0]
    assert row["childId"] == pseudonym("request", req.id) == placement_rows[0]["childId"]
    assert row["preferredLocation"] == "CV1 2" and row["ageBand"] == "10 to 15"
    assert row["specificCommunicationRequirements"] == "BSL" and row["riskMissing"] == "Risk Present"
    assert row["additionalSupport"] == "therapeutic support"
    assert placement_rows[0]["placementId"] == pseudonym("placement", placement.id)
    assert placement_rows[0]["placementLocation"] == "CV2 4"
    assert placement_rows[0]["providerURN"].startswith("'="), "a formula in a provider's URN stays text"
    actions = set(db_session.scalars(select(AuditEvent.action)))
    assert {"export_referrals", "export_placements"} <= actions


def test_an_la_commissioner_exports_only_their_own_la(client, auth, db_session):
    auth.sign_in(create_user("commissioner", la_code=COVENTRY))
    assert client.get("/market/export/referrals.csv").status_code == 200
    assert client.get("/market/export/referrals.csv?la=region").status_code == 403
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export_referrals")).all()
