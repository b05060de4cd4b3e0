"""Names, not codes (issue 11 §5): every page and CSV names each organisation, local authority and setting as
people know it, never "provider:<id>", a record id or an ONS code; codes only where the code is the point (SSDA903
fields, a setting's id for the CSV upload), and every CSV keeps its code columns with a name column next to each."""

from __future__ import annotations

import csv
import io
import re

import pytest
from bs4 import BeautifulSoup

from tests.factories import COVENTRY, create_provider, create_referral, create_request, create_user
from tests.test_url_map import walk  # noqa: F401  (the URL walk's world, every actor signed in once: a fixture)


def test_the_access_log_and_the_audit_name_organisations(client, auth, db_session):
    officer = create_user("officer")
    provider = create_provider(name="Arden Fostering")
    provider_user = create_user("provider", provider=provider)
    req = create_request(officer)
    referral = create_referral(req, provider)
    auth.sign_in(provider_user)
    assert client.get(f"/provider/referrals/{referral.id}").status_code == 200
    auth.sign_out()
    auth.sign_in(officer)
    page = client.get(f"/requests/{req.id}/access").get_data(as_text=True)
    assert "Arden Fostering" in page and "Coventry" in page
    assert f"provider:{provider.id}" not in page and "la:E08000026" not in page and "E08000026" not in page
    auth.sign_out()

    auth.sign_in(create_user("admin", la_code=None))
    page = client.get("/admin/audit").get_data(as_text=True)
    table = page.split('<table', 1)[1]
    assert "Arden Fostering" in table and f"provider:{provider.id}" not in table and "la:E08000026" not in table
    rows = list(csv.DictReader(io.StringIO(client.get("/admin/audit.csv").get_data(as_text=True))))
    mine = [row for row in rows if row["organisation"] == f"provider:{provider.id}"]
    assert mine and all(row["organisation_name"] == "Arden Fostering" for row in mine)


