"""Lists that scale (issue 11 §4): every list is paged with its total, in a stable order, and nothing is cut.

One contract, checked for every list of the portal (`LISTS`), with pages made small (3 rows) and 7 rows to list:
every row is on exactly one page, each page says which rows it shows of how many, the pagination says where it is,
and bad paging, sorting and filter parameters are answered with a page (the first page, the last page, the default
order, no filter), never an error. Then the orders themselves (ties kept in place across pages), the filters,
and lists of more than 50 and more than 500 rows at the real page size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from portal import listing
from portal.db import db, utcnow
from portal.models import AuditEvent, PlacementRequest, User
from tests.factories import (
    COVENTRY, create_offer, create_provider, create_referral, create_request, create_setting,
    create_user, create_vacancy,
)
from tests.pages import Page, get_page, post_page

ROWS = 7
PER_PAGE = 3  # so 7 rows make pages of 3, 3 and 1


@dataclass
class Case:
    user: User
    url: str  # the list's address (may hold a query string already)
    table: str  # the data-testid of the table (or list) the rows are in
    plural: str  # how the count names the rows: "Showing 1 to 3 of 7 <plural>"
    param: str = "page"  # the page's name in the query string


def _bulk_requests(officer: User, n: int, **values) -> list[PlacementRequest]:
    """`n` searching requests of the officer's LA in one commit (the factory commits each one)."""
    rows = [PlacementRequest(
        la_code=officer.la_code, created_by_id=officer.id, status=values.get("status", "searching"),
        child_reference=f"LIST-{officer.la_code}-{i:04d}", first_name=f"Kid{i:04d}", last_name=values.get("last_name", "Lister"),
        date_of_birth=date(2014, 1, 1), sex="female", home_postcode="CV1 2AB", home_easting=433000,
        home_northing=279000, urgency=values.get("urgency", "within_5_days"),
        needed_by=values.get("needed_by", date.today() + timedelta(days=3 + i % 5)), submitted_at=utcnow(),
    ) for i in range(n)]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def _requests():
    officer = create_user("officer")
    _bulk_requests(officer, ROWS)
    return Case(officer, "/requests/", "requests-table", "requests")


def _placements():
    from tests.placements.placement_factories import create_offer_placement

    officer = create_user("officer")
    provider = create_provider(name="Arden Fostering")
    manager = create_user("provider", provider=provider, provider_role="manager")
    for i in range(ROWS):
        create_offer_placement(officer, provider=provider, provider_user=manager, first_name=f"Placed{i}")
    return Case(officer, "/placements/", "placements-table", "placements")


def _inbox():
    officer = create_user("officer")
    provider = create_provider(name="Arden Fostering")
    for req in _bulk_requests(officer, ROWS):
        create_referral(req, provider)
    return Case(create_user("provider", provider=provider, provider_role="staff"), "/provider/", "referrals-table",
                "referrals")


def _provider_offers():
    officer = create_user("officer")
    provider = create_provider(name="Arden Fostering")
    vacancy = create_vacancy(create_setting(provider, name="Willow household"), places=3)
    for req in _bulk_requests(officer, ROWS):
        create_offer(create_referral(req, provider), vacancy)
    return Case(create_user("provider", provider=provider), "/provider/offers", "offers-table", "offers")


def _settings():
    provider = create_provider()
    for i in range(ROWS):
        create_setting(provider, name=f"Home {i:02d}")
    return Case(create_user("provider", provider=provider), "/provider/settings", "settings-table", "settings")


def _vacancies(status: str, url: str):
    def build():
        provider = create_provider()
        setting = create_setting(provider, name="Willow household")
        for i in range(ROWS):
            create_vacancy(setting, status=status, available_from=date.today() + timedelta(days=i))
        return Case(create_user("provider", provider=provider), url.format(setting=setting.id),
                    "setting-vacancies" if "settings" in url else "vacancies-table", "vacancies")
    return build


