"""The data extract (issue 15 §9; portal/market/extract.py): only a commissioner with the extract permission gets
it, every download is audited with its row count, no class of its quasi-identifiers holds fewer than 8 children
(checked on the demo region), and every column keeps to the Placements Data Standard's own definitions."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from portal import create_app
from portal.db import db
from portal.market import extract as ex
from portal.market.anonymity import equivalence_classes
from portal.market.filters import parse_filters
from portal.models import AuditEvent, User
from tests.factories import BIRMINGHAM, COVENTRY, create_provider, create_request, create_setting, create_user
from tests.market.market_data import create_placement
from tests.pages import get_page

STANDARD = json.loads((Path(__file__).parent / "reference" / "placements-standard.json").read_text())
FIELDS = {f["name"]: f for entity in STANDARD["entities"] for f in entity["fields"]}
# The extract's own columns (not fields of the standard): the LA (its ONS code, and its name next to it), the
# generalised age band and periods, and the needs and risks the standard spreads over per-item yes/no fields.
EXTRA = {"localAuthority", "localAuthorityName", "ageBand", "referralPeriod", "placementPeriod", "needs", "risks"}
# The issue's quasi-identifiers: LA, postcode district, age band, month, placement type, needs and risks.
ISSUE_QUASI_IDENTIFIERS = ("localAuthority", "preferredLocation", "ageBand", "placementPeriod", "placementType",
                           "needs", "risks")


def _rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def data_officer(la_code=None) -> User:
    user = create_user("commissioner", la_code=la_code)
    user.extract_access = True
    db.session.commit()
    return user


def _children(n: int, *, needs=("school_transport", "therapeutic_support"), risks=("going_missing",),
              postcode="CV1 2AB", la_code=COVENTRY):
    """n children alike, placed three days ago in one setting."""
    officer = create_user("officer", la_code=la_code)
    provider = create_provider()
    setting = create_setting(provider, postcode="CV2 4GA")
    out = []
    for i in range(n):
        req = create_request(officer, first_name=f"Zebedee{i}", last_name="Quixote", home_postcode=postcode,
                             needs=list(needs), risks=list(risks))
        out.append((req, create_placement(req, start=date.today() - timedelta(3), provider=provider,
                                          setting=setting)))
    return out


# ------------------------------------------------------------------------------------------------- access

def test_a_data_officer_reads_the_page_downloads_and_each_download_is_audited(client, auth, db_session):
    children = _children(8)
    officer = data_officer()
    auth.sign_in(officer)
    page = get_page(client, "/market/extract")
    assert page.h1 == "Data extract"
    assert page.summary('[data-testid="extract-summary"]') == {
        "Placements in the period": "8", "Rows in the file": "8", "Suppressed (left out to protect children)": "0"}
    assert "8-anonymous" in page.text and "data-sharing agreement" in page.text
    [href] = page.hrefs(r"/market/extract\.csv")
    assert page.hrefs(r"/market/extract\?")  # the navigation links to it
    response = client.get(href)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = _rows(response)
    assert len(rows) == 8
    text_ = response.get_data(as_text=True)
    for req, placement in children:
        for secret in (req.first_name, req.child_reference, req.id, placement.id, req.date_of_birth.isoformat(),
                       "CV1 2AB", "CV1 2", "CV2 4GA", "Quixote"):
            assert secret not in text_
    assert sorted(int(r["childId"]) for r in rows) == list(range(1, 9)), "childId numbers the rows of this file"
    [event] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "download_extract")).all()
    assert (event.user_id, event.outcome, event.detail) == (officer.id, "allowed", "rows=8")


def test_a_child_alone_in_their_la_is_suppressed_and_one_unlike_the_rest_is_generalised(client, auth, db_session):
    """Birmingham's one child can hide in no class of 8: suppressed. Coventry's ninth child, with other needs,
    would be alone if needs were shown, so Coventry's needs are generalised (within the 5% budget, 0 of 9 rows
    may be dropped) and all nine rows are kept."""
    _children(8)
    _children(1, needs=["bsl"], risks=["others_fire"], postcode="B15 2TT", la_code=BIRMINGHAM)
    _children(1, needs=["makaton"], risks=[])
    auth.sign_in(data_officer())
    page = get_page(client, "/market/extract")
    summary = page.summary('[data-testid="extract-summary"]')
    assert summary["Placements in the period"] == "10" and summary["Rows in the file"] == "9"
    assert summary["Suppressed (left out to protect children)"] == "1"
    rows = _rows(client.get("/market/extract.csv"))
    assert len(rows) == 9 and {r["localAuthority"] for r in rows} == {COVENTRY}
    assert len({r["needs"] for r in rows}) == 1 and "Makaton" not in rows[0]["needs"]
    assert {r["additionalSupport"] for r in rows} <= {"", "therapeutic support"}
    levels = {row[0]: row[1:] for row in page.table_rows("extract-levels")}
    assert set(levels) == {"Coventry", "Birmingham"} and levels["Coventry"][4] != "exact"


@pytest.mark.parametrize("role", ["commissioner", "admin", "officer"])
def test_without_the_permission_or_as_another_role_it_is_403(client, auth, db_session, role):
    _children(8)
    user = create_user(role, la_code=None if role != "officer" else COVENTRY)
    user.extract_access = role != "commissioner"  # a flag on another role grants nothing
    db_session.commit()
    auth.sign_in(user)
    for path in ("/market/extract", "/market/extract.csv"):
        assert client.get(path).status_code == 403, path
    if role != "officer":
        assert not get_page(client, "/market/demand").hrefs(r"/market/extract")


def test_revoking_the_permission_takes_effect_on_the_next_request(client, auth, db_session):
    officer = data_officer()
    auth.sign_in(officer)
    assert client.get("/market/extract.csv").status_code == 200
    db_session.get(User, officer.id).extract_access = False
    db_session.commit()
    assert client.get("/market/extract.csv").status_code == 403
    outcomes = db_session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "download_extract")).all()
    assert sorted(outcomes) == ["allowed", "refused"]


def test_an_la_data_officer_gets_their_own_la_not_the_region(client, auth, db_session):
    _children(8)
    _children(8, postcode="B15 2TT", la_code=BIRMINGHAM)
    auth.sign_in(data_officer(COVENTRY))
    rows = _rows(client.get("/market/extract.csv"))
    assert len(rows) == 8 and {r["localAuthority"] for r in rows} == {COVENTRY}
    assert client.get("/market/extract.csv?la=region").status_code == 403
    assert client.get(f"/market/extract.csv?la={BIRMINGHAM}").status_code == 403
    assert client.get("/market/extract?period=1999").status_code == 400


# ------------------------------------------------------------------------------------------ the standard

def check_against_the_standard(header, rows: list[dict[str, str]]) -> None:
    """Every column of the extract against the standard's own definitions (tests/market/reference)."""
    columns = set(header)
    assert len(header) == len(columns)
    assert columns - set(FIELDS) == EXTRA, "every other column is a field of the standard, by its name"
    assert set(FIELDS) - columns == set(ex.WITHHELD), "every field left out is declared, with its reason"
    need_words, risk_words = set(ex.NEED_WORDS.values()), set(ex.RISK_FIELDS.values())
    summaries = {"0", "1", "2", "3 or more", "Some", "None", ex.SUPPRESSED}
    for row in rows:
        for name in columns & set(FIELDS):
            field, value = FIELDS[name], row[name]
            required = field["cardinality"].startswith("1")
            if required:
                assert value != "", f"{name} is required"
            if value == "":
                continue
            if field["type"] == "Categorical":
                values = value.split(";") if field["cardinality"].endswith("*") else [value]
                assert set(values) <= set(field["options"]), f"{name}: {value!r} is not one of its options"
            elif field["type"] == "Boolean":
                assert value in ("true", "false"), f"{name}: {value!r}"
            elif field["type"] == "Integer":
                assert re.fullmatch(r"\d+", value), f"{name}: {value!r}"
            elif field["type"] == "Date":
                assert date.fromisoformat(value) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), f"{name}: {value!r}"
        assert row["needs"] in summaries or set(row["needs"].split(";")) <= need_words, row["needs"]
        assert row["risks"] in summaries or set(row["risks"].split(";")) <= risk_words, row["risks"]
        assert row["ageBand"] in {"Under 1", "1 to 4", "5 to 9", "10 to 15", "16 and over", "Under 10",
                                  "Under 18"}, row["ageBand"]
        for day, period in ((row["referralDate"], row["referralPeriod"]), (row["placementDate"], row["placementPeriod"])):
            assert day.startswith(period[:4]) and day.endswith("-01"), (day, period)