def test_the_audit_trail_names_the_records_it_can_and_a_childs_only_by_its_id(client, auth, db_session):
    """An event about a provider, a person, a setting or an LA's data extract names it (on the page and in the
    CSV's record_name column, next to the id); a child's record is only ever its id, shown as a code."""
    from tests.market.test_market_extract import _children, data_officer

    _children(8)
    extractor = data_officer(la_code=COVENTRY)
    provider = create_provider(name="Newfield Homes", status="pending")
    officer = create_user("officer", name="Olivia Officer")
    req = create_request(officer, first_name="Zephyrine")
    auth.sign_in(extractor)
    rows = list(csv.DictReader(io.StringIO(client.get("/market/extract.csv").get_data(as_text=True))))
    assert rows and {(r["localAuthority"], r["localAuthorityName"]) for r in rows} == {(COVENTRY, "Coventry")}
    auth.sign_out()
    admin = create_user("admin", la_code=None)
    auth.sign_in(admin)
    assert client.post(f"/admin/providers/{provider.id}/decision",
                       data={"decision": "approve", "reason": ""}).status_code == 302
    auth.sign_out()
    auth.sign_in(officer)
    client.get(f"/requests/{req.id}")
    auth.sign_out()
    auth.sign_in(admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    table = BeautifulSoup(page, "html.parser").find(attrs={"data-testid": "audit-table"})
    text = table.get_text(" ")
    assert "Newfield Homes" in text and "Coventry" in text and COVENTRY not in text
    assert table.find("code", string=req.id) is not None and "Zephyrine" not in page
    exported = list(csv.DictReader(io.StringIO(client.get("/admin/audit.csv").get_data(as_text=True))))
    named = {(r["record_type"], r["record_id"]): r["record_name"] for r in exported}
    assert named[("provider", provider.id)] == "Newfield Homes"
    assert named[("market_extract", COVENTRY)] == "Coventry"
    assert named[("placement_request", req.id)] == ""
    assert list(exported[0])[8:10] == ["record_id", "record_name"]


# ------------------------------------------------------------------------------ every page and CSV of every role

# A code shown where a name belongs: an ONS area code (Coventry E08000026), a record id (32 hex digits), or the
# audit trail's own organisation keys. Inside <code> a code is the point (a setting's id for the CSV upload).
ONS_CODE = re.compile(r"\b[EWSN]\d{8}\b")
RECORD_ID = re.compile(r"\b[0-9a-f]{32}\b")
ORGANISATION_KEY = re.compile(r"\b(?:provider|la):\S+")
# Extra addresses beyond the URL map's own: the market pages for one LA (the filter's own label).
MARKET_PAGES = ("/market/", "/market/demand", "/market/supply", "/market/gaps", "/market/prices", "/market/distance",
                "/market/outcomes", "/market/responses", "/market/shape", "/market/summary")
# CSV columns whose codes are the point and that have no name to add: a vacancy's id (the upload's key), the
# extract's row number, and the audit trail's detail (codes and counts only, by design: never a name).
CODE_ONLY_COLUMNS = {"vacancy_id", "childId", "detail"}


def codes_shown(html: str) -> list[str]:
    """Codes in what a person reads on a page (text and the labels of choices; not addresses, ids or values of
    attributes, and not <code> elements)."""
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup.find_all(["script", "style", "code", "svg"]):
        hidden.decompose()
    text = soup.get_text(" ")
    return sorted({*ONS_CODE.findall(text), *RECORD_ID.findall(text), *ORGANISATION_KEY.findall(text)})


def csv_problems(document: str) -> list[str]:
    """Every column of codes without a column next to it (before or after) naming them (`<column>_name`,
    `<stem>_name` for `<stem>_id` / `<stem>_code`, `<column>Name`), and every code in the text of another column."""
    rows = list(csv.reader(io.StringIO(document.lstrip("\ufeff"))))
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    problems = []
    for index, column in enumerate(header):
        values = [row[index] for row in body if len(row) > index and row[index]]
        coded = [v for v in values if ONS_CODE.fullmatch(v) or RECORD_ID.fullmatch(v) or ORGANISATION_KEY.fullmatch(v)]
        if not coded:
            stray = [v for v in values if ONS_CODE.search(v) or ORGANISATION_KEY.search(v)]
            if stray:
                problems.append(f"column {column!r} shows codes in its text: {stray[:3]}")
            continue
        if column in CODE_ONLY_COLUMNS:
            continue
        stem = re.sub(r"_(id|code)$", "", column)
        names = {f"{column}_name", f"{stem}_name", f"{column}Name"}
        beside = {header[i] for i in (index - 1, index + 1) if 0 <= i < len(header)}
        if not beside & names:
            problems.append(f"column {column!r} holds codes ({coded[:2]}) with no name column next to it "
                            f"(one of {sorted(names)}); beside it: {sorted(beside)}")
    return problems


def _pages_of(walk) -> list[tuple[str, str]]:
    """(actor, path) for every GET page each actor may open, as the URL walk fills the URL map."""
    from tests.test_url_map import _paths, _rules, expectation
    from tests.url_map_world import ACTORS

    out = []
    for endpoint, rules in _rules().items():
        for rule in rules:
            if "GET" not in rule.methods:
                continue
            for path in _paths(walk, rule):
                out += [(actor, path) for actor in ACTORS
                        if expectation(walk.app, rule, actor, walk.world) in ("allowed", "public")]
    out += [(actor, f"{page}?la={COVENTRY}") for page in MARKET_PAGES for actor in ("admin", "commissioner_la")]
    return out


def test_no_page_or_csv_of_any_role_shows_a_code_where_a_name_belongs(walk):
    """Every page each role may open (and every CSV those pages link to) names organisations, local authorities
    and settings; a CSV keeps its code columns for integrators, with a name column next to each."""
    problems, seen_csv, pages, files = [], set(), 0, 0
    for actor, path in _pages_of(walk):
        response = walk.clients[actor].get(path)
        if 300 <= response.status_code < 400:
            continue
        body = response.get_data(as_text=True)
        if response.mimetype == "text/csv":
            files += 1
            problems += [f"{path} as {actor}: {p}" for p in csv_problems(body)]
            continue
        if response.mimetype != "text/html":
            continue
        pages += 1
        shown = codes_shown(body)
        if shown:
            problems.append(f"{path} as {actor} shows {shown}")
        for link in set(re.findall(r'href="([^"]+\.csv[^"]*)"', body)):
            link = link.replace("&amp;", "&")
            if (actor, link) in seen_csv:
                continue
            seen_csv.add((actor, link))
            download = walk.clients[actor].get(link)
            if download.status_code == 200:
                files += 1
                problems += [f"{link} as {actor}: {p}" for p in csv_problems(download.get_data(as_text=True))]
    assert pages > 100 and files > 20, (pages, files)  # the walk did reach the pages and the downloads
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_code_checks_find_codes():
    """The checks above would see what they look for."""
    assert codes_shown(f"<p>From E08000026</p><a href='/x/{'a' * 32}'>Willow</a>") == ["E08000026"]
    assert codes_shown(f"<td>provider:{'b' * 32}</td><code>{'c' * 32}</code>") == ["b" * 32, f"provider:{'b' * 32}"]
    assert codes_shown("<option value='E08000026'>Coventry</option>") == []
    assert csv_problems("la_code,la_name\r\nE08000026,Coventry\r\n") == []
    assert csv_problems("Local authority,Requests\r\nE08000026,4\r\n")
    assert csv_problems("organisation,when\r\nla:E08000026,today\r\n")
    assert csv_problems(f"vacancy_id,setting_id,setting_name\r\n{'a' * 32},{'b' * 32},Willow\r\n") == []
    assert csv_problems(f"\ufeffuser_name,user_id\r\nAda,{'a' * 32}\r\n") == []
    assert csv_problems(f"setting_id,ofsted_urn,setting_name\r\n{'b' * 32},SC1,Willow\r\n")