def _provider_users():
    provider = create_provider()
    admin = create_user("provider", provider=provider, name="Ada Admin")
    for i in range(ROWS - 1):
        create_user("provider", provider=provider, provider_role="staff", name=f"Staff {i}")
    return Case(admin, "/provider/users", "users-table", "people")


def _people():
    admin = create_user("admin", la_code=None, name="Hana Hub")
    for i in range(ROWS - 1):
        create_user("officer", name=f"Officer {i}")
    return Case(admin, "/admin/people", "people", "people")


def _providers(status: str, table: str, param: str):
    def build():
        for i in range(ROWS):
            create_provider(name=f"Care {i}", status=status)
        return Case(create_user("admin", la_code=None), "/admin/", table, "registrations" if status == "pending"
                    else "providers", param)
    return build


def _audit():
    admin = create_user("admin", la_code=None)
    db.session.add_all([AuditEvent(user_id=admin.id, user_name=admin.name, role="admin", organisation="region",
                                   record_type="test", record_id=str(i), action="listed") for i in range(ROWS)])
    db.session.commit()
    return Case(admin, "/admin/audit?action=listed", "audit-table", "events")


def _not_eligible():
    officer = create_user("officer")
    req = create_request(officer, age=12)
    provider = create_provider()
    for i in range(ROWS):  # homes for young children only: none can take a 12-year-old
        create_vacancy(create_setting(provider, name=f"Little home {i}", age_min=0, age_max=5))
    return Case(officer, f"/requests/{req.id}/not-eligible", "not-eligible", "homes")


def _request_offers():
    officer = create_user("officer")
    req = create_request(officer)
    for i in range(ROWS):
        provider = create_provider(name=f"Offerer {i}")
        create_offer(create_referral(req, provider), create_vacancy(create_setting(provider, name=f"Home {i}")))
    return Case(officer, f"/requests/{req.id}", "offers-table", "offers", "offers_page")


def _request_referrals():
    officer = create_user("officer")
    req = create_request(officer)
    for i in range(ROWS):
        create_referral(req, create_provider(name=f"Referred {i}"))
    return Case(officer, f"/requests/{req.id}", "referrals-list", "providers", "referrals_page")


LISTS = {
    "requests": _requests, "placements": _placements, "referral inbox": _inbox, "provider offers": _provider_offers,
    "settings": _settings, "vacancies open and held": _vacancies("open", "/provider/vacancies"),
    "vacancies filled and withdrawn": _vacancies("withdrawn", "/provider/vacancies?show=closed"),
    "a setting's vacancies": _vacancies("filled", "/provider/settings/{setting}"),
    "provider users": _provider_users, "admin people": _people,
    "providers waiting for approval": _providers("pending", "pending-providers", "pending_page"),
    "providers decided": _providers("approved", "decided-providers", "page"), "audit trail": _audit,
    "why not these homes": _not_eligible, "a request's offers": _request_offers,
    "a request's referrals": _request_referrals,
}


def _row_keys(page: Page, table: str) -> list[str]:
    """Each row's identity: its data-* record id if it has one, else its text (rows are made with unique names)."""
    found = page.table(table)
    if found is None:
        return []
    if found.name == "ul":
        return [re.sub(r"\s+", " ", li.get_text(" ")).strip() for li in found.find_all("li", recursive=False)]
    body = found.find("tbody") or found
    keys = []
    for row in body.find_all("tr"):
        ids = [value for name, value in row.attrs.items() if name.startswith("data-")]
        keys.append(ids[0] if ids else re.sub(r"\s+", " ", row.get_text(" ")).strip())
    return keys


def _with(url: str, **args) -> str:
    return url + ("&" if "?" in url else "?") + "&".join(f"{k}={v}" for k, v in args.items())