def test_the_highest_support_one_option_and_education_continuity_always_filled(client, auth, db_session):
    """additionalSupport is single-valued: taxis to school and therapeutic support give therapeutic support."""
    _children(8)
    auth.sign_in(data_officer())
    response = client.get("/market/extract.csv")
    rows = _rows(response)
    check_against_the_standard(next(csv.reader(io.StringIO(response.get_data(as_text=True)))), rows)
    assert {r["additionalSupport"] for r in rows} == {"therapeutic support"}
    assert {r["needs"] for r in rows} == {"therapeutic support;taxis to school"}
    assert {r["risks"] for r in rows} == {"riskMissing"} and {r["communicationNeeds"] for r in rows} == {"N"}
    # No school recorded for these children: continuity is not claimed.
    assert {r["educationContinuity"] for r in rows} == {"false"}
    assert {r["preferredLocation"] for r in rows} == {"CV1"} and {r["placementLocation"] for r in rows} == {"CV2"}
    month = date.today() - timedelta(3)
    assert {r["placementPeriod"] for r in rows} == {f"{month:%Y-%m}"}
    assert {r["placementDate"] for r in rows} == {f"{month:%Y-%m}-01"}


def test_support_rule_in_order():
    assert ex._highest_support(["school_transport", "respite_worker"], None) == "a worker for respite"
    assert ex._highest_support(["additional_supervision", "therapeutic_support"], None) == "therapeutic support"
    assert ex._highest_support(["esol"], "A mentor") == "other (please specify)"
    assert ex._highest_support([], "  ") == "NA"


