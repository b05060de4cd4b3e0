"""The officer's list: own LA only, filters by status, urgency and age, search by reference or name with typos."""

from tests.factories import BIRMINGHAM, create_request, create_user
from tests.pages import Page


def _names(response) -> str:
    """The text of the requests table's rows (empty when the page shows no table)."""
    assert response.status_code == 200
    return " ".join(" ".join(row) for row in Page(response.get_data(as_text=True)).table_rows("requests-table"))


def test_filters_and_typo_tolerant_search(client, auth, db_session):
    officer = create_user("officer")
    create_request(officer, first_name="Amara", last_name="Okafor", age=12, urgency="today")
    create_request(officer, first_name="Jayden", last_name="Smith", age=5, urgency="over_5_days", status="draft")
    create_request(create_user("officer", la_code=BIRMINGHAM), first_name="Brummie", last_name="Child")
    auth.sign_in(officer)

    everything = _names(client.get("/requests/"))
    assert "Amara" in everything and "Jayden" in everything and "Brummie" not in everything
    assert "Jayden" not in _names(client.post("/requests/", data={"q": "Amara Okafr"}))  # typo still finds Amara
    assert "Amara" in _names(client.post("/requests/", data={"q": "Amara Okafr"}))
    assert "Amara" in _names(client.post("/requests/", data={"q": "okafor"}))
    assert "Brummie" not in _names(client.post("/requests/", data={"q": "Brummie"}))
    only_drafts = _names(client.post("/requests/", data={"status": "draft"}))
    assert "Jayden" in only_drafts and "Amara" not in only_drafts
    today = _names(client.post("/requests/", data={"urgency": "today"}))
    assert "Amara" in today and "Jayden" not in today
    teens = _names(client.post("/requests/", data={"age_min": "10", "age_max": "17"}))
    assert "Amara" in teens and "Jayden" not in teens


def test_search_is_never_in_the_url(client, auth, db_session):
    """A search holds a child's name: the filter form posts it, so it never reaches a URL or an access log."""
    auth.sign_in(create_user("officer"))
    page = Page(client.get("/requests/").get_data(as_text=True))
    [filters] = page.select("form.app-filters")
    assert filters["method"] == "post"
    assert filters.find(attrs={"name": "q"}) is not None


def test_bad_filters_are_a_400_with_a_message(client, auth, db_session):
    auth.sign_in(create_user("officer"))
    for query, message in [({"age_min": "abc"}, "Not a valid integer value"),
                           ({"age_min": "30"}, "Enter an age from 0 to 18"),
                           ({"age_min": "10", "age_max": "5"}, "The oldest age must be"),
                           ({"status": "lost"}, "Not a valid choice")]:
        response = client.post("/requests/", data=query)
        assert response.status_code == 400, query
        page = Page(response.get_data(as_text=True))
        assert any(message in error for error in page.errors), (query, page.errors)
        assert page.value("age_min") == query.get("age_min", page.value("age_min"))  # typed input kept


def test_the_list_is_paged_with_its_total_and_keeps_the_filters(client, auth, db_session, monkeypatch):
    """Nothing is cut silently (issue 11 §4): every request is on some page, the total is shown; a filtered list
    pages with the form's own buttons, so the search never goes into a URL."""
    from portal import listing
    from tests.factories import create_request, create_user
    from tests.pages import Page

    monkeypatch.setattr(listing, "PER_PAGE", 2)
    officer = create_user("officer")
    for n in range(5):
        create_request(officer, first_name=f"Zed{n}", last_name="Quill" if n % 2 else "Marsh")
    auth.sign_in(officer)
    seen = []
    for number in (1, 2, 3):
        page = Page(client.get(f"/requests/?page={number}").get_data(as_text=True))
        assert page.pagination() == (number, 3)
        seen += [row[0] for row in page.table_rows("requests-table")]
    assert page.testid("requests-count") == "Showing 5 to 5 of 5 requests"
    assert sorted(name.split()[0] for name in seen) == [f"Zed{n}" for n in range(5)]  # each once
    filtered = Page(client.post("/requests/", data={"q": "Zed", "status": "searching"}).get_data(as_text=True))
    assert filtered.pagination() == (1, 3)
    assert 'form="request-filters" name="page" value="2"' in filtered.html
    second = Page(client.post("/requests/", data={"q": "Zed", "status": "searching", "page": "2"})
                  .get_data(as_text=True))
    assert second.pagination() == (2, 3)
    assert 'name="page" value="1"' in second.html and 'name="page" value="3"' in second.html
    assert not [href for href in second.hrefs(r".*") if "Zed" in href or "q=" in href]  # the search stays out of URLs
    assert len(second.table_rows("requests-table")) == 2
    assert client.get("/requests/?page=99").status_code == 200  # past the end: the last page
    assert Page(client.get("/requests/?page=99").get_data(as_text=True)).pagination() == (3, 3)