@pytest.mark.parametrize("name", list(LISTS))
def test_every_list_is_paged_with_its_total_and_answers_bad_parameters(client, auth, db_session, monkeypatch, name):
    monkeypatch.setattr(listing, "PER_PAGE", PER_PAGE)
    case = LISTS[name]()
    auth.sign_in(case.user)
    pages = [get_page(client, _with(case.url, **{case.param: number})) for number in (1, 2, 3)]
    rows = [_row_keys(page, case.table) for page in pages]
    assert [len(r) for r in rows] == [3, 3, 1], rows
    assert len(set(sum(rows, []))) == ROWS  # every row once: none cut, none twice
    for number, page in enumerate(pages, start=1):
        assert page.pagination() == (number, 3)
        first = (number - 1) * PER_PAGE + 1
        assert f"Showing {first} to {min(first + 2, ROWS)} of {ROWS} {case.plural}" in page.text
    first_page = rows[0]
    # A page that is not a whole number from 1 to 100,000 is the first page; one past the end is the last.
    for bad in ("abc", "0", "-2", "1.5", "%20", "100001", "9" * 30):
        assert _row_keys(get_page(client, _with(case.url, **{case.param: bad})), case.table) == first_page, bad
    assert _row_keys(get_page(client, _with(case.url, **{case.param: "99999"})), case.table) == rows[2]
    # An order the list does not offer is its default order; a filter it does not offer is no filter, except on
    # the referral inbox, whose filters are a form of choices: there a value not among them is a 400 naming it.
    assert _row_keys(get_page(client, _with(case.url, sort="evil")), case.table) == first_page
    evil = dict(status="evil", show="evil", role="evil", kind="evil", setting="evil", urgency="evil")
    if name == "referral inbox":
        refused = get_page(client, _with(case.url, **evil), status=400)
        assert "Choose a status from the list" in refused.text and not refused.table_rows(case.table)
        evil = {}
    tampered = get_page(client, _with(case.url, sort="evil", **evil))
    assert _row_keys(tampered, case.table) == first_page


def test_requests_sort_by_every_column_and_ties_keep_their_places_across_pages(client, auth, db_session,
                                                                                monkeypatch):
    """Seven children needed on the same day: sorted by needed-by, the pages hold each once, tied rows in id order
    (the reverse when sorted the other way), and asking again gives the same pages."""
    monkeypatch.setattr(listing, "PER_PAGE", PER_PAGE)
    officer = create_user("officer")
    same_day = date.today() + timedelta(days=4)
    by_id = sorted(_bulk_requests(officer, ROWS, needed_by=same_day), key=lambda r: r.id)
    auth.sign_in(officer)

    def listed(sort: str) -> list[str]:
        out = []
        for number in (1, 2, 3):
            page = get_page(client, f"/requests/?sort={sort}&page={number}")
            out += [row[1] for row in page.table_rows("requests-table")]  # the reference column
        return out

    ascending = listed("needed_by")
    assert ascending == [r.child_reference for r in by_id] and listed("needed_by") == ascending
    assert listed("-needed_by") == ascending[::-1]
    page = get_page(client, "/requests/?sort=needed_by")
    assert page.sorted_by("requests-table") == ("Needed by", "ascending")
    assert page.find("a", href=re.compile(r"sort=-needed_by"))  # the header now sorts the other way
    assert "sort=needed_by" in page.hrefs(r"page=2")[0]  # the pages keep the order


