"""The regional administrator searches and exports the audit trail (issue 15 §8): by user, record, organisation,
action, outcome and date (UK days); 50 to a page, newest first; bad filters are field errors (422) with the input
kept; the CSV export has the same filters, is capped, and is itself audited; nobody else may see any of it."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.models import AuditEvent
from tests.factories import BIRMINGHAM, COVENTRY, create_provider, create_user
from tests.pages import get_page

T0 = datetime(2026, 6, 30, 12, 0, tzinfo=timezone.utc)


def _event(db_session, *, at=T0, user=None, action="view", record_type="placement_request", record_id="r1",
           outcome="allowed", organisation=None, user_name=None, source="192.0.2.1", detail=None):
    event = AuditEvent(at=at, user_id=user.id if user else None, user_name=user_name or (user.name if user else None),
                       role=user.role if user else None,
                       organisation=organisation or (user.organisation if user else None), action=action,
                       record_type=record_type, record_id=record_id, outcome=outcome, source_address=source,
                       detail=detail)
    db_session.add(event)
    db_session.commit()
    return event


@pytest.fixture
def people(db_session):
    provider = create_provider(name="Arden Fostering")
    return {
        "admin": create_user("admin", la_code=None, name="Hana Hub", email="hana.hub@wm.example"),
        "coventry": create_user("officer", la_code=COVENTRY, name="Olivia Officer", email="olivia@coventry.example"),
        "birmingham": create_user("officer", la_code=BIRMINGHAM, name="Bilal Brum", email="bilal@brum.example"),
        "provider": create_user("provider", provider=provider, name="Pat Provider", email="pat@arden.example"),
        "provider_org": provider,
    }


def _rows(page) -> list[list[str]]:
    return page.table_rows("audit-table")


def _search(client, query: str, status: int = 200):
    return get_page(client, f"/admin/audit?{query}", status=status)


def test_only_the_regional_administrator_sees_the_audit(client, auth, db_session, people):
    for role in ("coventry", "provider"):
        auth.sign_in(people[role])
        assert client.get("/admin/audit").status_code == 403
        assert client.get("/admin/audit.csv").status_code == 403
        auth.sign_out()
    auth.sign_in(create_user("commissioner", la_code=None))
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403
    auth.sign_out()
    response = client.get("/admin/audit.csv")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert not db_session.scalars(select(AuditEvent).where(AuditEvent.action == "export_audit")).all()
    auth.sign_in(people["admin"])
    page = get_page(client, "/admin/audit")
    assert page.h1 == "Audit trail"
    assert [a["href"] for a in page.select("#navigation a") if a.get_text(strip=True) == "Audit"] == ["/admin/audit"]


def test_the_page_shows_each_events_details_newest_first(client, auth, db_session, people):
    _event(db_session, user=people["coventry"], record_id="a" * 32, at=T0)
    _event(db_session, user=people["birmingham"], record_id="a" * 32, outcome="refused", at=T0 + timedelta(hours=1),
           action="view_request", source="198.51.100.7")
    auth.sign_in(people["admin"])
    rows = _rows(_search(client, "record_type=placement_request"))
    assert rows == [
        ["30 June 2026 at 2:00pm", "Bilal Brum (Placement officer)", "Birmingham", "view_request",
         f"placement_request {'a' * 32}", "refused", "198.51.100.7"],
        ["30 June 2026 at 1:00pm", "Olivia Officer (Placement officer)", "Coventry", "view",
         f"placement_request {'a' * 32}", "allowed", "192.0.2.1"],
    ]


@pytest.mark.parametrize("query, expected", [
    ("user=OLIVIA", {"coventry"}),  # part of the name, any case
    ("user=brum.example", {"birmingham"}),  # part of the email address
    ("user=%25", set()),  # a % is a character, not a wildcard
    ("user=Renamed", {"renamed"}),  # the name recorded at the time
    ("user=pat@arden", {"provider", "renamed"}),  # the account as it is now, whatever name was recorded
    ("record_id=r2", {"birmingham"}),
    ("record_type=provider", {"provider"}),
    ("record_type=placement_request&record_id=r1", {"coventry", "renamed"}),
    ("action=export_table_csv", {"provider"}),
    ("outcome=refused", {"birmingham"}),
    (f"organisation=la:{BIRMINGHAM}", {"birmingham"}),
    ("organisation=region", {"hub"}),
    ("user=olivia&outcome=refused", set()),
])
def test_each_filter_narrows_the_events(client, auth, db_session, people, query, expected):
    seeded = {
        "coventry": _event(db_session, user=people["coventry"], record_id="r1"),
        "birmingham": _event(db_session, user=people["birmingham"], record_id="r2", outcome="refused"),
        "provider": _event(db_session, user=people["provider"], record_type="provider",
                           record_id=people["provider_org"].id, action="export_table_csv"),
        "renamed": _event(db_session, user=people["provider"], user_name="Renamed Person", record_id="r1",
                          organisation="provider:old"),
        "hub": _event(db_session, user=people["admin"], action="approve_provider", record_type="provider_approval"),
    }
    auth.sign_in(people["admin"])
    page = _search(client, f"{query}&date_from=30&date_from=6&date_from=2026&date_to=30&date_to=6&date_to=2026")
    shown = {row.get("data-event") for row in page.select("[data-testid=audit-table] tbody tr")}
    assert shown == {str(seeded[name].id) for name in expected}
    if not expected:
        assert page.testid("no-events") == "No events match these filters."


def test_dates_are_uk_days_and_both_ends_are_included(client, auth, db_session, people):
    # 23:30 UTC on 30 June is 00:30 on 1 July in the UK (BST); 23:30 UTC on 1 July is 00:30 on 2 July.
    events = {label: _event(db_session, user=people["coventry"], at=at, action="dated") for label, at in {
        "30 June": datetime(2026, 6, 30, 22, 59, tzinfo=timezone.utc),
        "1 July early": datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc),
        "1 July late": datetime(2026, 7, 1, 22, 59, tzinfo=timezone.utc),
        "2 July": datetime(2026, 7, 1, 23, 30, tzinfo=timezone.utc),
    }.items()}
    auth.sign_in(people["admin"])

    def shown(query):
        page = _search(client, f"action=dated&{query}")
        return {row.get("data-event") for row in page.select("[data-testid=audit-table] tbody tr")}

    assert shown("date_from=1&date_from=7&date_from=2026&date_to=1&date_to=7&date_to=2026") == {
        str(events["1 July early"].id), str(events["1 July late"].id)}
    assert shown("date_from=2&date_from=7&date_from=2026") == {str(events["2 July"].id)}
    assert shown("date_to=30&date_to=6&date_to=2026") == {str(events["30 June"].id)}


@pytest.mark.parametrize("query, field, message", [
    ("date_from=31&date_from=2&date_from=2026", "date_from", "Enter the 'from' date as a real date, like 1 12 2026"),
    ("date_from=&date_from=2&date_from=2026", "date_from", "Enter the 'from' date as a real date, like 1 12 2026"),
    ("date_to=1&date_to=x&date_to=2026", "date_to", "Enter the 'to' date as a real date, like 31 12 2026"),
    ("date_from=2&date_from=7&date_from=2026&date_to=1&date_to=7&date_to=2026", "date_to",
     "The 'to' date must be the same as or after the 'from' date"),
    ("organisation=la:E99999999", "organisation", "Not a valid choice."),
    ("outcome=maybe", "outcome", "Not a valid choice."),
    ("user=Ol%00ivia", "user", "Remove the control characters from User"),
    ("record_id=" + "x" * 65, "record_id", "Enter at most 64 characters"),
])
def test_bad_filters_are_field_errors_with_the_input_kept(client, auth, db_session, people, query, field, message):
    _event(db_session, user=people["coventry"])
    auth.sign_in(people["admin"])
    page = _search(client, f"{query}&action=view", status=422)
    assert page.title.startswith("Error: ")
    assert page.errors == [message]
    assert page.value("action") == "view"  # what was typed is kept
    assert page.select("[data-testid=audit-table]") == []
    assert client.get(f"/admin/audit.csv?{query}").status_code == 422
    assert not db_session.scalars(select(AuditEvent).where(AuditEvent.action == "export_audit")).all()


def test_a_half_typed_date_keeps_what_was_typed(client, auth, db_session, people):
    auth.sign_in(people["admin"])
    page = _search(client, "date_from=31&date_from=2&date_from=2026", status=422)
    boxes = [box.get("value") for box in page.select("input[name=date_from]")]
    assert boxes == ["31", "2", "2026"]


def test_events_are_paged_fifty_at_a_time_keeping_the_filters(client, auth, db_session, people):
    for n in range(120):
        _event(db_session, user=people["coventry"], action="paged", record_id=f"r{n:03d}",
               at=T0 + timedelta(minutes=n))
    auth.sign_in(people["admin"])
    page = _search(client, "action=paged")
    ids = [row[4].split()[-1] for row in _rows(page)]
    assert ids == [f"r{n:03d}" for n in range(119, 69, -1)]  # the 50 newest, newest first
    next_url = page.soup.select_one(".govuk-pagination__next a")["href"]
    assert "action=paged" in next_url and "page=2" in next_url
    assert page.soup.select_one(".govuk-pagination__prev") is None
    page = get_page(client, next_url)
    assert [row[4].split()[-1] for row in _rows(page)] == [f"r{n:03d}" for n in range(69, 19, -1)]
    page = get_page(client, page.soup.select_one(".govuk-pagination__next a")["href"])
    assert [row[4].split()[-1] for row in _rows(page)] == [f"r{n:03d}" for n in range(19, -1, -1)]
    assert page.soup.select_one(".govuk-pagination__next") is None
    assert "page=2" in page.soup.select_one(".govuk-pagination__prev a")["href"]
    assert _rows(_search(client, "action=paged&page=nonsense"))[0][4].endswith("r119")  # a bad page is page 1


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=audit.csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_export_has_the_same_filters_and_is_itself_audited(client, auth, db_session, people):
    _event(db_session, user=people["coventry"], record_id="r1", at=T0)
    _event(db_session, user=people["birmingham"], record_id="r2", outcome="refused", at=T0 + timedelta(hours=1),
           detail="endpoint:requests.detail")
    _event(db_session, user=people["provider"], user_name="=SUM(A1:A9)", record_type="setting", record_id="r3",
           at=T0 + timedelta(hours=2))
    auth.sign_in(people["admin"])
    query = "record_type=placement_request&date_from=30&date_from=6&date_from=2026"
    page = _search(client, query)
    assert page.testid("audit-csv").startswith("Download these events (CSV)")
    link = page.soup.select_one("[data-testid=audit-csv]")["href"]
    assert link.startswith("/admin/audit.csv?") and "record_type=placement_request" in link and "date_from=30" in link
    rows = _csv(client.get(link))
    assert rows[0] == ["time_utc", "user_name", "user_id", "role", "organisation", "organisation_name", "action",
                       "record_type", "record_id", "record_name", "outcome", "source_address", "detail"]
    assert rows[1:] == [  # a child's record has no name here: the hub never sees children
        ["2026-06-30T13:00:00+00:00", "Bilal Brum", people["birmingham"].id, "officer", f"la:{BIRMINGHAM}",
         "Birmingham", "view", "placement_request", "r2", "", "refused", "192.0.2.1", "endpoint:requests.detail"],
        ["2026-06-30T12:00:00+00:00", "Olivia Officer", people["coventry"].id, "officer", f"la:{COVENTRY}",
         "Coventry", "view", "placement_request", "r1", "", "allowed", "192.0.2.1", ""],
    ]
    everything = _csv(client.get("/admin/audit.csv?record_type=setting"))
    assert ["'=SUM(A1:A9)"] == [row[1] for row in everything if row[8] == "r3"]  # made inert
    exports = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "export_audit")
                                 .order_by(AuditEvent.id)).all()
    assert [(e.user_id, e.record_type, e.outcome, e.source_address) for e in exports] == [
        (people["admin"].id, "audit_event", "allowed", "127.0.0.1")] * 2
    assert exports[0].detail == "filters:record_type,date_from;max_rows:100000"  # names, never the values searched
    # The exports appear in the trail they export.
    assert [row[6] for row in _csv(client.get("/admin/audit.csv?action=export_audit"))[1:]] == ["export_audit"] * 3


def test_the_export_is_capped(client, auth, db_session, people, monkeypatch):
    from portal.admin import views

    monkeypatch.setattr(views, "AUDIT_EXPORT_MAX_ROWS", 3)
    for n in range(5):
        _event(db_session, user=people["coventry"], action="capped", record_id=f"r{n}", at=T0 + timedelta(minutes=n))
    auth.sign_in(people["admin"])
    rows = _csv(client.get("/admin/audit.csv?action=capped"))
    assert [row[8] for row in rows[1:]] == ["r4", "r3", "r2"]
    export = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "export_audit")).one()
    assert export.detail == "filters:action;max_rows:3"


def test_a_large_export_is_streamed_in_pieces(client, auth, db_session, people):
    db_session.add_all([AuditEvent(at=T0 + timedelta(seconds=n), action="bulk", record_type="placement_request",
                                   record_id=f"r{n}", outcome="allowed") for n in range(1200)])
    db_session.commit()
    auth.sign_in(people["admin"])
    response = client.get("/admin/audit.csv?action=bulk", buffered=False)
    pieces = list(response.response)
    response.close()
    assert len(pieces) >= 3  # written out as it is read, 500 rows at a time
    assert sum(piece.count(b"\r\n") for piece in pieces) == 1201