# ----------------------------------------------------------------------------------- on the demo region

def _demo_app(tmp_path, template: str, scale: str):
    path = tmp_path / f"{scale}.sqlite3"
    shutil.copyfile(template, path)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "test",
                      "WTF_CSRF_ENABLED": False})
    from portal.demo.services import load_demo
    from portal.unit_of_work import unit_of_work

    with app.app_context():
        with unit_of_work():
            load_demo(db.session, seed=2026, scale=scale)
    return app


def _build(app, k: int = ex.K) -> ex.Extract:
    with app.app_context():
        codes = set(db.session.scalars(text("SELECT code FROM local_authority")))
        f = parse_filters({}, user_la=None, la_codes=codes, today=date.today())
        return ex.build_extract(f, k=k)


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory, sqlite_template):
    app = _demo_app(tmp_path_factory.mktemp("extract"), sqlite_template, "small")
    yield app
    app.extensions["portal_db"][0].dispose()


def test_the_demo_extract_keeps_to_the_standard_exact_and_generalised(small_demo):
    """k = 1 keeps every value at its most precise (every option the data can produce); k = 8 the generalised."""
    exact = _build(small_demo, k=1)
    assert exact.suppressed == 0 and len(exact.rows) == exact.placements > 100
    rows = [dict(zip(exact.header, row)) for row in exact.rows]
    check_against_the_standard(exact.header, rows)
    assert {r["educationContinuity"] for r in rows} == {"true", "false"}
    assert len({r["additionalSupport"] for r in rows}) >= 4 and len({r["placementType"] for r in rows}) == 3
    generalised = _build(small_demo)
    check_against_the_standard(generalised.header, [dict(zip(generalised.header, r)) for r in generalised.rows])


def _assert_k_anonymous(extract: ex.Extract) -> None:
    rows = [dict(zip(extract.header, row)) for row in extract.rows]
    for columns in (ISSUE_QUASI_IDENTIFIERS, ex.QUASI_IDENTIFIER_COLUMNS):
        sizes = equivalence_classes(rows, columns)
        assert sizes and min(sizes.values()) >= 8, columns
    assert extract.placements == len(extract.rows) + extract.suppressed + extract.not_in_standard


def test_the_small_demo_extract_is_8_anonymous(small_demo):
    _assert_k_anonymous(_build(small_demo))


@pytest.mark.slow
def test_the_region_demo_extract_is_8_anonymous_and_keeps_most_rows(tmp_path, sqlite_template):
    """About the real region: 7,000 placements a year. Every class of the quasi-identifiers holds 8 or more
    rows, and the suppression stays small."""
    app = _demo_app(tmp_path, sqlite_template, "region")
    try:
        extract = _build(app)
    finally:
        app.extensions["portal_db"][0].dispose()
    assert extract.placements > 5000
    _assert_k_anonymous(extract)
    assert extract.suppressed < 0.06 * extract.placements
    rows = [dict(zip(extract.header, row)) for row in extract.rows]
    check_against_the_standard(extract.header, rows)
    # Not everything at its widest: the walk keeps detail where 8 children share it.
    assert any(level != "12 months" for levels in extract.levels.values() for level in (levels["dates"],))