def test_requests_orders(client, auth, db_session):
    officer = create_user("officer")
    made = {
        "Zola Adams": create_request(officer, first_name="Zola", last_name="Adams", urgency="over_5_days",
                                     needed_in_days=9),
        "Ann Young": create_request(officer, first_name="Ann", last_name="Young", urgency="today", needed_in_days=0),
        "Bea Moss": create_request(officer, first_name="Bea", last_name="moss", urgency="within_5_days",
                                   needed_in_days=2),
    }
    draft = create_request(officer, first_name="Dee", last_name="Draft", status="draft")
    draft.urgency, draft.needed_by = None, None
    db_session.commit()
    made["Ann Young"].notes = "changed last"
    db_session.commit()
    auth.sign_in(officer)

    def names(sort: str | None = None) -> list[str]:
        page = get_page(client, "/requests/" + (f"?sort={sort}" if sort else ""))
        return [row[0] for row in page.table_rows("requests-table")]

    assert names() == ["Dee Draft", "Bea moss", "Ann Young", "Zola Adams"]  # newest first
    assert names("child") == ["Zola Adams", "Dee Draft", "Bea moss", "Ann Young"]  # by last name, any case
    assert names("-child") == ["Ann Young", "Bea moss", "Dee Draft", "Zola Adams"]
    assert names("urgency") == ["Ann Young", "Bea moss", "Zola Adams", "Dee Draft"]  # no urgency yet: last
    assert names("-urgency") == ["Zola Adams", "Bea moss", "Ann Young", "Dee Draft"]
    assert names("needed_by") == ["Ann Young", "Bea moss", "Zola Adams", "Dee Draft"]  # no date yet: last
    assert names("-needed_by") == ["Zola Adams", "Bea moss", "Ann Young", "Dee Draft"]
    assert names("-updated")[0] == "Ann Young"
    assert names("evil") == names() and names("-") == names() and names("created") == names()[::-1]


def test_a_searched_list_pages_and_sorts_with_the_forms_buttons(client, auth, db_session, monkeypatch):
    """A search holds a child's name, so its pages and orders are buttons of the posted form: the best match first
    until an order is asked for, which the pages then keep."""
    monkeypatch.setattr(listing, "PER_PAGE", PER_PAGE)
    officer = create_user("officer")
    _bulk_requests(officer, ROWS, last_name="Quillfeather")
    create_request(officer, first_name="Other", last_name="Person")
    auth.sign_in(officer)
    page = post_page(client, "/requests/", {"q": "Quillfeather"})
    assert "Showing 1 to 3 of 7 requests, best match first" in page.text and page.sorted_by("requests-table") is None
    header = page.find("button", attrs={"name": "sort", "value": "child"})
    assert header is not None and header["form"] == "request-filters"
    by_reference = post_page(client, "/requests/", {"q": "Quillfeather", "sort": "-child"})
    assert by_reference.sorted_by("requests-table") == ("Child", "descending")
    assert by_reference.find("input", attrs={"name": "current_sort", "value": "-child"}) is not None
    second = post_page(client, "/requests/", {"q": "Quillfeather", "current_sort": "-child", "page": "2"})
    assert second.pagination() == (2, 3) and second.sorted_by("requests-table") == ("Child", "descending")
    shown = [row[0] for n in (1, 2, 3) for row in post_page(
        client, "/requests/", {"q": "Quillfeather", "current_sort": "-child", "page": str(n)}).table_rows(
        "requests-table")]
    assert shown == sorted(shown, reverse=True) and len(set(shown)) == ROWS and "Other Person" not in shown
    assert not [href for href in second.hrefs(".*") if "Quill" in href]


def test_a_list_of_more_than_500_requests_shows_the_right_total(client, auth, db_session):
    """At the real page size: 523 requests are 11 pages of 50 (the list used to stop at 500)."""
    officer = create_user("officer")
    _bulk_requests(officer, 523)
    _bulk_requests(create_user("officer", la_code="E08000025"), 3)  # another LA's: never counted
    auth.sign_in(officer)
    first = get_page(client, "/requests/")
    assert first.testid("requests-count") == "Showing 1 to 50 of 523 requests"
    assert first.pagination() == (1, 11) and len(first.table_rows("requests-table")) == 50
    last = get_page(client, "/requests/?page=11")
    assert last.testid("requests-count") == "Showing 501 to 523 of 523 requests"
    assert len(last.table_rows("requests-table")) == 23
    searched = post_page(client, "/requests/", {"q": "Kid", "page": "11"})
    assert searched.pagination() == (11, 11) and len(searched.table_rows("requests-table")) == 23
    # The pagination shows the first, the last and the pages around the current one, with gaps between.
    middle = get_page(client, "/requests/?page=6")
    items = [re.sub(r"\s+", "", li.get_text()) for li in middle.select(".govuk-pagination__item")]
    assert items == ["1", "⋯", "5", "6", "7", "⋯", "11"]


def test_a_list_of_more_than_50_audit_events_and_referrals_shows_the_right_total(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    provider = create_provider()
    for req_ in _bulk_requests(officer, 61):
        create_referral(req_, provider)
    db_session.add_all([AuditEvent(user_id=officer.id, user_name=officer.name, role="officer",
                                   organisation=f"la:{COVENTRY}", record_type="placement_request",
                                   record_id=req.id, action="view") for _ in range(120)])
    db_session.commit()
    auth.sign_in(officer)
    log = get_page(client, f"/requests/{req.id}/access")  # this view is itself the 121st event
    assert log.testid("access-count") == "Showing 1 to 50 of 121 events, newest first"
    assert get_page(client, f"/requests/{req.id}/access?page=3").testid("access-count") == \
        "Showing 101 to 122 of 122 events, newest first"
    auth.sign_out()
    auth.sign_in(create_user("provider", provider=provider, provider_role="staff"))
    inbox = get_page(client, "/provider/")
    assert inbox.testid("referrals-count").startswith("Showing 1 to 50 of 61 referrals")
    assert len(get_page(client, "/provider/?page=2").table_rows("referrals-table")) == 11


def test_the_inbox_sorts_by_received_and_needed_by_and_filters_by_status(client, auth, db_session):
    officer = create_user("officer")
    provider = create_provider()
    vacancy = create_vacancy(create_setting(provider), places=3)
    soon, later, placed = (create_request(officer, needed_in_days=days, first_name=name) for days, name in
                           ((1, "Soon"), (8, "Later"), (2, "Placed")))
    placed.status = "placed"
    db_session.commit()
    refs = {name: create_referral(req, provider) for name, req in (("later", later), ("soon", soon),
                                                                   ("placed", placed))}
    for hours, name in ((3, "later"), (2, "soon"), (1, "placed")):  # received: later first, placed last
        refs[name].sent_at = utcnow() - timedelta(hours=hours)
    db_session.commit()
    create_offer(refs["later"], vacancy)
    ids = {name: ref.id for name, ref in refs.items()}
    auth.sign_in(create_user("provider", provider=provider, provider_role="staff"))

    def order(query: str = "") -> list[str]:
        page = get_page(client, "/provider/" + query)
        names = {v: k for k, v in ids.items()}
        return [names[key] for key in _row_keys(page, "referrals-table")]

    assert order() == ["soon", "later", "placed"]  # open first, then by the date needed
    assert order("?sort=-received") == ["placed", "soon", "later"]
    assert order("?sort=received") == ["later", "soon", "placed"]
    assert order("?sort=needed_by") == ["soon", "placed", "later"]
    assert order("?status=open") == ["soon", "later"]
    assert order("?status=unanswered") == ["soon"]
    assert order("?status=answered") == ["later"]
    assert order("?status=closed") == ["placed"]
    assert order("?status=closed&sort=-received") == ["placed"]
    page = get_page(client, "/provider/?sort=-received&status=open")
    assert page.sorted_by("referrals-table") == ("Received", "descending")
    assert page.find("input", attrs={"name": "sort", "value": "-received"}) is not None  # the filter keeps it


def test_placements_sort_by_start_date(client, auth, db_session, monkeypatch):
    from tests.placements.placement_factories import create_offer_placement, past

    officer = create_user("officer")
    provider = create_provider()
    manager = create_user("provider", provider=provider, provider_role="manager")
    for days, name in ((5, "Middle"), (9, "Oldest"), (1, "Newest")):
        create_offer_placement(officer, provider=provider, provider_user=manager, first_name=name,
                               start_date=past(days))
    auth.sign_in(officer)

    def names(query: str = "") -> list[str]:
        return [row[0].split()[0] for row in get_page(client, "/placements/" + query).table_rows("placements-table")]

    assert names() == ["Newest", "Middle", "Oldest"]
    assert names("?sort=start") == ["Oldest", "Middle", "Newest"]
    assert get_page(client, "/placements/?sort=start").sorted_by("placements-table") == ("Started", "ascending")
    assert names("?sort=start&status=ended") == []


def test_the_provider_lists_filter(client, auth, db_session):
    provider = create_provider()
    admin = create_user("provider", provider=provider)
    open_home = create_setting(provider, name="Open home", fee_gbp_week="900")
    closed_home = create_setting(provider, name="Closed home", kind="residential", fee_gbp_week="4000")
    closed_home.active = False
    db_session.commit()
    live = create_vacancy(open_home)
    gone = create_vacancy(open_home, status="withdrawn")
    officer = create_user("officer")
    offered = create_offer(create_referral(create_request(officer), provider), live)
    withdrawn = create_offer(create_referral(create_request(officer), provider), live)
    withdrawn.status = "withdrawn"
    db_session.commit()
    ids = (live.id, gone.id, offered.id, withdrawn.id)
    auth.sign_in(admin)

    def settings(query: str) -> list[str]:
        return [row[0].split(" ")[0] for row in get_page(client, "/provider/settings" + query).table_rows(
            "settings-table")]

    assert settings("") == ["Closed", "Open"] and settings("?status=open") == ["Open"]
    assert settings("?status=closed") == ["Closed"] and settings("?kind=residential") == ["Closed"]
    assert settings("?sort=-fee") == ["Closed", "Open"] and settings("?sort=fee") == ["Open", "Closed"]
    assert "None of your settings match" in get_page(client, "/provider/settings?status=open&kind=residential").text
    assert _row_keys(get_page(client, "/provider/vacancies"), "vacancies-table") == [ids[0]]
    assert _row_keys(get_page(client, "/provider/vacancies?show=closed"), "vacancies-table") == [ids[1]]
    assert set(_row_keys(get_page(client, "/provider/offers"), "offers-table")) == {ids[2], ids[3]}
    assert _row_keys(get_page(client, "/provider/offers?status=withdrawn"), "offers-table") == [ids[3]]
    assert "No offers match" in get_page(client, "/provider/offers?status=accepted").text


def test_the_provider_offers_page_keeps_children_anonymous_and_shows_only_its_own(client, auth, db_session):
    officer = create_user("officer")
    mine, theirs = create_provider(name="Arden Fostering"), create_provider(name="Marches Care")
    req = create_request(officer, first_name="Zephyrine", last_name="Quillfeather")
    create_offer(create_referral(req, mine), create_vacancy(create_setting(mine, name="Willow household")))
    other = create_offer(create_referral(req, theirs), create_vacancy(create_setting(theirs, name="Rival house")))
    auth.sign_in(create_user("provider", provider=mine, provider_role="staff"))
    page = get_page(client, "/provider/offers")
    assert page.testid("offers-count") == "1 offer"
    assert "Willow household" in page.text and "Female, age 12" in page.text and "From Coventry" in page.text
    for secret in ("Zephyrine", "Quillfeather", req.child_reference, "Rival house", other.id):
        assert secret not in page.html


def test_admin_people_filter_by_account_and_sort(client, auth, db_session):
    admin = create_user("admin", la_code=None, name="Hana Hub")
    gone = create_user("officer", name="Gone Person")
    gone.active = False
    fresh = create_user("officer", name="Fresh Person")
    fresh.mfa_enrolled_at = None
    db_session.commit()
    auth.sign_in(admin)

    def names(query: str) -> list[str]:
        return [row[0].split(" ")[0] for row in get_page(client, "/admin/people" + query).table_rows("people")]

    assert names("") == ["Fresh", "Gone", "Hana"]
    assert names("?sort=-name") == ["Hana", "Gone", "Fresh"]
    assert names("?status=deactivated") == ["Gone"] and names("?status=no_mfa") == ["Fresh"]
    assert names("?status=active") == ["Hana"]
    assert names("?sort=-signed_in")[0] == "Hana"  # the only one who has signed in; never: last
    assert names("?role=admin&status=evil") == ["Hana"]


def test_the_audit_search_counts_every_matching_event(client, auth, db_session):
    admin = create_user("admin", la_code=None)
    db_session.add_all([AuditEvent(user_id=admin.id, user_name=admin.name, role="admin", organisation="region",
                                   record_type="test", action="counted") for _ in range(53)])
    db_session.commit()
    auth.sign_in(admin)
    page = get_page(client, "/admin/audit?action=counted")
    assert page.testid("audit-count") == "Showing 1 to 50 of 53 events, newest first"
    second = get_page(client, "/admin/audit?action=counted&page=2")
    assert second.testid("audit-count") == "Showing 51 to 53 of 53 events, newest first"
    assert all("action=counted" in href for href in page.hrefs(r"page="))  # the search is kept


def test_paged_results_never_show_another_organisations_rows(client, auth, db_session, monkeypatch):
    """Paging and sorting change which of *your* rows a page shows, never whose."""
    monkeypatch.setattr(listing, "PER_PAGE", 2)
    officer = create_user("officer")
    _bulk_requests(officer, 3)
    elsewhere = _bulk_requests(create_user("officer", la_code="E08000025"), 5)
    auth.sign_in(officer)
    seen = "".join(get_page(client, f"/requests/?page={n}&sort={sort}").html
                   for n in (1, 2, 3, 99) for sort in ("child", "-needed_by", "urgency"))
    assert not [r for r in elsewhere if r.child_reference in seen]


def test_the_listing_helpers(monkeypatch):
    """The pieces every list uses, on their own."""
    assert [listing.page_number(v) for v in ("3", " 7 ", None, "", "x", "0", "-1", "100000", "100001")] == \
        [3, 7, 1, 1, 1, 1, 1, 100000, 1]
    keys = ("created", "needed_by")
    assert listing.sort_choice("-needed_by", keys, "-created") == listing.Sort("needed_by", True)
    assert listing.sort_choice("needed_by", keys, "-created") == listing.Sort("needed_by", False)
    for bad in (None, "", "-", "--needed_by", "evil", "needed_by ", 42):
        assert listing.sort_choice(bad, keys, "-created") in (listing.Sort("created", True),
                                                                listing.Sort("needed_by", False)), bad
    assert listing.sort_choice("evil", keys, "-created").value == "-created"
    with pytest.raises(ValueError):
        listing.sort_choice("x", keys, "nothing")
    paged = listing.paginate_rows(list(range(10)), page=99, per_page=4)
    assert (paged.items, paged.page, paged.pages, paged.first, paged.last) == ([8, 9], 3, 3, 9, 10)
    empty = listing.paginate_rows([], page=5, per_page=4)
    assert (empty.page, empty.pages, empty.first, empty.last, bool(empty)) == (1, 1, 0, 0, False)
    assert listing.Paged(list(range(50)), 5000, 50, 50).numbers == [1, None, 49, 50, 51, None, 100]
    assert listing.Paged([1], 3, 2, 1).numbers == [1, 2, 3]
    page = listing.ListPage(paged, listing.Sort("needed_by"), "x", args={"status": None, "q": ""},
                            default_sort="-created")
    assert page.link_args == {"sort": "needed_by"}
    assert page.next_sort("needed_by") == "-needed_by" and page.next_sort("updated", True) == "-updated"
    assert listing.choice("open", {"open": 1}) == "open" and listing.choice(["open"], {"open": 1}) is None
